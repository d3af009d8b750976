/**
 * The contract page: the money (escrow, released, refunded), the exposure panel, the counterparty's reputation, the
 * milestone timeline with the moves the viewer may make now, funding several at once, amendments, ending early.
 */
import { useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { useParams } from 'react-router'
import { api } from '../api/sdk'
import type { Contract, Reputation } from '../api/types'
import { Amendments } from '../components/contract/Amendments'
import { ContractCtx, type ContractView, contractKeys, useContractView } from '../components/contract/context'
import { MilestoneCard } from '../components/contract/MilestoneCard'
import { PartiesLine } from '../components/Parties'
import {
  Badge,
  Button,
  Checkbox,
  Countdown,
  ErrorNote,
  errorFor,
  Loading,
  Money,
  SelectField,
  Stat,
  TextArea,
} from '../components/ui'
import { useAction } from '../lib/action'
import { fundingCharge } from '../lib/fees'
import { dateTime, MODE_LABEL, money } from '../lib/format'
import { useUser } from '../session'

export function ContractPage() {
  const { id = '' } = useParams()
  const me = useUser()
  const q = useQuery({ queryKey: ['contract', id], queryFn: () => api.contract(id) })
  if (q.isPending) return <Loading what="Loading the contract" />
  if (!q.data) return <ErrorNote error={q.error as never} />
  const c = q.data
  const role = c.client_id === me.id ? 'client' : c.freelancer_id === me.id ? 'freelancer' : null
  const view: ContractView = { c, me, role, isAdmin: me.is_admin }
  return (
    <ContractCtx.Provider value={view}>
      <section className="page contract-page">
        <div className="page-head">
          <div>
            <p className="eyebrow">
              Contract · {role ? `you are the ${role}` : 'admin view'} · {MODE_LABEL[c.payment_mode]}
            </p>
            <h1>{c.title}</h1>
          </div>
          <Badge state={c.status} />
        </div>
        <PartiesLine parties={c.parties} me={me} />
        {c.description && <p className="lead prewrap">{c.description}</p>}
        <Totals c={c} />
        <div className="grid-2">
          <Exposure />
          <CounterpartyReputation />
        </div>
        {role === 'client' && c.status === 'active' && <FundSeveral />}
        <section className="card" aria-labelledby="timeline-h">
          <h2 id="timeline-h">Milestones</h2>
          <ol className="timeline">
            {c.milestones.map((m) => (
              <MilestoneCard key={m.id} m={m} />
            ))}
          </ol>
        </section>
        <Amendments />
        {role && c.status === 'active' && <EndContract />}
        <p className="muted small">
          Fees fixed for this contract: client fee {c.client_fee_bps / 100}% on funding · service fee{' '}
          {c.service_fee_bps / 100}% on releases · review window {c.review_days} days · {c.revision_limit} revisions per
          milestone · created {dateTime(c.created_at, me.time_zone)}
        </p>
      </section>
    </ContractCtx.Provider>
  )
}

function Totals({ c }: { c: Contract }) {
  const t = c.totals
  return (
    <section className="stats" aria-label="Money on this contract">
      <Stat label="Contract total">
        <Money amount={t.amount} currency={c.currency} />
      </Stat>
      <Stat label="In escrow" tone="escrow">
        <Money amount={t.in_escrow} currency={c.currency} />
      </Stat>
      <Stat label="Released" tone="released">
        <Money amount={t.released} currency={c.currency} />
      </Stat>
      <Stat label="Refunded" tone="refunded">
        <Money amount={t.refunded} currency={c.currency} />
      </Stat>
      {t.bonus > 0 && (
        <Stat label="Bonuses">
          <Money amount={t.bonus} currency={c.currency} />
        </Stat>
      )}
    </section>
  )
}

function Exposure() {
  const { c, role, me } = useContractView()
  const x = c.exposure
  const cur = c.currency
  return (
    <section className="card exposure" aria-labelledby="exp-h">
      <h2 id="exp-h">Exposure</h2>
      {role === 'freelancer' || !role ? (
        <dl className="facts">
          <div>
            <dt>Submitted, awaiting release</dt>
            <dd>{money(x.freelancer.submitted_awaiting_release, cur)}</dd>
          </div>
          <div>
            <dt>Protected in escrow</dt>
            <dd>{money(x.freelancer.protected_in_escrow, cur)}</dd>
          </div>
          <div className={x.freelancer.unfunded_milestones ? 'risk' : undefined}>
            <dt>Not funded (unprotected)</dt>
            <dd>
              {money(x.freelancer.unfunded_pending, cur)} in {x.freelancer.unfunded_milestones} milestone
              {x.freelancer.unfunded_milestones === 1 ? '' : 's'}
            </dd>
          </div>
        </dl>
      ) : (
        <dl className="facts">
          <div>
            <dt>Escrow awaiting your review</dt>
            <dd>{money(x.client.escrow_awaiting_review, cur)}</dd>
          </div>
          <div>
            <dt>Held in escrow</dt>
            <dd>{money(x.client.in_escrow, cur)}</dd>
          </div>
          <div>
            <dt>Next auto-release</dt>
            <dd>
              {x.client.next_auto_release_at ? (
                <>
                  <Countdown to={x.client.next_auto_release_at} />{' '}
                  <span className="muted small">({dateTime(x.client.next_auto_release_at, me.time_zone)})</span>
                </>
              ) : (
                'none'
              )}
            </dd>
          </div>
        </dl>
      )}
      <p className="muted small">
        {role === 'client'
          ? 'Submitted work is released automatically when the review window lapses. Review it in time.'
          : 'Only funded milestones are protected: start work once a milestone is in escrow.'}
      </p>
    </section>
  )
}

function CounterpartyReputation() {
  const { c, role } = useContractView()
  const otherId = role === 'client' ? c.freelancer_id : c.client_id
  const otherRole = role === 'client' ? 'freelancer' : 'client'
  const other = role === 'client' ? c.parties.freelancer : c.parties.client
  const q = useQuery({ queryKey: ['reputation', otherId], queryFn: () => api.reputation(otherId) })
  return (
    <section className="card" aria-labelledby="rep-h">
      <h2 id="rep-h">{`${other.name}’s record`}</h2>
      <p className="muted small">{role ? `The ${otherRole} on this contract.` : 'The client on this contract.'}</p>
      {q.isPending ? <Loading /> : q.data ? <ReputationView r={q.data} /> : <ErrorNote error={q.error as never} />}
    </section>
  )
}

export function ReputationView({ r }: { r: Reputation }) {
  return (
    <>
      <p>{r.summary}</p>
      {r.as_client && (
        <dl className="facts">
          <div>
            <dt>As client: funded</dt>
            <dd>
              {r.as_client.milestones_funded} milestone{r.as_client.milestones_funded === 1 ? '' : 's'} (
              {r.as_client.amount_funded.map((a) => money(a.amount, a.currency)).join(', ')})
            </dd>
          </div>
          <div>
            <dt>Released on review / auto-released</dt>
            <dd>
              {r.as_client.released_on_review} / {r.as_client.auto_released}
            </dd>
          </div>
          <div>
            <dt>Median time to release</dt>
            <dd>{r.as_client.median_hours_to_release === null ? '—' : `${r.as_client.median_hours_to_release} h`}</dd>
          </div>
          <div>
            <dt>Refund requests · disputes opened / lost</dt>
            <dd>
              {r.as_client.refund_requests} · {r.as_client.disputes.opened} / {r.as_client.disputes.lost}
            </dd>
          </div>
        </dl>
      )}
      {r.as_freelancer && (
        <dl className="facts">
          <div>
            <dt>As freelancer: released</dt>
            <dd>
              {r.as_freelancer.milestones_released} milestone{r.as_freelancer.milestones_released === 1 ? '' : 's'}
            </dd>
          </div>
          <div>
            <dt>Submitted before the due date</dt>
            <dd>
              {r.as_freelancer.submitted_before_due_share === null
                ? '—'
                : `${Math.round(r.as_freelancer.submitted_before_due_share * 100)}%`}
            </dd>
          </div>
          <div>
            <dt>Earned</dt>
            <dd>{r.as_freelancer.amount_earned.map((a) => money(a.amount, a.currency)).join(', ') || '—'}</dd>
          </div>
          <div>
            <dt>Disputes opened / lost</dt>
            <dd>
              {r.as_freelancer.disputes.opened} / {r.as_freelancer.disputes.lost}
            </dd>
          </div>
        </dl>
      )}
    </>
  )
}

function FundSeveral() {
  const { c } = useContractView()
  const pending = c.milestones.filter((m) => m.state === 'pending')
  const [ticked, setPicked] = useState<string[]>([])
  // a ticked milestone funded meanwhile (on its own, or by the other tab) is no longer one to fund
  const picked = ticked.filter((id) => pending.some((m) => m.id === id))
  const [pm, setPm] = useState('pm_sandbox_ok')
  const fund = useAction((ids: string[], key) => api.fundMany(c.id, ids, pm, key), {
    invalidate: contractKeys(c.id),
    onSuccess: () => setPicked([]),
  })
  if (pending.length < 2) return null
  const total = pending.filter((m) => picked.includes(m.id)).reduce((s, m) => s + fundingCharge(c, m.amount).total, 0)
  return (
    <section className="card" aria-labelledby="fund-h">
      <h2 id="fund-h">Fund several milestones</h2>
      <p className="muted small">One atomic payment: all of them are funded, or none.</p>
      <div className="check-list">
        {pending.map((m) => (
          <Checkbox
            key={m.id}
            label={`${m.position}. ${m.title} — ${money(m.amount, c.currency)} + ${money(fundingCharge(c, m.amount).fee, c.currency)} fee`}
            checked={picked.includes(m.id)}
            onChange={(on) => setPicked(on ? [...picked, m.id] : picked.filter((x) => x !== m.id))}
          />
        ))}
      </div>
      <div className="row-2 align-end">
        <SelectField
          label="Payment method"
          value={pm}
          onChange={setPm}
          options={[
            { value: 'pm_sandbox_ok', label: 'Sandbox card (succeeds)' },
            { value: 'pm_sandbox_decline', label: 'Sandbox card that is declined' },
          ]}
        />
        <Button busy={fund.pending} disabled={picked.length === 0} onClick={() => void fund.run(picked)}>
          {picked.length ? `Fund ${picked.length} for ${money(total, c.currency)}` : 'Pick milestones to fund'}
        </Button>
      </div>
      <ErrorNote error={fund.error} currency={c.currency} />
    </section>
  )
}

function EndContract() {
  const { c, role } = useContractView()
  const [open, setOpen] = useState(false)
  const [reason, setReason] = useState('')
  const end = useAction((_: undefined, key) => api.endContract(c.id, reason, key), {
    invalidate: contractKeys(c.id),
    onSuccess: () => setOpen(false),
  })
  // the server refuses an end while these wait for an answer (409 milestones_awaiting_action): say so before
  const blocking = c.milestones.filter((m) => m.state === 'disputed' || (role === 'client' && m.state === 'submitted'))
  return (
    <section className="card danger-zone" aria-labelledby="end-h">
      <h2 id="end-h">End the contract early</h2>
      <p className="muted">
        {role === 'client'
          ? 'Pending milestones are cancelled; funded ones (and those with changes requested) become refund requests the freelancer answers. Not possible while a milestone is submitted or disputed.'
          : 'Pending milestones are cancelled; funded, submitted and changes-requested ones are refunded to the client. Not possible while a milestone is disputed.'}
      </p>
      {open ? (
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault()
            void end.run()
          }}
        >
          <TextArea
            label="Reason (optional)"
            name="reason"
            value={reason}
            onChange={setReason}
            error={errorFor('reason', {}, end.error)}
          />
          <ErrorNote error={end.error} fields={['reason']} currency={c.currency} />
          <div className="actions">
            <Button type="submit" kind="danger" busy={end.pending}>
              End the contract
            </Button>
            <Button kind="ghost" onClick={() => setOpen(false)} disabled={end.pending}>
              Keep it
            </Button>
          </div>
        </form>
      ) : blocking.length > 0 ? (
        <p className="callout small" role="status">
          Not possible now:{' '}
          {blocking.map((m) => `“${m.title}” is ${m.state === 'disputed' ? 'disputed' : 'in review'}`).join(', ')}.
          {role === 'client'
            ? ' The contract can be ended once no milestone is in review or disputed.'
            : ' The contract can be ended once no milestone is disputed.'}
        </p>
      ) : (
        <Button kind="ghost" onClick={() => setOpen(true)}>
          End contract…
        </Button>
      )}
    </section>
  )
}
