/**
 * The offer form's state (strings, as typed) and its conversion into the API body, with the same checks the API
 * makes (SPEC §4, schemas.ts, terms.ts), each reported under the API's own `param` name.
 */
import { isSupportedCurrency, minimumMilestone } from '../../../src/domain/money.ts'
import type { MilestoneLineBody, TermsBody } from '../api/sdk'
import type { OfferTerms } from '../api/types'
import type { Errors } from '../components/ui'
import { money, parseMoney, toMajorInput } from './format'

export type Mode = TermsBody['payment_mode']

export interface LineDraft {
  title: string
  description: string
  acceptance_criteria: string
  amount: string
  entries: string
  due_date: string
  deposit: boolean
}

export interface TermsDraft {
  title: string
  description: string
  currency: string
  payment_mode: Mode
  review_days: string
  revision_limit: string
  unit_name: string
  unit_price: string
  milestones: LineDraft[]
}

export const emptyLine = (title = ''): LineDraft => ({
  title,
  description: '',
  acceptance_criteria: '',
  amount: '',
  entries: '',
  due_date: '',
  deposit: false,
})

export const emptyDraft = (): TermsDraft => ({
  title: '',
  description: '',
  currency: 'USD',
  payment_mode: 'by_milestone',
  review_days: '14',
  revision_limit: '3',
  unit_name: '',
  unit_price: '',
  milestones: [emptyLine('Milestone 1')],
})

export function draftOf(t: OfferTerms): TermsDraft {
  return {
    title: t.title,
    description: t.description,
    currency: t.currency,
    payment_mode: t.payment_mode,
    review_days: String(t.review_days),
    revision_limit: String(t.revision_limit),
    unit_name: t.unit_name ?? '',
    unit_price: t.unit_price === null ? '' : toMajorInput(t.unit_price, t.currency),
    milestones: t.milestones.map((m) => ({
      title: m.title,
      description: m.description,
      acceptance_criteria: m.acceptance_criteria,
      amount: toMajorInput(m.amount, t.currency),
      entries: m.entries === null ? '' : String(m.entries),
      due_date: m.due_date ?? '',
      deposit: m.deposit,
    })),
  }
}

const MAX_AMOUNT = 1_000_000_000_000
const int = (s: string) => (/^\d+$/.test(s.trim()) ? Number(s.trim()) : null)

/** The amount a line comes to (minor units), or null when not computable yet. */
export function lineAmount(d: TermsDraft, l: LineDraft): number | null {
  if (!isSupportedCurrency(d.currency)) return null
  if (d.payment_mode === 'by_entry') {
    const price = parseMoney(d.unit_price, d.currency)
    const n = int(l.entries)
    return price !== null && n !== null ? price * n : null
  }
  return parseMoney(l.amount, d.currency)
}

export const draftTotal = (d: TermsDraft) => d.milestones.reduce((s, l) => s + (lineAmount(d, l) ?? 0), 0)

/** The body for POST /v1/offers (with role and counterparty) or /counter, or the errors by param. */
export function termsBody(d: TermsDraft, minimumMajor = 5n): { body: TermsBody | null; errors: Errors } {
  const errors: Errors = {}
  const title = d.title.trim()
  if (!title) errors.title = 'Give the job a title.'
  else if (title.length > 200) errors.title = 'A title has at most 200 characters.'
  if (d.description.length > 10_000) errors.description = 'At most 10,000 characters.'
  const currencyOk = isSupportedCurrency(d.currency)
  if (!currencyOk) errors.currency = `Currency ${d.currency} is not supported.`
  const reviewDays = int(d.review_days)
  if (reviewDays === null || reviewDays < 1 || reviewDays > 30)
    errors.review_days = 'The review window is 1 to 30 days.'
  const revisionLimit = int(d.revision_limit)
  if (revisionLimit === null || revisionLimit > 10) errors.revision_limit = 'The revision limit is 0 to 10.'
  const byEntry = d.payment_mode === 'by_entry'
  let unitPrice: number | null = null
  if (byEntry) {
    if (!d.unit_name.trim()) errors.unit_name = 'by_entry terms need a unit name (for example "article").'
    else if (d.unit_name.length > 100) errors.unit_name = 'At most 100 characters.'
    unitPrice = currencyOk ? parseMoney(d.unit_price, d.currency) : null
    if (unitPrice === null || unitPrice < 1 || unitPrice > MAX_AMOUNT)
      errors.unit_price = 'Enter the price of one unit.'
  }
  if (d.milestones.length === 0) errors.milestones = 'Add at least one milestone.'
  if (d.milestones.length > 100) errors.milestones = 'At most 100 milestones.'
  if (d.payment_mode === 'by_project' && d.milestones.length !== 1)
    errors.milestones = 'by_project terms have exactly one milestone for the whole price.'
  const min = currencyOk ? Number(minimumMilestone(d.currency, minimumMajor)) : 0
  const lines: MilestoneLineBody[] = []
  d.milestones.forEach((l, i) => {
    const p = `milestones[${i}]`
    const t = l.title.trim()
    if (!t) errors[`${p}.title`] = 'Name this milestone.'
    else if (t.length > 200) errors[`${p}.title`] = 'At most 200 characters.'
    const line: MilestoneLineBody = { title: t }
    if (l.description) line.description = l.description
    if (l.acceptance_criteria) line.acceptance_criteria = l.acceptance_criteria
    if (l.due_date) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(l.due_date)) errors[`${p}.due_date`] = 'Use a date (YYYY-MM-DD).'
      else line.due_date = l.due_date
    }
    if (l.deposit) {
      if (i > 0) errors[`${p}.deposit`] = 'Only the first milestone may be a deposit.'
      else if (d.payment_mode !== 'by_milestone') errors[`${p}.deposit`] = 'Deposits belong to by_milestone terms.'
      line.deposit = true
    }
    if (byEntry) {
      const n = int(l.entries)
      if (n === null || n < 1 || n > 10_000) errors[`${p}.entries`] = 'How many entries (1 to 10,000)?'
      else {
        line.entries = n
        if (unitPrice !== null && n * unitPrice < min)
          errors[`${p}.entries`] = `This milestone comes to less than the minimum of ${money(min, d.currency)}.`
      }
    } else if (currencyOk) {
      const a = parseMoney(l.amount, d.currency)
      if (a === null || a < 1 || a > MAX_AMOUNT) errors[`${p}.amount`] = 'Enter an amount.'
      else if (a < min) errors[`${p}.amount`] = `A milestone is at least ${money(min, d.currency)}.`
      else line.amount = a
    }
    lines.push(line)
  })
  const total = draftTotal(d)
  const first = d.milestones[0]
  if (first?.deposit && !errors['milestones[0].amount'] && (lineAmount(d, first) ?? 0) * 2 > total)
    errors['milestones[0].amount'] = 'A deposit is at most 50% of the total.'
  if (Object.keys(errors).length) return { body: null, errors }
  const body: TermsBody = {
    title,
    currency: d.currency,
    payment_mode: d.payment_mode,
    review_days: reviewDays!,
    revision_limit: revisionLimit!,
    milestones: lines,
  }
  if (d.description) body.description = d.description
  if (byEntry) {
    body.unit_name = d.unit_name.trim()
    body.unit_price = unitPrice!
  }
  return { body, errors }
}
