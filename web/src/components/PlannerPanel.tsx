/**
 * The milestone planner (POST /v1/plans) beside the lines: a "start small" schedule for the total and the mode,
 * the side-by-side of by_project vs by_milestone, the reasons, and one button to turn the plan into lines.
 */
import { useState } from 'react'
import type { PlanBody } from '../api/sdk'
import { api } from '../api/sdk'
import type { Plan } from '../api/types'
import { useAction } from '../lib/action'
import { money, parseMoney, toMajorInput } from '../lib/format'
import { draftTotal, emptyLine, type LineDraft, type TermsDraft } from '../lib/terms-draft'
import { Button, ErrorNote, errorFor, TextField } from './ui'

export function PlannerPanel({
  draft,
  clientId,
  onUse,
}: {
  draft: TermsDraft
  clientId?: string | undefined
  onUse: (l: LineDraft[]) => void
}) {
  const [totalText, setTotalText] = useState('')
  const [upfront, setUpfront] = useState('')
  const [plan, setPlan] = useState<Plan | null>(null)
  const [err, setErr] = useState<Record<string, string>>({})
  const ask = useAction((b: PlanBody) => api.plan(b), { invalidate: [], onSuccess: (p) => setPlan(p) })
  const byEntry = draft.payment_mode === 'by_entry'
  const entriesTotal = draft.milestones.reduce((s, l) => s + (Number.parseInt(l.entries, 10) || 0), 0)
  const suggestedTotal = draftTotal(draft)

  const run = () => {
    const e: Record<string, string> = {}
    const unitPrice = parseMoney(draft.unit_price, draft.currency)
    let total = totalText ? parseMoney(totalText, draft.currency) : suggestedTotal || null
    if (byEntry) {
      if (!unitPrice) e.unit_price = 'Set the unit price first.'
      if (!entriesTotal) e.entries = 'Set how many entries first.'
      total = unitPrice && entriesTotal ? unitPrice * entriesTotal : null
    }
    if (!total || total < 1) e.total = 'Enter the total price of the job.'
    const bps = upfront ? Math.round(Number(upfront) * 100) : null
    if (upfront && (bps === null || Number.isNaN(bps) || bps < 0 || bps > 5000)) e.upfront_bps = 'Upfront is 0 to 50%.'
    setErr(e)
    if (Object.keys(e).length) return
    const body: PlanBody = { total: total!, currency: draft.currency, payment_mode: draft.payment_mode }
    if (clientId) body.counterparty_id = clientId
    if (bps !== null && draft.payment_mode === 'by_milestone') body.upfront_bps = bps
    if (byEntry) {
      body.entries = entriesTotal
      body.unit_price = unitPrice!
    }
    void ask.run(body)
  }

  const use = (p: Plan) =>
    onUse(
      p.milestones.map((m) => ({
        ...emptyLine(m.title),
        amount: toMajorInput(m.amount, p.currency),
        entries: 'entries' in m && m.entries !== undefined ? String(m.entries) : '',
        deposit: m.deposit,
      })),
    )

  return (
    <aside className="card planner" aria-labelledby="planner-h">
      <h3 id="planner-h">Planner's advice</h3>
      <p className="muted small">
        Start small: with a client who has no history, the first milestone is at most 10% of the total and each next one
        at most double the previous.
      </p>
      {!byEntry && (
        <TextField
          label={`Total (${draft.currency})`}
          inputMode="decimal"
          value={totalText}
          placeholder={suggestedTotal ? toMajorInput(suggestedTotal, draft.currency) : ''}
          onChange={setTotalText}
          error={err.total ?? errorFor('total', {}, ask.error, draft.currency)}
        />
      )}
      {draft.payment_mode === 'by_milestone' && (
        <TextField
          label="Upfront deposit (%)"
          inputMode="decimal"
          value={upfront}
          placeholder="0"
          onChange={setUpfront}
          error={err.upfront_bps ?? errorFor('upfront_bps', {}, ask.error)}
        />
      )}
      {byEntry && (err.unit_price || err.entries || err.total) && (
        <div className="field-error" role="alert">
          {err.unit_price ?? err.entries ?? err.total}
        </div>
      )}
      {/* by_entry has no Total field (entries × unit price make it): its error is shown here then */}
      <ErrorNote
        error={ask.error}
        fields={byEntry ? ['upfront_bps'] : ['total', 'upfront_bps']}
        currency={draft.currency}
      />
      <Button kind="secondary" busy={ask.pending} onClick={run}>
        Ask the planner
      </Button>
      {plan && (
        <div className="plan" aria-live="polite">
          <p>
            Client trust: <strong>{plan.trust_level}</strong> · recommended:{' '}
            <strong>{plan.comparison.recommended.replace('_', ' ')}</strong>
          </p>
          <ol className="plan-lines">
            {plan.milestones.map((m, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a plan is replaced whole; the position is the line's identity
              <li key={i}>
                <span>
                  {m.title}
                  {m.deposit ? ' (deposit)' : ''}
                  {'entries' in m && m.entries ? ` · ${m.entries} entries` : ''}
                </span>
                <strong>{money(m.amount, plan.currency)}</strong>
              </li>
            ))}
          </ol>
          <Button onClick={() => use(plan)}>Use this plan as the milestones</Button>
          <table className="table compact compare">
            <caption>By project vs by milestone</caption>
            <thead>
              <tr>
                <th scope="col" />
                <th scope="col">By project</th>
                <th scope="col">By milestone</th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <th scope="row">Largest amount at risk</th>
                <td>{money(plan.comparison.by_project.largest_at_risk, plan.currency)}</td>
                <td>{money(plan.comparison.by_milestone.largest_at_risk, plan.currency)}</td>
              </tr>
              <tr>
                <th scope="row">Review cycles</th>
                <td>{plan.comparison.by_project.review_cycles}</td>
                <td>{plan.comparison.by_milestone.review_cycles}</td>
              </tr>
              <tr>
                <th scope="row">Upfront</th>
                <td>{money(plan.comparison.by_project.upfront, plan.currency)}</td>
                <td>{money(plan.comparison.by_milestone.upfront, plan.currency)}</td>
              </tr>
            </tbody>
          </table>
          <ul className="reasons">
            {[...plan.comparison.reasons, ...plan.reasons].map((r, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: read-only sentences, replaced whole with the plan
              <li key={i}>{r}</li>
            ))}
            {plan.deposit_advice && <li>{plan.deposit_advice}</li>}
          </ul>
        </div>
      )}
    </aside>
  )
}
