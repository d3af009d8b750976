import { describe, expect, it } from 'vitest'
import { isCalendarDate, lineAmount, type TermsInput, validateTerms } from './terms.ts'
import { errorOf, line, POLICY, termsInput } from './test-support.ts'

const validate = (extra: Partial<TermsInput>) => validateTerms(termsInput(extra), POLICY)
const rejection = (extra: Partial<TermsInput>) => {
  const e = errorOf(() => validate(extra))
  return { code: e.code, param: e.param }
}

describe('validateTerms: currency', () => {
  it('accepts supported upper-case codes', () => {
    expect(validate({ currency: 'USD' }).currency).toBe('USD')
    expect(validate({ currency: 'JPY', milestones: [line(5n)] }).milestones[0]!.amount).toBe(5n)
    expect(validate({ currency: 'KWD', milestones: [line(5000n)] }).milestones[0]!.amount).toBe(5000n)
  })

  it('refuses unknown or lower-case codes with currency_unsupported', () => {
    for (const currency of ['usd', 'XXX', 'ABC', 'US', '']) {
      expect(rejection({ currency })).toEqual({ code: 'currency_unsupported', param: 'currency' })
    }
  })
})

describe('validateTerms: minimum milestone amount per currency', () => {
  it('USD 500, JPY 5, KWD 5000 minor units', () => {
    expect(validate({ currency: 'USD', milestones: [line(500n)] }).milestones[0]!.amount).toBe(500n)
    expect(rejection({ currency: 'USD', milestones: [line(499n)] })).toEqual({
      code: 'amount_invalid',
      param: 'milestones[0].amount',
    })
    expect(rejection({ currency: 'JPY', milestones: [line(4n)] })).toEqual({
      code: 'amount_invalid',
      param: 'milestones[0].amount',
    })
    expect(rejection({ currency: 'KWD', milestones: [line(4999n)] })).toEqual({
      code: 'amount_invalid',
      param: 'milestones[0].amount',
    })
    expect(rejection({ milestones: [line(1000n), line(100n)] })).toEqual({
      code: 'amount_invalid',
      param: 'milestones[1].amount',
    })
  })

  it('the minimum is configurable', () => {
    expect(() => validateTerms(termsInput({ milestones: [line(900n)] }), { minimumMajor: 10n })).toThrow(
      /at least USD 10.00 \(1000 minor units\)/,
    )
    expect(validateTerms(termsInput({ milestones: [line(900n)] }), { minimumMajor: 1n }).milestones[0]!.amount).toBe(
      900n,
    )
  })

  it('amounts are 1..10^12', () => {
    expect(validate({ milestones: [line(1_000_000_000_000n)] }).milestones[0]!.amount).toBe(1_000_000_000_000n)
    expect(rejection({ milestones: [line(1_000_000_000_001n)] }).code).toBe('amount_invalid')
    expect(rejection({ milestones: [line(-500n)] }).code).toBe('amount_invalid')
  })

  it('a by_milestone line without an amount is parameter_missing', () => {
    expect(rejection({ milestones: [line(null)] })).toEqual({
      code: 'parameter_missing',
      param: 'milestones[0].amount',
    })
  })
})

describe('validateTerms: deposits', () => {
  it('a first-milestone deposit of at most 50% of the total is accepted', () => {
    const t = validate({ milestones: [line(50_000n, { deposit: true }), line(50_000n)] })
    expect(t.milestones.map((m) => m.deposit)).toEqual([true, false])
    expect(validate({ milestones: [line(10_000n, { deposit: true }), line(90_000n)] }).milestones[0]!.deposit).toBe(
      true,
    )
  })

  it('more than 50% is terms_invalid', () => {
    expect(rejection({ milestones: [line(50_001n, { deposit: true }), line(50_000n)] })).toEqual({
      code: 'terms_invalid',
      param: 'milestones[0].amount',
    })
    expect(rejection({ milestones: [line(50_000n, { deposit: true })] }).code).toBe('terms_invalid')
  })

  it('only the first milestone may be a deposit', () => {
    expect(rejection({ milestones: [line(50_000n), line(10_000n, { deposit: true }), line(50_000n)] })).toEqual({
      code: 'terms_invalid',
      param: 'milestones[1].deposit',
    })
  })

  it('deposits belong to by_milestone terms', () => {
    expect(rejection({ paymentMode: 'by_project', milestones: [line(50_000n, { deposit: true })] }).code).toBe(
      'terms_invalid',
    )
    const byEntry = { paymentMode: 'by_entry' as const, unitName: 'article', unitPrice: 1000n }
    expect(
      rejection({ ...byEntry, milestones: [line(null, { entries: 1, deposit: true }), line(null, { entries: 5 })] }),
    ).toEqual({
      code: 'terms_invalid',
      param: 'milestones[0].deposit',
    })
  })
})

describe('validateTerms: by_project', () => {
  it('has exactly one milestone', () => {
    expect(validate({ paymentMode: 'by_project', milestones: [line(100_000n)] }).milestones).toHaveLength(1)
    expect(rejection({ paymentMode: 'by_project', milestones: [line(50_000n), line(50_000n)] })).toEqual({
      code: 'terms_invalid',
      param: 'milestones',
    })
    expect(rejection({ paymentMode: 'by_project', milestones: [] }).code).toBe('terms_invalid')
  })

  it('unit_price and entries belong to by_entry terms', () => {
    expect(rejection({ unitPrice: 1000n })).toEqual({ code: 'terms_invalid', param: 'unit_price' })
    expect(rejection({ milestones: [line(1000n, { entries: 1 })] })).toEqual({
      code: 'terms_invalid',
      param: 'milestones[0].entries',
    })
  })
})

describe('validateTerms: by_entry', () => {
  const byEntry = { paymentMode: 'by_entry' as const, unitName: 'article', unitPrice: 2_500n }

  it('computes each amount as entries × unit_price', () => {
    const t = validate({ ...byEntry, milestones: [line(null, { entries: 4 }), line(null, { entries: 1 })] })
    expect(t.milestones.map((m) => m.amount)).toEqual([10_000n, 2_500n])
    expect(t.milestones.map((m) => m.entries)).toEqual([4, 1])
  })

  it('accepts a given amount that agrees', () => {
    expect(validate({ ...byEntry, milestones: [line(10_000n, { entries: 4 })] }).milestones[0]!.amount).toBe(10_000n)
  })

  it('a given amount that disagrees is amount_invalid', () => {
    const e = errorOf(() => validate({ ...byEntry, milestones: [line(10_001n, { entries: 4 })] }))
    expect([e.code, e.param]).toEqual(['amount_invalid', 'milestones[0].amount'])
    expect(e.message).toContain('10000')
  })

  it('needs unit_price, unit_name and entries', () => {
    expect(rejection({ ...byEntry, unitPrice: null, milestones: [line(null, { entries: 4 })] })).toEqual({
      code: 'terms_invalid',
      param: 'unit_price',
    })
    expect(rejection({ ...byEntry, unitName: null, milestones: [line(null, { entries: 4 })] })).toEqual({
      code: 'terms_invalid',
      param: 'unit_name',
    })
    expect(rejection({ ...byEntry, milestones: [line(null)] })).toEqual({
      code: 'terms_invalid',
      param: 'milestones[0].entries',
    })
  })

  it('the computed amount must reach the minimum', () => {
    expect(rejection({ ...byEntry, unitPrice: 100n, milestones: [line(null, { entries: 4 })] }).code).toBe(
      'amount_invalid',
    )
    expect(
      validate({ ...byEntry, unitPrice: 100n, milestones: [line(null, { entries: 5 })] }).milestones[0]!.amount,
    ).toBe(500n)
  })
})

describe('lineAmount (used by amendments)', () => {
  it('checks one line against the contract mode', () => {
    const byEntry = { paymentMode: 'by_entry' as const, unitPrice: 1_000n, currency: 'USD' }
    expect(lineAmount(line(null, { entries: 3 }), 2, byEntry, 500n).amount).toBe(3000n)
    expect(errorOf(() => lineAmount(line(2999n, { entries: 3 }), 2, byEntry, 500n)).param).toBe('milestones[2].amount')
    expect(
      lineAmount(line(700n), 0, { paymentMode: 'by_milestone', unitPrice: null, currency: 'USD' }, 500n).amount,
    ).toBe(700n)
  })
})

describe('due dates', () => {
  it('are days of the calendar: months 1–12, the days of that month, February 29 in leap years only', () => {
    for (const d of ['2025-01-31', '2024-02-29', '2000-02-29', '2030-12-31']) expect(isCalendarDate(d), d).toBe(true)
    for (const d of [
      '2025-13-01',
      '2025-00-10',
      '2025-02-29',
      '1900-02-29',
      '2025-04-31',
      '2025-01-00',
      '2025-1-01',
      '',
    ])
      expect(isCalendarDate(d), d).toBe(false)
  })

  it('a line whose due date is no date is refused naming it', () => {
    const e = errorOf(() => validate({ milestones: [line(10_000n, { dueDate: '2025-02-30' })] }))
    expect([e.code, e.param]).toEqual(['parameter_invalid', 'milestones[0].due_date'])
  })
})
