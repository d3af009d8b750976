/**
 * Worlds for the model-based tests: the contracts a run starts with (random specs of currency, payment mode, fees and
 * milestones) and the offer terms each spec stands for.
 */
import fc from 'fast-check'
import { minimumMilestone } from '../../src/domain/money.ts'
import type { MilestoneInput, PaymentMode, TermsInput } from '../../src/domain/terms.ts'
import { DAY_MS } from '../../src/domain/types.ts'

export const MINIMUM_MAJOR = 5n

export interface MilestoneSpec {
  readonly extra: bigint
  readonly entries: number
  readonly dueInDays: number | null
}

export interface ContractSpec {
  readonly currency: string
  readonly mode: PaymentMode
  readonly client: number
  readonly freelancerOffset: number
  readonly authorIsClient: boolean
  readonly reviewDays: number
  readonly revisionLimit: number
  readonly deposit: boolean
  readonly unitExtra: bigint
  readonly milestones: readonly MilestoneSpec[]
  readonly clientFeeBps: number
  readonly serviceFeeBps: number
}

export interface WorldSpec {
  readonly contracts: readonly ContractSpec[]
}

export const extraArb = fc.oneof(
  { arbitrary: fc.bigInt({ min: 0n, max: 200n }), weight: 4 },
  { arbitrary: fc.bigInt({ min: 0n, max: 50_000_000n }), weight: 2 },
  { arbitrary: fc.bigInt({ min: 0n, max: 199_000_000_000n }), weight: 1 },
)
export const dueArb = fc.option(fc.constantFrom(-30, -1, 0, 3, 20, 60), { nil: null, freq: 2 })
const bpsArb = fc.constantFrom(0, 1, 250, 333, 500, 1000, 1250, 4999, 9999, 10_000)

export const milestoneSpecArb: fc.Arbitrary<MilestoneSpec> = fc.record({
  extra: extraArb,
  entries: fc.integer({ min: 1, max: 5 }),
  dueInDays: dueArb,
})

export const contractSpecArb = (fixedFees: boolean): fc.Arbitrary<ContractSpec> =>
  fc.record({
    currency: fc.constantFrom('USD', 'JPY', 'KWD'),
    mode: fc.constantFrom<PaymentMode>('by_milestone', 'by_milestone', 'by_entry', 'by_project'),
    client: fc.integer({ min: 0, max: 2 }),
    freelancerOffset: fc.integer({ min: 1, max: 2 }),
    authorIsClient: fc.boolean(),
    reviewDays: fc.constantFrom(1, 2, 3, 7, 14, 30),
    revisionLimit: fc.integer({ min: 0, max: 3 }),
    deposit: fc.boolean(),
    unitExtra: extraArb,
    milestones: fc.array(milestoneSpecArb, { minLength: 1, maxLength: 4 }),
    clientFeeBps: fixedFees ? fc.constant(500) : bpsArb,
    serviceFeeBps: fixedFees ? fc.constant(1000) : bpsArb,
  })

export const worldArb = (fixedFees = false): fc.Arbitrary<WorldSpec> =>
  fc.record({ contracts: fc.array(contractSpecArb(fixedFees), { minLength: 2, maxLength: 4 }) })

/** The smaller of two bigints (Math.min does not take them). */
export const minBig = (a: bigint, b: bigint) => (a < b ? a : b)

export const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)
export const dueDate = (base: number, days: number | null) => (days === null ? null : isoDay(base + days * DAY_MS))

/** The offer terms of a contract spec (always valid under SPEC §4). */
export function termsOf(spec: ContractSpec, base: number): TermsInput {
  const min = minimumMilestone(spec.currency, MINIMUM_MAJOR)
  const lines = spec.mode === 'by_project' ? spec.milestones.slice(0, 1) : spec.milestones
  const unitPrice = spec.mode === 'by_entry' ? min + spec.unitExtra : null
  const milestones: MilestoneInput[] = lines.map((m, i) => ({
    title: `Stage ${i + 1}`,
    description: '',
    acceptanceCriteria: '',
    amount: spec.mode === 'by_entry' ? null : min + m.extra,
    dueDate: dueDate(base, m.dueInDays),
    deposit: false,
    entries: spec.mode === 'by_entry' ? m.entries : null,
  }))
  const first = milestones[0]
  if (spec.mode === 'by_milestone' && spec.deposit && milestones.length >= 2 && first) {
    const others = milestones.slice(1).reduce((s, m) => s + (m.amount ?? 0n), 0n)
    const amount = minBig(first.amount!, others)
    milestones[0] = { ...first, amount, deposit: true }
  }
  return {
    title: 'Model job',
    description: '',
    currency: spec.currency,
    paymentMode: spec.mode,
    reviewDays: spec.reviewDays,
    revisionLimit: spec.revisionLimit,
    unitName: spec.mode === 'by_entry' ? 'article' : null,
    unitPrice,
    milestones,
  }
}
