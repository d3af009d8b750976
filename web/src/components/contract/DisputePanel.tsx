/**
 * A dispute (SPEC §6): who opened it and why, the deadline running (in the viewer's time zone), the proposals with
 * what each side would get, and the moves open to the viewer: propose, accept, escalate — or, for the admin in
 * arbitration, decide.
 */
import { useState } from 'react'
import { api } from '../../api/sdk'
import type { Dispute, Milestone } from '../../api/types'
import { useAction } from '../../lib/action'
import { resolutionPreview } from '../../lib/fees'
import { dateTime, money, parseMoney } from '../../lib/format'
import { Badge, Button, Countdown, ErrorNote, type Errors, errorFor, TextArea } from '../ui'
import { contractKeys, partyName, useContractView } from './context'
import { MoneyInput } from './MoneyInput'

export function DisputePanel({ d, m }: { d: Dispute; m: Milestone }) {
  const v = useContractView()
  const { c, me, role, isAdmin } = v
  const tz = me.time_zone
  const inv = { invalidate: [...contractKeys(c.id), ['admin-disputes']] }
  const accept = useAction((pid: string, key) => api.acceptProposal(d.id, pid, key), inv)
  const escalate = useAction((_: undefined, key) => api.escalate(d.id, key), inv)
  const live = d.status === 'awaiting_response' || d.status === 'negotiation'
  const responder = d.opened_by === c.client_id ? c.freelancer_id : c.client_id
  const split = (r: number) => {
    // The escrow at the dispute's opening; the preview uses the milestone's held fee as it is now.
    const p = resolutionPreview(c, { ...m, escrow_amount: d.escrow_amount }, r)
    return `freelancer gets ${money(p.freelancerNet, c.currency)}, client gets back ${money(p.refundToClient, c.currency)}`
  }
  return (
    <section className="dispute" aria-label="Dispute">
      <div className="dispute-head">
        <h4>Dispute</h4>
        <Badge state={d.status} />
      </div>
      <p>
        Opened by {partyName(v, d.opened_by)} over {money(d.escrow_amount, c.currency)}: “{d.reason}”
      </p>
      {d.status === 'awaiting_response' && (
        <p className="deadline">
          {responder === me.id ? 'You' : partyName(v, responder)} must answer with a proposal{' '}
          <Countdown to={d.response_deadline} exact={dateTime(d.response_deadline, tz)} /> (
          {dateTime(d.response_deadline, tz)}) — otherwise the opening proposal applies.
        </p>
      )}
      {d.status === 'negotiation' && d.negotiation_deadline && (
        <p className="deadline">
          Goes to arbitration <Countdown to={d.negotiation_deadline} exact={dateTime(d.negotiation_deadline, tz)} /> (
          {dateTime(d.negotiation_deadline, tz)}) without an agreement.
        </p>
      )}
      {d.status === 'arbitration' && <p className="deadline">With the admin for a decision. The decision is final.</p>}
      {d.resolution && (
        <p className="callout success">
          Resolved by {d.resolution.by}: {money(d.resolution.release_amount, c.currency)} released,{' '}
          {money(d.resolution.refund_amount, c.currency)} refunded
          {d.resolution.note ? ` — “${d.resolution.note}”` : ''}.
        </p>
      )}
      <ol className="proposals">
        {d.proposals.map((p) => {
          const mine = p.by === me.id || (isAdmin && p.by === 'admin')
          const canAccept = live && role && p.status === 'open' && p.by !== me.id && !p.accepted_by.includes(me.id)
          return (
            <li key={p.id} className={`proposal proposal-${p.status}`}>
              <div>
                <strong>{mine ? 'You' : partyName(v, p.by).replace(/^the /, 'The ')}</strong> proposed releasing{' '}
                <strong>{money(p.release_amount, c.currency)}</strong>{' '}
                {/* the split is a preview from the fee held now: once resolved, the resolution above tells it */}
                {!d.resolution && <span className="muted">({split(p.release_amount)})</span>} <Badge state={p.status} />
              </div>
              {p.message && p.message !== d.reason && <div className="muted">“{p.message}”</div>}
              <div className="muted small">{dateTime(p.created_at, tz)}</div>
              {canAccept && (
                <Button busy={accept.pending} onClick={() => void accept.run(p.id)} className="small">
                  Accept this proposal
                </Button>
              )}
            </li>
          )
        })}
      </ol>
      <ErrorNote error={accept.error ?? escalate.error} currency={c.currency} />
      {live && (role || isAdmin) && <ProposalForm d={d} />}
      {live && role && (
        <Button kind="secondary" busy={escalate.pending} onClick={() => void escalate.run()}>
          Escalate to the admin
        </Button>
      )}
      {d.status === 'arbitration' && isAdmin && <DecideForm d={d} m={m} />}
    </section>
  )
}

function ProposalForm({ d }: { d: Dispute }) {
  const { c } = useContractView()
  const [amount, setAmount] = useState('')
  const [message, setMessage] = useState('')
  const [errors, setErrors] = useState<Errors>({})
  const propose = useAction(
    (r: number, key) => api.propose(d.id, { release_amount: r, ...(message ? { message } : {}) }, key),
    {
      invalidate: [...contractKeys(c.id), ['admin-disputes']],
      onSuccess: () => {
        setAmount('')
        setMessage('')
      },
    },
  )
  const go = () => {
    const r = parseMoney(amount, c.currency)
    const e: Errors = {}
    if (r === null || r < 0) e.release_amount = 'Enter the amount to release to the freelancer.'
    else if (r > d.escrow_amount) e.release_amount = `At most ${money(d.escrow_amount, c.currency)}.`
    setErrors(e)
    if (r !== null && !Object.keys(e).length) void propose.run(r)
  }
  return (
    <form
      className="action-form inline"
      aria-label="Make a proposal"
      noValidate
      onSubmit={(e) => {
        e.preventDefault()
        go()
      }}
    >
      <MoneyInput
        label="Propose releasing"
        name="release_amount"
        currency={c.currency}
        value={amount}
        onChange={setAmount}
        error={errorFor('release_amount', errors, propose.error, c.currency)}
      />
      <TextArea
        label="Message"
        name="message"
        rows={2}
        value={message}
        onChange={setMessage}
        error={errorFor('message', errors, propose.error)}
      />
      <ErrorNote error={propose.error} fields={['release_amount', 'message']} currency={c.currency} />
      <Button type="submit" kind="secondary" busy={propose.pending}>
        Send proposal
      </Button>
    </form>
  )
}

function DecideForm({ d, m }: { d: Dispute; m: Milestone }) {
  const { c } = useContractView()
  const [amount, setAmount] = useState('')
  const [note, setNote] = useState('')
  const [errors, setErrors] = useState<Errors>({})
  const r = parseMoney(amount, c.currency)
  const decide = useAction((body: { release_amount: number; note: string }, key) => api.decide(d.id, body, key), {
    invalidate: [...contractKeys(c.id), ['admin-disputes'], ['admin-revenue']],
  })
  const go = () => {
    const e: Errors = {}
    if (r === null || r < 0) e.release_amount = 'Enter the amount released to the freelancer (0 for a full refund).'
    else if (r > d.escrow_amount) e.release_amount = `At most ${money(d.escrow_amount, c.currency)}.`
    if (!note.trim()) e.note = 'Explain the decision; both parties see it.'
    setErrors(e)
    if (r !== null && !Object.keys(e).length) void decide.run({ release_amount: r, note })
  }
  const p =
    r !== null && r <= d.escrow_amount ? resolutionPreview(c, { ...m, escrow_amount: d.escrow_amount }, r) : null
  return (
    <form
      className="action-form"
      aria-label="Decide the dispute"
      noValidate
      onSubmit={(e) => {
        e.preventDefault()
        go()
      }}
    >
      <h4>Decide (arbitration)</h4>
      <MoneyInput
        label="Release to the freelancer"
        name="release_amount"
        currency={c.currency}
        value={amount}
        onChange={setAmount}
        error={errorFor('release_amount', errors, decide.error, c.currency)}
        hint={
          p
            ? `Freelancer gets ${money(p.freelancerNet, c.currency)} after fees; the client gets ${money(p.refundToClient, c.currency)} back.`
            : `Of ${money(d.escrow_amount, c.currency)} in escrow.`
        }
      />
      <TextArea
        label="Decision note"
        name="note"
        value={note}
        onChange={setNote}
        error={errorFor('note', errors, decide.error)}
      />
      <ErrorNote error={decide.error} fields={['release_amount', 'note']} currency={c.currency} />
      <Button type="submit" busy={decide.pending}>
        Decide
      </Button>
    </form>
  )
}
