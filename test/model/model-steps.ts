/**
 * Steps for the model-based tests: abstract commands drawn at random, resolved against the current state only when
 * they run (model-resolve.ts).
 */
import fc from 'fast-check'
import { dueArb, extraArb } from './model-world.ts'

export type Who = 'auto' | 'client' | 'freelancer' | 'stranger' | 'admin'
export type Side = 'client' | 'freelancer'
/** A release amount relative to what is held: all, 0, 1, one more than held, or a share in basis points. */
export type Frac = 'all' | 'zero' | 'one' | 'over' | number

export interface AddSpec {
  readonly extra: bigint
  readonly entries: number
  readonly dueInDays: number | null
  readonly belowMin: boolean
}
export interface EditSpec {
  readonly m: number
  readonly what: 'amount' | 'entries' | 'due' | 'title'
  readonly extra: bigint
  readonly entries: number
  readonly dueInDays: number | null
}

export type Step =
  | {
      readonly t: 'fund'
      readonly c: number
      readonly ms: readonly number[]
      readonly smart: boolean
      readonly who: Who
    }
  | {
      readonly t: 'submit'
      readonly c: number
      readonly m: number
      readonly smart: boolean
      readonly who: Who
      readonly entries: readonly number[] | null
    }
  | {
      readonly t: 'request_changes' | 'request_refund' | 'refund'
      readonly c: number
      readonly m: number
      readonly smart: boolean
      readonly who: Who
    }
  | {
      readonly t: 'approve'
      readonly c: number
      readonly m: number
      readonly smart: boolean
      readonly who: Who
      readonly amount: Frac | null
      readonly entries: readonly number[] | null
      readonly rest: 'refund' | 'rework'
      readonly bonus: bigint | null
    }
  | {
      readonly t: 'answer_refund'
      readonly c: number
      readonly m: number
      readonly smart: boolean
      readonly who: Who
      readonly accept: boolean
    }
  | {
      readonly t: 'open_dispute'
      readonly c: number
      readonly m: number
      readonly smart: boolean
      readonly who: Who
      readonly side: Side
      readonly release: Frac
    }
  | {
      readonly t: 'propose'
      readonly c: number
      readonly d: number
      readonly smart: boolean
      readonly who: Who
      readonly side: 'other' | 'opener' | 'admin'
      readonly release: Frac
    }
  | {
      readonly t: 'accept_proposal'
      readonly c: number
      readonly d: number
      readonly p: number
      readonly smart: boolean
      readonly who: Who
    }
  | {
      readonly t: 'escalate'
      readonly c: number
      readonly d: number
      readonly smart: boolean
      readonly who: Who
      readonly side: Side
    }
  | {
      readonly t: 'decide'
      readonly c: number
      readonly d: number
      readonly smart: boolean
      readonly who: Who
      readonly release: Frac
    }
  | { readonly t: 'end'; readonly c: number; readonly who: Who; readonly side: Side }
  | {
      readonly t: 'amend'
      readonly c: number
      readonly who: Who
      readonly side: Side
      readonly smart: boolean
      readonly add: readonly AddSpec[]
      readonly edit: readonly EditSpec[]
      readonly remove: readonly number[]
    }
  | {
      readonly t: 'answer_amendment'
      readonly c: number
      readonly a: number
      readonly smart: boolean
      readonly who: Who
      readonly verb: 'accept' | 'reject' | 'withdraw'
    }
  | { readonly t: 'advance'; readonly seconds: number }

const ix = fc.nat({ max: 999 })
const smartArb = fc.oneof({ arbitrary: fc.constant(true), weight: 9 }, { arbitrary: fc.constant(false), weight: 1 })
const whoArb: fc.Arbitrary<Who> = fc.oneof(
  { arbitrary: fc.constant<Who>('auto'), weight: 14 },
  { arbitrary: fc.constantFrom<Who>('client', 'freelancer', 'stranger', 'admin'), weight: 2 },
)
const sideArb = fc.constantFrom<Side>('client', 'freelancer')
const fracArb: fc.Arbitrary<Frac> = fc.oneof(
  { arbitrary: fc.constantFrom<Frac>('all', 'zero', 'one'), weight: 3 },
  { arbitrary: fc.constant<Frac>('over'), weight: 1 },
  { arbitrary: fc.integer({ min: 1, max: 9999 }), weight: 4 },
)
const entriesPickArb = fc.option(fc.array(ix, { minLength: 1, maxLength: 4 }), { nil: null })
const secondsArb = fc.oneof(
  fc.constantFrom(
    60,
    3_600,
    86_400,
    2 * 86_400,
    3 * 86_400,
    5 * 86_400,
    7 * 86_400,
    14 * 86_400,
    30 * 86_400,
    91 * 86_400,
  ),
  fc.integer({ min: 1, max: 20 * 86_400 }),
)

const addArb: fc.Arbitrary<AddSpec> = fc.record({
  extra: extraArb,
  entries: fc.integer({ min: 1, max: 4 }),
  dueInDays: dueArb,
  belowMin: fc.oneof({ arbitrary: fc.constant(false), weight: 9 }, { arbitrary: fc.constant(true), weight: 1 }),
})
const editArb: fc.Arbitrary<EditSpec> = fc.record({
  m: ix,
  what: fc.constantFrom('amount', 'entries', 'due', 'title'),
  extra: extraArb,
  entries: fc.integer({ min: 1, max: 4 }),
  dueInDays: dueArb,
})

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    arbitrary: fc.record({
      t: fc.constant('fund' as const),
      c: ix,
      ms: fc.array(ix, { minLength: 1, maxLength: 3 }),
      smart: smartArb,
      who: whoArb,
    }),
    weight: 14,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('submit' as const),
      c: ix,
      m: ix,
      smart: smartArb,
      who: whoArb,
      entries: entriesPickArb,
    }),
    weight: 12,
  },
  {
    arbitrary: fc.record({
      t: fc.constantFrom('request_changes' as const, 'request_refund' as const, 'refund' as const),
      c: ix,
      m: ix,
      smart: smartArb,
      who: whoArb,
    }),
    weight: 8,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('approve' as const),
      c: ix,
      m: ix,
      smart: smartArb,
      who: whoArb,
      amount: fc.option(fracArb, { nil: null }),
      entries: entriesPickArb,
      rest: fc.constantFrom<'refund' | 'rework'>('refund', 'rework', 'rework'),
      bonus: fc.option(fc.bigInt({ min: 1n, max: 5_000_000_000n }), { nil: null, freq: 4 }),
    }),
    weight: 12,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('answer_refund' as const),
      c: ix,
      m: ix,
      smart: smartArb,
      who: whoArb,
      accept: fc.boolean(),
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('open_dispute' as const),
      c: ix,
      m: ix,
      smart: smartArb,
      who: whoArb,
      side: sideArb,
      release: fracArb,
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('propose' as const),
      c: ix,
      d: ix,
      smart: smartArb,
      who: whoArb,
      side: fc.constantFrom<'other' | 'opener' | 'admin'>('other', 'other', 'opener', 'admin'),
      release: fracArb,
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('accept_proposal' as const),
      c: ix,
      d: ix,
      p: ix,
      smart: smartArb,
      who: whoArb,
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('escalate' as const),
      c: ix,
      d: ix,
      smart: smartArb,
      who: whoArb,
      side: sideArb,
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('decide' as const),
      c: ix,
      d: ix,
      smart: smartArb,
      who: whoArb,
      release: fracArb,
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ t: fc.constant('end' as const), c: ix, who: whoArb, side: sideArb }), weight: 2 },
  {
    arbitrary: fc.record({
      t: fc.constant('amend' as const),
      c: ix,
      who: whoArb,
      side: sideArb,
      smart: smartArb,
      add: fc.array(addArb, { maxLength: 2 }),
      edit: fc.array(editArb, { maxLength: 2 }),
      remove: fc.array(ix, { maxLength: 2 }),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      t: fc.constant('answer_amendment' as const),
      c: ix,
      a: ix,
      smart: smartArb,
      who: whoArb,
      verb: fc.constantFrom<'accept' | 'reject' | 'withdraw'>('accept', 'accept', 'reject', 'withdraw'),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ t: fc.constant('advance' as const), seconds: secondsArb }), weight: 12 },
)

export const stepsArb = (maxLength: number, minLength = 1) => fc.array(stepArb, { minLength, maxLength, size: 'max' })
