/** What changed between two revisions of offer terms (web/src/lib/diff.ts). */
import { describe, expect, it } from 'vitest'
import type { OfferTerms } from '../api/types'
import { diffTerms } from './diff'

const terms = (over: Partial<OfferTerms>): OfferTerms =>
  ({
    title: 'Articles',
    description: '',
    currency: 'USD',
    payment_mode: 'by_entry',
    review_days: 14,
    revision_limit: 3,
    unit_name: 'article',
    unit_price: 5_000,
    total: 20_000,
    milestones: [],
    ...over,
  }) as OfferTerms

describe('diffTerms', () => {
  it('tells each revision in its own currency when a counter changes it', () => {
    const changes = diffTerms(terms({}), terms({ currency: 'JPY', unit_price: 6_000, total: 24_000 }))
    const of = (what: string) => changes.find((c) => c.what === what)
    expect(of('Unit price')).toMatchObject({
      before: expect.stringContaining('50.00'),
      after: expect.stringContaining('6,000'),
    })
    expect(of('Total')?.before).toMatch(/USD|\$/)
    expect(of('Total')?.after).toMatch(/JPY|¥/)
  })

  it('shows an amount that is the same number in another currency as changed', () => {
    const changes = diffTerms(terms({}), terms({ currency: 'JPY', unit_price: 5_000, total: 20_000 }))
    expect(changes.map((c) => c.what)).toEqual(expect.arrayContaining(['Currency', 'Unit price', 'Total']))
  })

  it('lists nothing when nothing changed', () => {
    expect(diffTerms(terms({}), terms({}))).toEqual([])
  })
})
