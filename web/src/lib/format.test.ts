/** The web app's money wording of server messages (web/src/lib/format.ts): amounts in minor units become money. */
import { describe, expect, it } from 'vitest'
import { entryList, moneyText, monthOf, startOfDay } from './format'

describe('moneyText', () => {
  it.each([
    [
      'Only USD 450.00 (45000 minor units) is available.',
      'USD',
      'insufficient_funds',
      'amount',
      'Only USD 450.00 is available.',
    ],
    [
      'Only USD 1,000.00 (100000 minor units) is held in escrow.',
      'USD',
      'amount_invalid',
      'amount',
      'Only USD 1,000.00 is held in escrow.',
    ],
    [
      'A milestone is at least JPY 500 (500 minor units).',
      'JPY',
      'amount_invalid',
      'milestones[1].amount',
      'A milestone is at least JPY 500.',
    ],
    [
      'The amount must be entries × unit_price = KWD 30.000 (30000 minor units).',
      'KWD',
      'amount_invalid',
      'milestones[0].amount',
      'The amount must be entries × unit_price = KWD 30.000.',
    ],
    ['Approve at least 1 minor unit.', 'USD', 'amount_invalid', 'amount', 'Approve at least USD 0.01.'],
    [
      'The amount must be between 0 and the EUR 250.00 (25000 minor units) held in escrow.',
      'EUR',
      'amount_invalid',
      'release_amount',
      'The amount must be between EUR 0.00 and the EUR 250.00 held in escrow.',
    ],
    [
      'Amounts are integers from 1 to 10^12 minor units.',
      'USD',
      'amount_invalid',
      'milestones[0].amount',
      'Amounts are from USD 0.01 to USD 10,000,000,000.00.',
    ],
    [
      'Invalid parameter milestones[0].amount: must be at least 1.',
      'USD',
      'parameter_invalid',
      'milestones[0].amount',
      'Invalid parameter milestones[0].amount: must be at least USD 0.01.',
    ],
    [
      'The total is below the minimum milestone of USD 5.00 (500 minor units).',
      'USD',
      'amount_invalid',
      'total',
      'The total is below the minimum milestone of USD 5.00.',
    ],
  ])('%s (%s) → %s', (message, currency, code, param, want) => {
    expect(moneyText(message, currency, { code, param })).toBe(want)
  })

  it('leaves numbers that are not amounts alone', () => {
    const same = (message: string, code: string, param: string | null = null) =>
      expect(moneyText(message, 'USD', { code, param })).toBe(message)
    same('Entry 6 is not one of 1..5 of this milestone.', 'parameter_invalid', 'entries')
    same('All 3 revisions are used: approve the milestone or open a dispute.', 'revision_limit_reached')
    same('A deposit is at most 50% of the total.', 'terms_invalid', 'milestones[0].amount')
    same('At most 200 characters.', 'parameter_invalid', 'name')
    // without a known currency nothing can be said in money
    expect(moneyText('Only 100000 is held in escrow.', null, { code: 'amount_invalid' })).toBe(
      'Only 100000 is held in escrow.',
    )
  })
})

describe('startOfDay', () => {
  it('is the instant a day begins in a time zone, daylight saving included', () => {
    expect(startOfDay('2026-12-18', 'UTC')).toBe('2026-12-18T00:00:00.000Z')
    expect(startOfDay('2026-12-18', 'Asia/Tokyo')).toBe('2026-12-17T15:00:00.000Z')
    expect(startOfDay('2026-12-18', 'America/New_York')).toBe('2026-12-18T05:00:00.000Z')
    expect(startOfDay('2026-07-01', 'America/New_York')).toBe('2026-07-01T04:00:00.000Z')
    expect(startOfDay('2026-03-29', 'Europe/Berlin')).toBe('2026-03-28T23:00:00.000Z') // the day clocks go forward
    expect(startOfDay('2026-12-31', 'Asia/Kolkata', 1)).toBe('2026-12-31T18:30:00.000Z') // the next day
  })
})

describe('monthOf', () => {
  it('is the month an instant falls in, in a time zone', () => {
    expect(monthOf('2026-11-30T23:30:00.000Z', 'UTC')).toBe('2026-11')
    expect(monthOf('2026-11-30T23:30:00.000Z', 'Asia/Tokyo')).toBe('2026-12')
    expect(monthOf('2027-01-01T03:00:00.000Z', 'America/New_York')).toBe('2026-12')
    expect(monthOf('2026-12-31T18:30:00.000Z', 'Asia/Kolkata')).toBe('2027-01')
  })
})

describe('entryList', () => {
  it.each([
    [[], ''],
    [[4], '#4'],
    [[1, 2], '#1, #2'],
    [[1, 2, 3], '#1–#3'],
    [[5, 1, 3, 2, 9, 10], '#1–#3, #5, #9, #10'],
    [[7, 7, 8, 9], '#7–#9'],
  ])('%j → %s', (numbers, want) => {
    expect(entryList(numbers)).toBe(want)
  })
})
