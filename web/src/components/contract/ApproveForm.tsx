/**
 * Approving a submitted milestone: all of it, part of it (the rest refunded, or reworked for by_entry), with a bonus,
 * and a preview of what each side receives before the client sends it.
 */
import { useState } from 'react'
import { api } from '../../api/sdk'
import { useAction } from '../../lib/action'
import { approvalPreview } from '../../lib/fees'
import { money, parseMoney, toMajorInput } from '../../lib/format'
import { Checkbox, ErrorNote, type Errors, errorFor, SelectField, TextArea } from '../ui'
import { type FormProps, Frame } from './ActionFrame'
import { contractKeys, openEntries, useContractView } from './context'
import { MoneyInput } from './MoneyInput'

export function ApproveForm({ m, onDone }: FormProps) {
  const { c } = useContractView()
  const byEntry = c.payment_mode === 'by_entry'
  const [mode, setMode] = useState<'full' | 'partial'>('full')
  const [amount, setAmount] = useState(toMajorInput(m.escrow_amount, c.currency))
  const delivered = m.submission?.entries?.filter((n) => !m.accepted_entries.includes(n)) ?? openEntries(m)
  const [accepted, setAccepted] = useState<number[]>(delivered)
  // with no revision left the rest cannot go back for rework: only a refund request remains
  const canRework = m.revisions_left > 0
  const [rest, setRest] = useState<'refund' | 'rework'>(canRework ? 'rework' : 'refund')
  const [bonus, setBonus] = useState('')
  const [message, setMessage] = useState('')
  const [errors, setErrors] = useState<Errors>({})
  const bonusMinor = bonus ? parseMoney(bonus, c.currency) : 0
  const releaseMinor = byEntry
    ? Math.min(accepted.length * (c.unit_price ?? 0), m.escrow_amount)
    : mode === 'full'
      ? m.escrow_amount
      : (parseMoney(amount, c.currency) ?? 0)
  const restMode = byEntry ? rest : 'refund'
  const preview = approvalPreview(c, m, releaseMinor, bonusMinor ?? 0, restMode)
  const approve = useAction(
    (_: undefined, key) => {
      const body: Parameters<typeof api.approve>[1] = {}
      if (byEntry) {
        body.accepted_entries = accepted
        if (releaseMinor < m.escrow_amount) body.rest = rest
      } else if (mode === 'partial') body.amount = releaseMinor
      if (bonusMinor) body.bonus = bonusMinor
      if (message.trim()) body.message = message
      return api.approve(m.id, body, key)
    },
    { invalidate: contractKeys(c.id), onSuccess: onDone },
  )
  const go = () => {
    const e: Errors = {}
    if (byEntry && accepted.length === 0) e.accepted_entries = 'Accept at least one entry (or request changes).'
    if (!byEntry && mode === 'partial') {
      const a = parseMoney(amount, c.currency)
      if (a === null || a < 1) e.amount = 'Enter the amount to release.'
      else if (a > m.escrow_amount) e.amount = `At most ${money(m.escrow_amount, c.currency)} is held in escrow.`
    }
    if (bonus && (bonusMinor === null || bonusMinor < 1)) e.bonus = 'Enter a bonus amount, or leave it empty.'
    setErrors(e)
    if (!Object.keys(e).length) void approve.run()
  }
  const partialRest = releaseMinor < m.escrow_amount
  return (
    <Frame
      title={`Approve “${m.title}”`}
      onSubmit={go}
      onCancel={onDone}
      busy={approve.pending}
      submit={`Release ${money(releaseMinor, c.currency)}`}
    >
      {byEntry ? (
        <>
          <fieldset className="entries">
            <legend>Accepted {c.unit_name ?? 'entries'}</legend>
            {openEntries(m).map((n) => (
              <Checkbox
                key={n}
                label={`#${n}${delivered.includes(n) ? '' : ' (not delivered)'}`}
                checked={accepted.includes(n)}
                onChange={(v) =>
                  setAccepted(v ? [...accepted, n].sort((a, b) => a - b) : accepted.filter((x) => x !== n))
                }
              />
            ))}
            {errorFor('accepted_entries', errors, approve.error) && (
              <div className="field-error">{errorFor('accepted_entries', errors, approve.error)}</div>
            )}
          </fieldset>
          {partialRest && (
            <SelectField
              label="The entries you do not accept"
              name="rest"
              value={rest}
              onChange={(v) => setRest(v as 'refund' | 'rework')}
              options={[
                ...(canRework
                  ? [{ value: 'rework', label: `Send back for rework (uses a revision; ${m.revisions_left} left)` }]
                  : []),
                { value: 'refund', label: 'Ask for their money back (a refund request)' },
              ]}
              error={errorFor('rest', errors, approve.error)}
            />
          )}
        </>
      ) : (
        <fieldset className="radios">
          <legend>How much?</legend>
          <label>
            <input type="radio" name="approve-mode" checked={mode === 'full'} onChange={() => setMode('full')} />{' '}
            Everything in escrow ({money(m.escrow_amount, c.currency)})
          </label>
          <label>
            <input type="radio" name="approve-mode" checked={mode === 'partial'} onChange={() => setMode('partial')} />{' '}
            Part of it
          </label>
          {mode === 'partial' && (
            <MoneyInput
              label="Amount to release"
              name="amount"
              currency={c.currency}
              value={amount}
              onChange={setAmount}
              error={errorFor('amount', errors, approve.error, c.currency)}
              hint="The rest becomes a refund request: the freelancer has 7 days to accept or decline (silence = refund)."
            />
          )}
        </fieldset>
      )}
      <MoneyInput
        label="Bonus (optional)"
        name="bonus"
        currency={c.currency}
        value={bonus}
        onChange={setBonus}
        error={errorFor('bonus', errors, approve.error, c.currency)}
        hint="Charged now like funding (credit first), with the client fee."
      />
      <TextArea
        label="Message (optional)"
        name="message"
        rows={2}
        value={message}
        onChange={setMessage}
        error={errorFor('message', errors, approve.error)}
      />
      <div className="preview" aria-live="polite">
        <h5>What each side receives</h5>
        <dl>
          <dt>Freelancer receives</dt>
          <dd>
            <strong>{money(preview.freelancerNet, c.currency)}</strong>{' '}
            <span className="muted">
              after the {money(preview.serviceFee, c.currency)} service fee (pending 5 days, then available)
            </span>
          </dd>
          {preview.refundToClient > 0 && (
            <>
              <dt>Back to the client</dt>
              <dd>
                <strong>{money(preview.refundToClient, c.currency)}</strong>{' '}
                <span className="muted">
                  {partialRest
                    ? 'the rest with its client fee, once the freelancer accepts the refund request (or after 7 days)'
                    : 'client-fee rounding left in escrow'}
                </span>
              </dd>
            </>
          )}
          {preview.stayInEscrow > 0 && (
            <>
              <dt>Stays in escrow</dt>
              <dd>{money(preview.stayInEscrow, c.currency)} for the reworked entries</dd>
            </>
          )}
          {preview.bonusCharge > 0 && (
            <>
              <dt>Charged to the client now</dt>
              <dd>{money(preview.bonusCharge, c.currency)} (bonus with client fee)</dd>
            </>
          )}
          <dt>Platform keeps</dt>
          <dd>{money(preview.platformKeeps, c.currency)} in fees</dd>
        </dl>
      </div>
      <ErrorNote
        currency={c.currency}
        error={approve.error}
        fields={['amount', 'bonus', 'accepted_entries', 'rest', 'message']}
      />
    </Frame>
  )
}
