/**
 * The milestone commands a viewer may take now. Which ones is decided by the domain's MILESTONE_PROCESS table
 * (availableCommands(state, role)); this file only gives each command its form.
 */
import { useState } from 'react'
import {
  availableCommands,
  MILESTONE_PROCESS,
  type MilestoneCommandName,
} from '../../../../src/domain/milestone-process.ts'
import { api } from '../../api/sdk'
import type { Milestone } from '../../api/types'
import { useAction } from '../../lib/action'
import { approvalPreview, fundingCharge } from '../../lib/fees'
import { money, parseMoney, toMajorInput } from '../../lib/format'
import { Checkbox, ErrorNote, type Errors, errorFor, SelectField, TextArea } from '../ui'
import { type FormProps, Frame } from './ActionFrame'
import { ApproveForm } from './ApproveForm'
import { contractKeys, openEntries, useContractView } from './context'
import { MoneyInput } from './MoneyInput'

/** Commands a person takes from a button here (system transitions and `cancel` never show). */
export const COMMAND_LABEL: Partial<Record<MilestoneCommandName, string>> = {
  fund: 'Fund',
  submit: 'Submit work',
  approve: 'Approve and release',
  request_changes: 'Request changes',
  request_refund: 'Request a refund',
  refund: 'Refund the client',
  accept_refund: 'Accept the refund',
  decline_refund: 'Decline the refund',
  open_dispute: 'Open a dispute',
}

/** The commands the viewer may take on `m` now, in the table's order. */
export function commandsFor(
  m: Milestone,
  role: 'client' | 'freelancer' | null,
  contractActive: boolean,
): MilestoneCommandName[] {
  if (!role || !contractActive) return []
  return availableCommands(m.state, role).filter((c) => COMMAND_LABEL[c] !== undefined)
}

export const commandDoc = (c: MilestoneCommandName) => MILESTONE_PROCESS[c].doc

const PAYMENT_METHODS = [
  { value: 'pm_sandbox_ok', label: 'Sandbox card (succeeds)' },
  { value: 'pm_sandbox_decline', label: 'Sandbox card that is declined' },
]

export function ActionForm({ command, m, onDone }: FormProps & { command: MilestoneCommandName }) {
  switch (command) {
    case 'fund':
      return <FundForm m={m} onDone={onDone} />
    case 'submit':
      return <SubmitForm m={m} onDone={onDone} />
    case 'approve':
      return <ApproveForm m={m} onDone={onDone} />
    case 'request_changes':
      return <RequestChangesForm m={m} onDone={onDone} />
    case 'request_refund':
      return <ReasonForm m={m} onDone={onDone} kind="request_refund" />
    case 'refund':
      return <ReasonForm m={m} onDone={onDone} kind="refund" />
    case 'accept_refund':
    case 'decline_refund':
      return <RefundAnswerForm m={m} onDone={onDone} accept={command === 'accept_refund'} />
    case 'open_dispute':
      return <DisputeForm m={m} onDone={onDone} />
    default:
      return null
  }
}

function FundForm({ m, onDone }: FormProps) {
  const { c } = useContractView()
  const [pm, setPm] = useState('pm_sandbox_ok')
  const fund = useAction((_: undefined, key) => api.fund(m.id, pm, key), {
    invalidate: contractKeys(c.id),
    onSuccess: onDone,
  })
  const charge = fundingCharge(c, m.amount)
  return (
    <Frame
      title={`Fund “${m.title}”`}
      onSubmit={() => void fund.run()}
      onCancel={onDone}
      busy={fund.pending}
      submit={`Pay ${money(charge.total, c.currency)} into escrow`}
    >
      <p>
        {money(m.amount, c.currency)} + client fee {money(charge.fee, c.currency)} ={' '}
        <strong>{money(charge.total, c.currency)}</strong>. Your available credit is used first, then the card.
        {m.deposit
          ? ' This is the deposit: it is released to the freelancer as soon as it is funded.'
          : ' It stays in escrow until you release it, the review window lapses, or a dispute is decided.'}
      </p>
      <SelectField
        label="Payment method"
        value={pm}
        onChange={setPm}
        options={PAYMENT_METHODS}
        error={errorFor('payment_method', {}, fund.error)}
      />
      <ErrorNote currency={c.currency} error={fund.error} fields={['payment_method']} />
    </Frame>
  )
}

function SubmitForm({ m, onDone }: FormProps) {
  const { c } = useContractView()
  const [message, setMessage] = useState('')
  const [links, setLinks] = useState('')
  const open = openEntries(m)
  const [entries, setEntries] = useState<number[]>(open)
  const [errors, setErrors] = useState<Errors>({})
  const submit = useAction(
    (_: undefined, key) => {
      const list = links
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
      return api.submit(
        m.id,
        { message, ...(list.length ? { links: list } : {}), ...(c.payment_mode === 'by_entry' ? { entries } : {}) },
        key,
      )
    },
    { invalidate: contractKeys(c.id), onSuccess: onDone },
  )
  const go = () => {
    const e: Errors = {}
    if (!message.trim()) e.message = 'Tell the client what you delivered.'
    else if (message.length > 10_000) e.message = 'At most 10,000 characters.'
    const list = links
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
    if (list.length > 50) e.links = 'At most 50 links.'
    if (list.some((l) => l.length > 2000)) e.links = 'A link has at most 2,000 characters.'
    if (c.payment_mode === 'by_entry' && entries.length === 0) e.entries = 'Pick the entries you deliver.'
    setErrors(e)
    if (!Object.keys(e).length) void submit.run()
  }
  return (
    <Frame
      title={`Submit “${m.title}”`}
      onSubmit={go}
      onCancel={onDone}
      busy={submit.pending}
      submit="Submit for review"
    >
      <p className="muted">
        The client has {c.review_days} days to review; then the escrow is released to you automatically.
      </p>
      <TextArea
        label="Message to the client"
        name="message"
        value={message}
        onChange={setMessage}
        error={errorFor('message', errors, submit.error)}
      />
      <TextArea
        label="Links (one per line)"
        name="links"
        rows={2}
        value={links}
        onChange={setLinks}
        error={errorFor('links', errors, submit.error)}
        placeholder="https://…"
      />
      {c.payment_mode === 'by_entry' && (
        <fieldset className="entries">
          <legend>{c.unit_name ?? 'Entries'} delivered</legend>
          {open.map((n) => (
            <Checkbox
              key={n}
              label={`#${n}`}
              checked={entries.includes(n)}
              onChange={(v) => setEntries(v ? [...entries, n].sort((a, b) => a - b) : entries.filter((x) => x !== n))}
            />
          ))}
          {errorFor('entries', errors, submit.error) && (
            <div className="field-error">{errorFor('entries', errors, submit.error)}</div>
          )}
        </fieldset>
      )}
      <ErrorNote currency={c.currency} error={submit.error} fields={['message', 'links', 'entries']} />
    </Frame>
  )
}

function RequestChangesForm({ m, onDone }: FormProps) {
  const { c } = useContractView()
  const [message, setMessage] = useState('')
  const [errors, setErrors] = useState<Errors>({})
  const changes = useAction((_: undefined, key) => api.requestChanges(m.id, message, key), {
    invalidate: contractKeys(c.id),
    onSuccess: onDone,
  })
  const go = () => {
    const e: Errors = {}
    if (!message.trim()) e.message = 'Say what needs to change.'
    setErrors(e)
    if (!Object.keys(e).length) void changes.run()
  }
  return (
    <Frame
      title={`Request changes on “${m.title}”`}
      onSubmit={go}
      onCancel={onDone}
      busy={changes.pending}
      submit="Request changes"
    >
      <p className={m.revisions_left === 0 ? 'callout warn' : 'muted'}>
        {m.revisions_left === 0
          ? 'All revisions are used: approve the milestone (fully or partly) or open a dispute.'
          : `${m.revisions_left} of ${c.revision_limit} revisions left. The review clock stops until the freelancer resubmits.`}
      </p>
      <TextArea
        label="What should change"
        name="message"
        value={message}
        onChange={setMessage}
        error={errorFor('message', errors, changes.error)}
      />
      <ErrorNote currency={c.currency} error={changes.error} fields={['message']} />
    </Frame>
  )
}

function ReasonForm({ m, onDone, kind }: FormProps & { kind: 'request_refund' | 'refund' }) {
  const { c } = useContractView()
  const [reason, setReason] = useState('')
  const [errors, setErrors] = useState<Errors>({})
  const act = useAction(
    (_: undefined, key) => (kind === 'refund' ? api.refund(m.id, reason, key) : api.requestRefund(m.id, reason, key)),
    {
      invalidate: contractKeys(c.id),
      onSuccess: onDone,
    },
  )
  // a refund request names the escrow (its `amount`); the client fee held with it goes back too
  const escrow = money(m.escrow_amount, c.currency)
  const withFee = m.escrow_fee_amount > 0 ? ` with its client fee of ${money(m.escrow_fee_amount, c.currency)}` : ''
  const go = () => {
    const e: Errors = {}
    if (kind === 'request_refund' && !reason.trim()) e.reason = 'Give a reason.'
    setErrors(e)
    if (!Object.keys(e).length) void act.run()
  }
  return (
    <Frame
      title={kind === 'refund' ? `Refund “${m.title}”` : `Ask for a refund of “${m.title}”`}
      onSubmit={go}
      onCancel={onDone}
      busy={act.pending}
      submit={kind === 'refund' ? `Refund ${escrow}` : 'Request the refund'}
      danger
    >
      <p>
        {kind === 'refund'
          ? `The client gets back the escrow of ${escrow}${withFee}. This cannot be undone.`
          : `You ask for the escrow of ${escrow} back${withFee}. The freelancer has 7 days to accept or decline — a decline opens a dispute; silence means the refund goes through.`}
      </p>
      <TextArea
        label={kind === 'refund' ? 'Reason (optional)' : 'Reason'}
        name="reason"
        value={reason}
        onChange={setReason}
        error={errorFor('reason', errors, act.error)}
      />
      <ErrorNote currency={c.currency} error={act.error} fields={['reason']} />
    </Frame>
  )
}

function RefundAnswerForm({ m, onDone, accept }: FormProps & { accept: boolean }) {
  const { c } = useContractView()
  const rr = c.refund_requests.find((r) => r.id === m.refund_request_id)
  const [reason, setReason] = useState('')
  const act = useAction(
    (_: undefined, key) => api.refundRequest(accept ? 'accept' : 'decline', m.refund_request_id!, reason, key),
    {
      invalidate: contractKeys(c.id),
      onSuccess: onDone,
    },
  )
  return (
    <Frame
      title={accept ? 'Accept the refund request' : 'Decline the refund request'}
      onSubmit={() => void act.run()}
      onCancel={onDone}
      busy={act.pending}
      submit={accept ? 'Accept: refund the client' : 'Decline: open a dispute'}
      danger={accept}
    >
      {rr && (
        <p>
          The client asks for {money(rr.amount, c.currency)} back: “{rr.reason.replace(/\.$/, '')}”.{' '}
          {accept
            ? 'The escrow goes back to the client.'
            : 'A dispute opens, proposing the full release of the escrow to you; the client has 5 days to answer.'}
        </p>
      )}
      <TextArea
        label="Reason (optional)"
        name="reason"
        rows={2}
        value={reason}
        onChange={setReason}
        error={errorFor('reason', {}, act.error)}
      />
      <ErrorNote currency={c.currency} error={act.error} fields={['reason']} />
    </Frame>
  )
}

function DisputeForm({ m, onDone }: FormProps) {
  const { c, role } = useContractView()
  const [reason, setReason] = useState('')
  const [release, setRelease] = useState(role === 'freelancer' ? toMajorInput(m.escrow_amount, c.currency) : '0')
  const [errors, setErrors] = useState<Errors>({})
  const releaseMinor = parseMoney(release, c.currency)
  const open = useAction(
    (_: undefined, key) => api.openDispute(m.id, { reason, release_amount: releaseMinor ?? 0 }, key),
    {
      invalidate: contractKeys(c.id),
      onSuccess: onDone,
    },
  )
  const go = () => {
    const e: Errors = {}
    if (!reason.trim()) e.reason = 'Say what the dispute is about.'
    if (releaseMinor === null || releaseMinor < 0)
      e.release_amount = 'Enter the amount you propose to release (0 or more).'
    else if (releaseMinor > m.escrow_amount)
      e.release_amount = `At most ${money(m.escrow_amount, c.currency)} is in escrow.`
    setErrors(e)
    if (!Object.keys(e).length) void open.run()
  }
  const p = approvalPreview(c, m, releaseMinor ?? 0, 0, 'refund')
  return (
    <Frame
      title={`Open a dispute on “${m.title}”`}
      onSubmit={go}
      onCancel={onDone}
      busy={open.pending}
      submit="Open the dispute"
      danger
    >
      <p className="muted">
        Free small-claims route: the other side has 5 days to answer with its own proposal, or yours applies. Then 14
        days to agree, or the admin decides.
      </p>
      <TextArea
        label="Reason"
        name="reason"
        value={reason}
        onChange={setReason}
        error={errorFor('reason', errors, open.error)}
      />
      <MoneyInput
        label="Release to the freelancer"
        name="release_amount"
        currency={c.currency}
        value={release}
        onChange={setRelease}
        error={errorFor('release_amount', errors, open.error, c.currency)}
        hint={`Of ${money(m.escrow_amount, c.currency)} in escrow. The freelancer would get ${money(p.freelancerNet, c.currency)} after fees; the client ${money(p.refundToClient, c.currency)} back.`}
      />
      <ErrorNote currency={c.currency} error={open.error} fields={['reason', 'release_amount']} />
    </Frame>
  )
}
