/** What changed between two revisions of offer terms: field by field, and milestone line by line. */
import type { OfferTerms } from '../api/types'
import { money } from './format'

export interface Change {
  what: string
  before: string
  after: string
  kind: 'changed' | 'added' | 'removed'
}

type Line = OfferTerms['milestones'][number]

function lineText(l: Line, currency: string) {
  return `${l.title} — ${money(l.amount, currency)}${l.deposit ? ' (deposit)' : ''}${l.entries ? ` · ${l.entries} entries` : ''}${l.due_date ? ` · due ${l.due_date}` : ''}`
}

export function diffTerms(a: OfferTerms, b: OfferTerms): Change[] {
  const out: Change[] = []
  const cur = b.currency
  const field = (
    what: string,
    x: unknown,
    y: unknown,
    fmt: (v: unknown, currency: string) => string = (v) => (v === null || v === '' ? '—' : String(v)),
  ) => {
    // each side in its own revision's currency (a counter may change it)
    const inOtherCurrency = fmt.length > 1 && a.currency !== cur && !(x === null && y === null)
    if (JSON.stringify(x) !== JSON.stringify(y) || inOtherCurrency)
      out.push({ what, before: fmt(x, a.currency), after: fmt(y, cur), kind: 'changed' })
  }
  field('Title', a.title, b.title)
  field('Description', a.description, b.description)
  field('Currency', a.currency, b.currency)
  field('Payment mode', a.payment_mode, b.payment_mode)
  field('Review window', a.review_days, b.review_days, (v) => `${v} days`)
  field('Revision limit', a.revision_limit, b.revision_limit)
  field('Unit', a.unit_name, b.unit_name)
  field('Unit price', a.unit_price, b.unit_price, (v, c) => (v === null ? '—' : money(v as number, c)))
  field('Total', a.total, b.total, (v, c) => money(v as number, c))
  const n = Math.max(a.milestones.length, b.milestones.length)
  for (let i = 0; i < n; i++) {
    const x = a.milestones[i]
    const y = b.milestones[i]
    const what = `Milestone ${i + 1}`
    if (x && !y) out.push({ what, before: lineText(x, a.currency), after: '—', kind: 'removed' })
    else if (!x && y) out.push({ what, before: '—', after: lineText(y, cur), kind: 'added' })
    else if (x && y && JSON.stringify(x) !== JSON.stringify(y)) {
      out.push({ what, before: lineText(x, a.currency), after: lineText(y, cur), kind: 'changed' })
      if (x.acceptance_criteria !== y.acceptance_criteria)
        out.push({
          what: `${what} acceptance criteria`,
          before: x.acceptance_criteria || '—',
          after: y.acceptance_criteria || '—',
          kind: 'changed',
        })
      if (x.description !== y.description)
        out.push({
          what: `${what} description`,
          before: x.description || '—',
          after: y.description || '—',
          kind: 'changed',
        })
    }
  }
  return out
}
