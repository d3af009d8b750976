/**
 * Offer terms and their rules (SPEC §4): payment modes, deposits, by_entry amounts, minimums.
 * The HTTP schema checks types and ranges; these are the rules across fields.
 */
import { DomainError } from './errors.ts'
import { amountText, isSupportedCurrency, isValidAmount, minimumMilestone } from './money.ts'

export type PaymentMode = 'by_project' | 'by_milestone' | 'by_entry'
export const PAYMENT_MODES: readonly PaymentMode[] = ['by_project', 'by_milestone', 'by_entry']

export interface MilestoneTerms {
  readonly title: string
  readonly description: string
  readonly acceptanceCriteria: string
  /** null only in input for by_entry lines, where the server computes it */
  readonly amount: bigint
  readonly dueDate: string | null
  readonly deposit: boolean
  readonly entries: number | null
}

export interface Terms {
  readonly title: string
  readonly description: string
  readonly currency: string
  readonly paymentMode: PaymentMode
  readonly reviewDays: number
  readonly revisionLimit: number
  readonly unitName: string | null
  readonly unitPrice: bigint | null
  readonly milestones: readonly MilestoneTerms[]
}

/** A milestone line as it arrives: by_entry lines may leave out the amount. */
export type MilestoneInput = Omit<MilestoneTerms, 'amount'> & { readonly amount: bigint | null }
export type TermsInput = Omit<Terms, 'milestones'> & { readonly milestones: readonly MilestoneInput[] }

export interface TermsPolicy {
  /** minimum milestone amount in major units (SPEC §3: 5) */
  readonly minimumMajor: bigint
}

const bad = (param: string, message: string, code: 'terms_invalid' | 'amount_invalid' = 'terms_invalid') =>
  new DomainError(code, message, param)

/** Checks the rules of SPEC §4 and fills in server-computed amounts; throws a 400 DomainError naming the field. */
export function validateTerms(input: TermsInput, policy: TermsPolicy): Terms {
  if (!isSupportedCurrency(input.currency)) {
    throw new DomainError('currency_unsupported', `Currency ${input.currency} is not supported.`, 'currency')
  }
  const min = minimumMilestone(input.currency, policy.minimumMajor)
  const mode = input.paymentMode
  if (mode === 'by_entry') {
    if (input.unitPrice === null) throw bad('unit_price', 'by_entry terms need a unit_price.')
    if (!input.unitName) throw bad('unit_name', 'by_entry terms need a unit_name (for example "article").')
  } else {
    if (input.unitPrice !== null) throw bad('unit_price', 'unit_price belongs to by_entry terms only.')
  }
  if (mode === 'by_project' && input.milestones.length !== 1) {
    throw bad('milestones', 'by_project terms have exactly one milestone for the whole price.')
  }
  const milestones = input.milestones.map((m, i) => lineAmount(m, i, input, min))
  milestones.forEach((m, i) => {
    if (m.deposit && i > 0) throw bad(`milestones[${i}].deposit`, 'Only the first milestone may be a deposit.')
    if (m.deposit && mode !== 'by_milestone')
      throw bad(`milestones[${i}].deposit`, 'Deposits belong to by_milestone terms.')
  })
  const total = milestones.reduce((s, m) => s + m.amount, 0n)
  if (milestones[0]?.deposit && milestones[0].amount * 2n > total) {
    throw bad('milestones[0].amount', 'A deposit is at most 50% of the total.')
  }
  return { ...input, milestones }
}

/**
 * Whether `s` is a day of the calendar written YYYY-MM-DD: the HTTP schema checks the shape only, and a date such as
 * 2025-13-01 or 2025-02-30 would otherwise reach the dormancy clock as no time at all (SPEC §4, §5).
 */
export function isCalendarDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false
  const ms = Date.parse(`${s}T00:00:00Z`)
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === s
}

export function checkDueDate(dueDate: string | null | undefined, param: string) {
  if (dueDate != null && !isCalendarDate(dueDate)) {
    throw new DomainError('parameter_invalid', `${param} is not a date of the calendar (YYYY-MM-DD).`, param)
  }
}

/** Validates one milestone line against the contract's mode (also used by amendments). */
export function lineAmount(
  m: MilestoneInput,
  i: number,
  t: Pick<Terms, 'paymentMode' | 'unitPrice' | 'currency'>,
  min: bigint,
  list = 'milestones',
) {
  const param = `${list}[${i}]`
  checkDueDate(m.dueDate, `${param}.due_date`)
  let amount = m.amount
  if (t.paymentMode === 'by_entry') {
    if (m.entries === null) throw bad(`${param}.entries`, 'by_entry milestones say how many entries they cover.')
    const computed = BigInt(m.entries) * (t.unitPrice ?? 0n)
    if (amount !== null && amount !== computed) {
      throw bad(
        `${param}.amount`,
        `The amount must be entries × unit_price = ${amountText(computed, t.currency)}.`,
        'amount_invalid',
      )
    }
    amount = computed
  } else if (m.entries !== null) {
    throw bad(`${param}.entries`, 'entries belong to by_entry terms only.')
  }
  if (amount === null) throw new DomainError('parameter_missing', 'Each milestone needs an amount.', `${param}.amount`)
  if (!isValidAmount(amount))
    throw bad(`${param}.amount`, 'Amounts are integers from 1 to 10^12 minor units.', 'amount_invalid')
  if (amount < min)
    throw bad(`${param}.amount`, `A milestone is at least ${amountText(min, t.currency)}.`, 'amount_invalid')
  return { ...m, amount }
}
