import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fee, minimumMilestone } from './money.ts'
import { type ClientRecord, MAX_MILESTONES, type Plan, type PlanInput, planMilestones, trustLevel } from './planner.ts'

const record = (milestonesReleased: number, autoReleased = 0, disputesLost = 0, refundRequests = 0): ClientRecord => ({
  milestonesReleased,
  autoReleased,
  disputesLost,
  refundRequests,
})
const ESTABLISHED = record(7, 1)
const BUILDING = record(2, 0, 0, 1)
const usd = (total: bigint, extra: Partial<PlanInput> = {}): PlanInput => ({
  total,
  currency: 'USD',
  paymentMode: 'by_milestone',
  minimum: 500n,
  client: null,
  ...extra,
})
const amounts = (p: Plan) => p.milestones.map((m) => m.amount)
const work = (p: Plan) => p.milestones.filter((m) => !m.deposit).map((m) => m.amount)

describe('trustLevel', () => {
  it('applies the stated thresholds', () => {
    expect(trustLevel(null)).toBe('new')
    expect(trustLevel(record(0))).toBe('new')
    expect(trustLevel(record(1))).toBe('building')
    expect(trustLevel(record(4))).toBe('building')
    expect(trustLevel(record(5))).toBe('established')
    expect(trustLevel(record(10, 0, 1))).toBe('cautious')
    expect(trustLevel(record(0, 0, 1))).toBe('cautious')
    expect(trustLevel(record(4, 3))).toBe('cautious')
    expect(trustLevel(record(2, 1))).toBe('building') // exactly half is not "more than half"
    expect(trustLevel(record(1, 1))).toBe('building') // the silence rule needs 2 releases
    expect(() => trustLevel(record(1, 2))).toThrow(RangeError)
    expect(planMilestones(usd(1_000_000n)).thresholds.map((t) => t.level)).toEqual([
      'cautious',
      'new',
      'building',
      'established',
    ])
  })
})

describe('planMilestones: exact schedules', () => {
  it('new client, USD 10,000.00: 10%, then doubling, tail balanced', () => {
    const p = planMilestones(usd(1_000_000n))
    expect(p.trust_level).toBe('new')
    expect(amounts(p)).toEqual([100_000n, 200_000n, 350_000n, 350_000n])
    expect(p.milestones.map((m) => m.title)).toEqual(['Milestone 1', 'Milestone 2', 'Milestone 3', 'Milestone 4'])
    expect(p.comparison.by_project).toMatchObject({ largest_at_risk: 1_000_000n, review_cycles: 1, upfront: 0n })
    expect(p.comparison.by_milestone).toMatchObject({ largest_at_risk: 350_000n, review_cycles: 4, upfront: 0n })
    expect(p.comparison.recommended).toBe('by_milestone')
    expect(p.comparison.reasons[0]).toBe(
      'Paid by project, USD 10,000.00 of work is delivered before any payment; with this schedule at most USD 3,500.00 is at risk at a time.',
    )
    expect(p.deposit_advice).toContain('10–20% deposit (USD 1,000.00–USD 2,000.00)')
  })

  it('established and building clients take larger first steps', () => {
    const e = planMilestones(usd(1_000_000n, { client: ESTABLISHED }))
    expect(e.trust_level).toBe('established')
    expect(amounts(e)).toEqual([500_000n, 500_000n])
    expect(e.comparison.recommended).toBe('by_milestone')
    const b = planMilestones(usd(1_000_000n, { client: BUILDING }))
    expect(b.trust_level).toBe('building')
    expect(amounts(b)).toEqual([250_000n, 370_000n, 380_000n])
    expect(b.reasons.join(' ')).toContain('1 refund request')
  })

  it('established client with a small total: by_project recommended', () => {
    const p = planMilestones(usd(50_000n, { client: ESTABLISHED }))
    expect(amounts(p)).toEqual([25_000n, 25_000n])
    expect(p.comparison.recommended).toBe('by_project')
    expect(planMilestones(usd(100_000n, { client: ESTABLISHED })).comparison.recommended).toBe('by_milestone')
  })

  it('cautious clients are planned like new ones', () => {
    const p = planMilestones(usd(1_000_000n, { client: record(9, 0, 1) }))
    expect(p.trust_level).toBe('cautious')
    expect(amounts(p)).toEqual([100_000n, 200_000n, 350_000n, 350_000n])
    expect(p.reasons[0]).toContain('lost 1 dispute')
  })

  it('rounds to nice amounts; the last milestone absorbs the remainder', () => {
    expect(amounts(planMilestones(usd(1_234_567n)))).toEqual([120_000n, 240_000n, 430_000n, 444_567n])
  })

  it('small totals near the minimum: fewer milestones, exceptions stated', () => {
    expect(() => planMilestones(usd(499n))).toThrow(RangeError)
    const one = planMilestones(usd(999n))
    expect(amounts(one)).toEqual([999n])
    expect(one.reasons.join(' ')).toContain('cannot be split: one milestone')
    expect(one.comparison.by_milestone).toMatchObject({ largest_at_risk: 999n, review_cycles: 1 })
    expect(amounts(planMilestones(usd(1000n)))).toEqual([500n, 500n])
    expect(amounts(planMilestones(usd(1500n)))).toEqual([500n, 1000n])
    const p = planMilestones(usd(4000n))
    expect(amounts(p)).toEqual([500n, 1000n, 1200n, 1300n])
    expect(p.reasons.join(' ')).toContain('the first milestone is the minimum itself (USD 5.00)')
    expect(amounts(planMilestones(usd(5000n)))).toEqual([500n, 1000n, 1700n, 1800n])
  })

  it('JPY (exponent 0) and KWD (exponent 3)', () => {
    const jpy = planMilestones({ ...usd(150_000n), currency: 'JPY', minimum: minimumMilestone('JPY') })
    expect(amounts(jpy)).toEqual([15_000n, 30_000n, 52_000n, 53_000n])
    expect(jpy.comparison.reasons[0]).toContain('at most JPY 53,000 is at risk')
    const kwd = planMilestones({ ...usd(1_234_567n), currency: 'KWD', minimum: minimumMilestone('KWD') })
    expect(amounts(kwd)).toEqual([120_000n, 240_000n, 430_000n, 444_567n])
    expect(kwd.comparison.reasons[0]).toContain('KWD 1,234.567')
    const small = planMilestones({ ...usd(12_000n), currency: 'KWD', minimum: 5000n })
    expect(amounts(small)).toEqual([5000n, 7000n])
  })

  it('upfront deposit first, start-small rules over the rest', () => {
    const p = planMilestones(usd(1_000_000n, { upfrontBps: 2000 }))
    expect(p.milestones[0]).toEqual({ title: 'Deposit', amount: 200_000n, deposit: true })
    expect(work(p)).toEqual([80_000n, 160_000n, 280_000n, 280_000n])
    expect(p.deposit_advice).toContain('released to the freelancer as soon as the client funds it')
    expect(p.comparison.by_milestone).toMatchObject({ largest_at_risk: 280_000n, review_cycles: 4, upfront: 200_000n })
    // below the minimum: raised to it; an odd total at 50%: capped at half
    expect(amounts(planMilestones(usd(10_000n, { upfrontBps: 100 })))[0]).toBe(500n)
    expect(planMilestones(usd(1001n, { upfrontBps: 5000 })).milestones).toEqual([
      { title: 'Deposit', amount: 500n, deposit: true },
      { title: 'Milestone 1', amount: 501n, deposit: false },
    ])
    expect(amounts(planMilestones(usd(999n, { upfrontBps: 2000 })))).toEqual([999n])
    expect(() => planMilestones(usd(1000n, { upfrontBps: 5001 }))).toThrow(RangeError)
    expect(() => planMilestones(usd(1000n, { upfrontBps: 12.5 }))).toThrow(RangeError)
  })

  it('by_project: one line for the whole total, comparison still filled in', () => {
    const p = planMilestones(usd(1_000_000n, { paymentMode: 'by_project', upfrontBps: 2000 }))
    expect(p.milestones).toEqual([{ title: 'Whole project', amount: 1_000_000n, deposit: false }])
    expect(p.comparison.by_milestone).toMatchObject({ largest_at_risk: 280_000n, review_cycles: 4, upfront: 200_000n })
    expect(p.deposit_advice).toContain('only possible when paying by milestone')
  })

  it('speaks plainly: no reason or advice names a payment mode by its API identifier', () => {
    const plans = [
      usd(1_000_000n),
      usd(1_000_000n, { paymentMode: 'by_project', upfrontBps: 2000 }),
      usd(100_000n, { client: ESTABLISHED }),
      usd(10_000_000n, { client: ESTABLISHED }),
      usd(100_000n, { client: BUILDING, upfrontBps: 1000 }),
      usd(100_000n, { paymentMode: 'by_entry', entries: { count: 40, unitPrice: 2500n } }),
    ].map(planMilestones)
    for (const p of plans) {
      const text = [...p.reasons, ...p.comparison.reasons, p.deposit_advice ?? ''].join(' ')
      expect(text).not.toMatch(/by_(project|milestone|entry)/)
    }
  })

  it('by_entry: whole entries per milestone, growing like the money schedule', () => {
    const p = planMilestones(usd(100_000n, { paymentMode: 'by_entry', entries: { count: 40, unitPrice: 2500n } }))
    expect(p.milestones).toEqual([
      { title: 'Entries 1–4', amount: 10_000n, deposit: false, entries: 4 },
      { title: 'Entries 5–12', amount: 20_000n, deposit: false, entries: 8 },
      { title: 'Entries 13–26', amount: 35_000n, deposit: false, entries: 14 },
      { title: 'Entries 27–40', amount: 35_000n, deposit: false, entries: 14 },
    ])
    // a unit price below the minimum: every milestone covers at least 5 entries of USD 1.00
    const q = planMilestones(usd(1200n, { paymentMode: 'by_entry', entries: { count: 12, unitPrice: 100n } }))
    expect(q.milestones.map((m) => m.entries)).toEqual([5, 7])
    expect(() => planMilestones(usd(100_000n, { paymentMode: 'by_entry' }))).toThrow(RangeError)
    const wrong = { paymentMode: 'by_entry', entries: { count: 39, unitPrice: 2500n } } as const
    expect(() => planMilestones(usd(100_000n, wrong))).toThrow(RangeError)
  })
})

const clientArb = fc.option(
  fc
    .tuple(fc.nat(20), fc.nat(20), fc.nat(2), fc.nat(3))
    .map(([r, a, d, q]) => record(r, Math.min(a, r), d === 2 ? 0 : d, q)),
  { nil: null },
)
// currencies at their default minimum, plus USD with another configured minimum (1..20,000 minor units)
const minimumArb = fc.oneof(
  fc.constantFrom('USD', 'JPY', 'KWD').map((currency) => ({ currency, minimum: minimumMilestone(currency) })),
  fc.bigInt({ min: 1n, max: 20_000n }).map((minimum) => ({ currency: 'USD', minimum })),
)
const moneyArb = minimumArb.chain(({ currency, minimum }) => {
  const total = fc.oneof(fc.bigInt({ min: minimum, max: 40n * minimum }), fc.bigInt({ min: minimum, max: 10n ** 12n }))
  return fc.record({ currency: fc.constant(currency), minimum: fc.constant(minimum), total })
})
const bpsArb = fc.option(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5000 })), { nil: undefined })

function checkRules(parts: readonly bigint[], amount: bigint, min: bigint, firstBps: number, growth: bigint) {
  expect(parts.reduce((s, p) => s + p, 0n)).toBe(amount)
  expect(parts.length).toBeGreaterThanOrEqual(1)
  expect(parts.length).toBeLessThanOrEqual(MAX_MILESTONES)
  parts.forEach((p, i) => {
    expect(p >= min).toBe(true)
    if (i > 0) expect(p >= parts[i - 1]! && p <= growth * parts[i - 1]!).toBe(true)
  })
  const cap = (amount * BigInt(firstBps)) / 10_000n
  if (cap >= min) expect(parts[0]! <= cap).toBe(true)
  if (amount >= 2n * min) expect(parts.length).toBeGreaterThanOrEqual(2)
}
const RULES = { new: [1000, 2n], cautious: [1000, 2n], building: [2500, 2n], established: [5000, 3n] } as const

describe('planMilestones: properties', () => {
  it('by_milestone: exact sum, minimum, monotone growth, first share, cap, deterministic', () => {
    fc.assert(
      fc.property(moneyArb, clientArb, bpsArb, ({ currency, minimum, total }, client, upfrontBps) => {
        const input: PlanInput = {
          ...{ total, currency, minimum, client, paymentMode: 'by_milestone' },
          ...(upfrontBps === undefined ? {} : { upfrontBps }),
        }
        const p = planMilestones(input)
        expect(planMilestones(input)).toEqual(p)
        const [firstBps, growth] = RULES[p.trust_level]
        if (p.trust_level === 'new' || p.trust_level === 'cautious') expect(firstBps).toBe(1000)
        expect(amounts(p).reduce((s, a) => s + a, 0n)).toBe(total)
        expect(p.milestones.slice(1).every((m) => !m.deposit)).toBe(true)
        const deposit = p.milestones[0]!.deposit ? p.milestones[0]!.amount : 0n
        if ((upfrontBps ?? 0) > 0 && total >= 2n * minimum) {
          const want = fee(total, upfrontBps!)
          const capped = want > total / 2n ? total / 2n : want
          expect(deposit).toBe(capped < minimum ? minimum : capped)
          expect(deposit * 2n <= total && deposit >= minimum).toBe(true)
        } else expect(deposit).toBe(0n)
        checkRules(work(p), total - deposit, minimum, firstBps, growth)
        if (firstBps === 1000 && total - deposit >= 10n * minimum)
          expect(work(p)[0]! * 10n <= total - deposit).toBe(true)
        const largest = work(p).at(-1)! // non-decreasing: the last is the largest
        expect(p.comparison.by_milestone).toMatchObject({ largest_at_risk: largest, upfront: deposit })
        expect(p.comparison.by_milestone.review_cycles).toBe(work(p).length)
        expect(p.comparison.by_project).toMatchObject({ largest_at_risk: total, review_cycles: 1, upfront: 0n })
        if (p.trust_level !== 'established') expect(p.comparison.recommended).toBe('by_milestone')
      }),
      { numRuns: 1000 },
    )
  })

  it('by_entry: whole entries, amounts = entries × unit price, same growth rules', () => {
    const arb = fc.record({
      count: fc.integer({ min: 1, max: 100_000 }),
      unitPrice: fc.bigInt({ min: 1n, max: 10_000_000n }),
      client: clientArb,
    })
    fc.assert(
      fc.property(arb, ({ count, unitPrice, client }) => {
        const total = BigInt(count) * unitPrice
        fc.pre(total >= 500n)
        const input = usd(total, { paymentMode: 'by_entry', client, entries: { count, unitPrice } })
        const p = planMilestones(input)
        expect(planMilestones(input)).toEqual(p)
        const entries = p.milestones.map((m) => BigInt(m.entries!))
        expect(p.milestones.map((m) => m.amount)).toEqual(entries.map((e) => e * unitPrice))
        const minEntries = (500n + unitPrice - 1n) / unitPrice
        const [firstBps, growth] = RULES[p.trust_level]
        checkRules(entries, BigInt(count), minEntries, firstBps, growth)
      }),
      { numRuns: 500 },
    )
  })

  it('by_project: always one milestone of the whole total', () => {
    fc.assert(
      fc.property(moneyArb, clientArb, ({ currency, minimum, total }, client) => {
        const p = planMilestones({ total, currency, minimum, client, paymentMode: 'by_project' })
        expect(p.milestones).toEqual([{ title: 'Whole project', amount: total, deposit: false }])
      }),
    )
  })
})
