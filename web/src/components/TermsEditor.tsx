/**
 * The terms of an offer (or a counter-offer): payment mode with what each means, the planner's advice beside the
 * milestone lines, review window and revision limit. Controlled: the page owns the draft and submits it.
 */
import type { ApiError } from '../api/client'
import { CURRENCY_CODES, money, step } from '../lib/format'
import { draftTotal, emptyLine, type LineDraft, lineAmount, type Mode, type TermsDraft } from '../lib/terms-draft'
import { PlannerPanel } from './PlannerPanel'
import { Button, Checkbox, type Errors, errorFor, SelectField, TextArea, TextField } from './ui'

export const MODES: { value: Mode; title: string; text: string }[] = [
  {
    value: 'by_project',
    title: 'By project',
    text: 'One milestone for the whole price, paid once the job is 100% done. Simple — but the whole price is at risk until the end. Best for small, well-defined jobs.',
  },
  {
    value: 'by_milestone',
    title: 'By milestone',
    text: 'The job in stages, each funded, reviewed and paid on its own: less is at risk at any time. The first milestone may be a deposit (at most 50%), released as soon as it is funded.',
  },
  {
    value: 'by_entry',
    title: 'By entry',
    text: 'Paid per unit of work (articles, designs, hours of audio). Each milestone covers a number of entries at a unit price; entries can be accepted one by one.',
  },
]

interface Props {
  draft: TermsDraft
  onChange: (d: TermsDraft) => void
  errors: Errors
  apiError: ApiError | null
  /** the other party's id when known, so the planner can read their record as a client */
  plannerClientId?: string | undefined
}

export function TermsEditor({ draft, onChange, errors, apiError, plannerClientId }: Props) {
  const set = <K extends keyof TermsDraft>(k: K, v: TermsDraft[K]) => onChange({ ...draft, [k]: v })
  const setLine = (i: number, patch: Partial<LineDraft>) =>
    onChange({ ...draft, milestones: draft.milestones.map((l, j) => (j === i ? { ...l, ...patch } : l)) })
  const err = (p: string) => errorFor(p, errors, apiError, draft.currency)
  const total = draftTotal(draft)
  const byEntry = draft.payment_mode === 'by_entry'
  return (
    <div className="terms-editor">
      <fieldset className="card">
        <legend>The job</legend>
        <TextField
          label="Title"
          name="title"
          value={draft.title}
          onChange={(v) => set('title', v)}
          error={err('title')}
        />
        <TextArea
          label="Description"
          name="description"
          value={draft.description}
          onChange={(v) => set('description', v)}
          error={err('description')}
        />
        <div className="row-3">
          <SelectField
            label="Currency"
            name="currency"
            value={draft.currency}
            onChange={(v) => set('currency', v)}
            options={CURRENCY_CODES}
            error={err('currency')}
          />
          <TextField
            label="Review window (days)"
            name="review_days"
            inputMode="numeric"
            value={draft.review_days}
            onChange={(v) => set('review_days', v)}
            hint="After a submission the client has this long; then the money is released automatically."
            error={err('review_days')}
          />
          <TextField
            label="Revision limit"
            name="revision_limit"
            inputMode="numeric"
            value={draft.revision_limit}
            onChange={(v) => set('revision_limit', v)}
            hint="Rounds of changes the client may ask per milestone (0–10)."
            error={err('revision_limit')}
          />
        </div>
      </fieldset>

      <fieldset className="card">
        <legend>How is it paid?</legend>
        <div className="mode-cards" role="radiogroup" aria-label="Payment mode">
          {MODES.map((m) => (
            <label key={m.value} className={`mode-card${draft.payment_mode === m.value ? ' selected' : ''}`}>
              <input
                type="radio"
                name="payment_mode"
                value={m.value}
                checked={draft.payment_mode === m.value}
                onChange={() =>
                  onChange({
                    ...draft,
                    payment_mode: m.value,
                    milestones:
                      m.value === 'by_project'
                        ? [
                            {
                              ...(draft.milestones[0] ?? emptyLine()),
                              deposit: false,
                              title: draft.milestones[0]?.title || 'Whole project',
                            },
                          ]
                        : draft.milestones.map((l, i) => ({
                            ...l,
                            deposit: m.value === 'by_milestone' && i === 0 && l.deposit,
                          })),
                  })
                }
              />
              <span className="mode-title">{m.title}</span>
              <span className="mode-text">{m.text}</span>
            </label>
          ))}
        </div>
        {byEntry && (
          <div className="row-2">
            <TextField
              label="Unit name"
              name="unit_name"
              placeholder="article"
              value={draft.unit_name}
              onChange={(v) => set('unit_name', v)}
              error={err('unit_name')}
            />
            <TextField
              label={`Price per unit (${draft.currency})`}
              name="unit_price"
              inputMode="decimal"
              value={draft.unit_price}
              onChange={(v) => set('unit_price', v)}
              error={err('unit_price')}
            />
          </div>
        )}
      </fieldset>

      <div className="grid-plan">
        <fieldset className="card">
          <legend>Milestones</legend>
          {errorFor('milestones', errors, apiError) && (
            <div className="field-error" role="alert">
              {errorFor('milestones', errors, apiError)}
            </div>
          )}
          <ol className="lines">
            {draft.milestones.map((l, i) => {
              const p = `milestones[${i}]`
              const amount = lineAmount(draft, l)
              return (
                // biome-ignore lint/suspicious/noArrayIndexKey: a line is its position, as in its field names (milestones[i].amount) and the API's errors; every input is controlled
                <li key={i} className="line">
                  <div className="line-head">
                    <strong>Milestone {i + 1}</strong>
                    {draft.payment_mode !== 'by_project' && draft.milestones.length > 1 && (
                      <button
                        type="button"
                        className="linkish danger"
                        onClick={() => onChange({ ...draft, milestones: draft.milestones.filter((_, j) => j !== i) })}
                        aria-label={`Remove milestone ${i + 1}`}
                      >
                        Remove
                      </button>
                    )}
                  </div>
                  <div className="row-2">
                    <TextField
                      label="Title"
                      name={`${p}.title`}
                      value={l.title}
                      onChange={(v) => setLine(i, { title: v })}
                      error={err(`${p}.title`)}
                    />
                    {byEntry ? (
                      <TextField
                        label={`${draft.unit_name || 'Entries'} (count)`}
                        name={`${p}.entries`}
                        inputMode="numeric"
                        value={l.entries}
                        onChange={(v) => setLine(i, { entries: v })}
                        hint={amount !== null ? `= ${money(amount, draft.currency)}` : undefined}
                        error={err(`${p}.entries`) ?? err(`${p}.amount`)}
                      />
                    ) : (
                      <TextField
                        label={`Amount (${draft.currency})`}
                        name={`${p}.amount`}
                        inputMode="decimal"
                        placeholder={step(draft.currency) === '1' ? '500' : '500.00'}
                        value={l.amount}
                        onChange={(v) => setLine(i, { amount: v })}
                        error={err(`${p}.amount`)}
                      />
                    )}
                  </div>
                  <TextArea
                    label="Acceptance criteria"
                    name={`${p}.acceptance_criteria`}
                    rows={2}
                    value={l.acceptance_criteria}
                    onChange={(v) => setLine(i, { acceptance_criteria: v })}
                    error={err(`${p}.acceptance_criteria`)}
                    hint="What “done” means — the reviewer checks against this."
                  />
                  <div className="row-2">
                    <TextField
                      label="Due date (optional)"
                      name={`${p}.due_date`}
                      type="date"
                      value={l.due_date}
                      onChange={(v) => setLine(i, { due_date: v })}
                      error={err(`${p}.due_date`)}
                    />
                    {draft.payment_mode === 'by_milestone' && i === 0 && (
                      <Checkbox
                        label="Deposit: released to the freelancer as soon as it is funded (at most 50%)"
                        checked={l.deposit}
                        onChange={(v) => setLine(i, { deposit: v })}
                        error={err(`${p}.deposit`)}
                      />
                    )}
                  </div>
                </li>
              )
            })}
          </ol>
          {draft.payment_mode !== 'by_project' && (
            <Button
              kind="secondary"
              onClick={() =>
                onChange({
                  ...draft,
                  milestones: [...draft.milestones, emptyLine(`Milestone ${draft.milestones.length + 1}`)],
                })
              }
            >
              Add a milestone
            </Button>
          )}
          <p className="total">
            Total: <strong>{money(total, draft.currency)}</strong>
          </p>
        </fieldset>
        <PlannerPanel
          draft={draft}
          clientId={plannerClientId}
          onUse={(lines) => onChange({ ...draft, milestones: lines })}
        />
      </div>
    </div>
  )
}
