/** One milestone on the contract's timeline: its state, money, deadlines, the submission, and the viewer's moves. */
import { useState } from 'react'
import type { MilestoneCommandName } from '../../../../src/domain/milestone-process.ts'
import type { Milestone } from '../../api/types'
import { date, dateTime, entryList, label, money } from '../../lib/format'
import { Badge, Countdown } from '../ui'
import { ActionForm, COMMAND_LABEL, commandDoc, commandsFor } from './actions'
import { useContractView } from './context'
import { DisputePanel } from './DisputePanel'

const revisionsLeft = (n: number) => (n === 0 ? 'no revisions left' : `${n} revision${n === 1 ? '' : 's'} left`)

const units = (name: string | null, n: number) =>
  !name ? 'entries' : n === 1 || name.endsWith('s') ? name : `${name}s`

export function MilestoneCard({ m }: { m: Milestone }) {
  const { c, me, role } = useContractView()
  const [open, setOpen] = useState<MilestoneCommandName | null>(null)
  const tz = me.time_zone
  const commands = commandsFor(m, role, c.status === 'active')
  const rr = c.refund_requests.find((r) => r.id === m.refund_request_id && r.status === 'open')
  const dispute = c.disputes.find((d) => d.id === m.dispute_id)
  const cr = m.change_request
  // In time order with the submission: after it while changes are awaited, before a resubmission (by state first,
  // since both can carry the same time on a manual test clock).
  const changeRequestLast =
    !!cr && (!m.submission || m.state === 'changes_requested' || cr.requested_at > m.submission.submitted_at)
  const changeRequest = cr && (
    <section className="change-request" aria-label="Change request">
      <div className="muted small">
        {m.state === 'changes_requested' ? 'Changes requested' : 'Changes were requested'} by{' '}
        {role === 'client' ? 'you' : c.parties.client.name} {dateTime(cr.requested_at, tz)}
        {(m.state === 'changes_requested' || m.state === 'submitted') && <> · {revisionsLeft(m.revisions_left)}</>}
      </div>
      <p className="prewrap">{cr.message}</p>
    </section>
  )
  return (
    <li className={`milestone state-${m.state}`} aria-labelledby={`${m.id}-title`}>
      <div className="ms-dot" aria-hidden="true" />
      <div className="ms-body">
        <div className="ms-head">
          <h3 id={`${m.id}-title`}>
            {m.position}. {m.title}
            {m.deposit && <Badge state="deposit">deposit</Badge>}
          </h3>
          <Badge state={m.state}>{label(m.state)}</Badge>
        </div>
        <div className="ms-money">
          <span>
            <strong>{money(m.amount, c.currency)}</strong>
            {m.entries !== null && (
              <span className="muted">
                {' '}
                · {m.entries} {units(c.unit_name, m.entries)}, {m.accepted_entries.length} accepted
                {m.accepted_entries.length > 0 && m.accepted_entries.length < m.entries && (
                  <> ({entryList(m.accepted_entries)})</>
                )}
              </span>
            )}
          </span>
          {m.escrow_amount > 0 && <span className="pill escrow">{money(m.escrow_amount, c.currency)} in escrow</span>}
          {m.released_amount > 0 && (
            <span className="pill released">{money(m.released_amount, c.currency)} released</span>
          )}
          {m.refunded_amount > 0 && (
            <span className="pill refunded">{money(m.refunded_amount, c.currency)} refunded</span>
          )}
          {m.bonus_amount > 0 && <span className="pill released">{money(m.bonus_amount, c.currency)} bonus</span>}
        </div>
        {m.acceptance_criteria && <p className="muted small">Done when: {m.acceptance_criteria}</p>}
        <p className="muted small">
          {m.due_date && <>Due {date(m.due_date, tz)} · </>}
          Revisions used {m.revisions_used} of {c.revision_limit} ·{' '}
          <span className={m.revisions_left === 0 ? 'revisions-out' : undefined}>
            {revisionsLeft(m.revisions_left)}
          </span>
          {m.funded_at && <> · funded {dateTime(m.funded_at, tz)}</>}
        </p>
        {m.state === 'pending' && role === 'freelancer' && (
          <p className="callout warn small">
            Not funded yet: this work is not protected. Wait for the client to fund it.
          </p>
        )}
        {m.state === 'submitted' && m.review_deadline && (
          <p className="deadline">
            {role === 'client' ? 'Review it: ' : 'In review: '}auto-release{' '}
            <Countdown to={m.review_deadline} exact={dateTime(m.review_deadline, tz)} /> (
            {dateTime(m.review_deadline, tz)})
          </p>
        )}
        {changeRequest && !changeRequestLast && changeRequest}
        {m.submission && (
          <div className="submission">
            <div className="muted small">Submitted {dateTime(m.submission.submitted_at, tz)}</div>
            <p className="prewrap">{m.submission.message}</p>
            {m.submission.links.length > 0 && (
              <ul className="links">
                {m.submission.links.map((l) => (
                  <li key={l}>
                    {/^https?:\/\//.test(l) ? (
                      <a href={l} target="_blank" rel="noreferrer noopener">
                        {l}
                      </a>
                    ) : (
                      l
                    )}
                  </li>
                ))}
              </ul>
            )}
            {m.submission.entries && <div className="small">Entries delivered: {entryList(m.submission.entries)}</div>}
          </div>
        )}
        {changeRequest && changeRequestLast && changeRequest}
        {m.approval && (
          <section className="approval" aria-label="Approval">
            <div className="muted small">
              Approved by {role === 'client' ? 'you' : c.parties.client.name} {dateTime(m.approval.approved_at, tz)}
            </div>
            <p className="prewrap">{m.approval.message}</p>
          </section>
        )}
        {m.state === 'submitted' && role === 'client' && m.revisions_left === 0 && (
          <p className="muted small">No revisions left: approve (all or part), or open a dispute.</p>
        )}
        {rr && (
          <div className="refund-request">
            <strong>Refund request</strong> for {money(rr.amount, c.currency)}: “{rr.reason.replace(/\.$/, '')}”.{' '}
            {role === 'freelancer' ? 'Answer ' : 'The freelancer answers '}
            <Countdown to={rr.expires_at} exact={dateTime(rr.expires_at, tz)} prefix="within " /> (
            {dateTime(rr.expires_at, tz)}) — silence means the refund goes through.
          </div>
        )}
        {dispute && <DisputePanel d={dispute} m={m} />}
        {commands.length > 0 && (
          <fieldset className="ms-actions">
            <legend className="sr-only">Actions on {m.title}</legend>
            {commands.map((cmd) => (
              <button
                key={cmd}
                type="button"
                className={`btn ${open === cmd ? 'btn-primary' : cmd === 'open_dispute' || cmd === 'refund' || cmd === 'request_refund' ? 'btn-ghost' : 'btn-secondary'}`}
                aria-expanded={open === cmd}
                title={commandDoc(cmd)}
                onClick={() => setOpen(open === cmd ? null : cmd)}
              >
                {COMMAND_LABEL[cmd]}
              </button>
            ))}
          </fieldset>
        )}
        {open && <ActionForm command={open} m={m} onDone={() => setOpen(null)} />}
      </div>
    </li>
  )
}
