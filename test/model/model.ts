/**
 * The model shared by the model-based tests: random worlds (several contracts in several currencies between a few
 * users), random abstract steps, their resolution into concrete domain commands against the current state, and a
 * pure model that applies them through the domain deciders while keeping an in-memory double-entry ledger and the
 * timer table, checking the invariants of SPEC §3, §5, §6 and §7 after every step.
 */
import fc from 'fast-check'
import { type ContractCommand, decideContract } from '../../src/domain/contract-commands.ts'
import {
  type Contract,
  createContract,
  isTerminal,
  type Milestone,
  type MilestoneState,
} from '../../src/domain/contract-model.ts'
import type { ContractDecision } from '../../src/domain/contract-work.ts'
import { type DisputeCommand, decideDispute } from '../../src/domain/dispute-commands.ts'
import { DomainError } from '../../src/domain/errors.ts'
import {
  available,
  escrow,
  holdReleaseLines,
  isBalanced,
  type JournalEntry,
  PLATFORM,
  pending,
  RAIL,
} from '../../src/domain/ledger.ts'
import { decideMilestone, type MilestoneCommand } from '../../src/domain/milestone-commands.ts'
import { fee, minimumMilestone } from '../../src/domain/money.ts'
import { createOffer, decideOffer } from '../../src/domain/offer.ts'
import { type MilestoneInput, type PaymentMode, type TermsInput, validateTerms } from '../../src/domain/terms.ts'
import { type Actor, DAY_MS, type DecisionContext, type TimerSpec } from '../../src/domain/types.ts'

export const DEEP = Boolean(process.env.TRANCHE_DEEP)
export const MINIMUM_MAJOR = 5n

// ---------------------------------------------------------------------------------------------------------------
// Worlds: the contracts a run starts with

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

const extraArb = fc.oneof(
  { arbitrary: fc.bigInt({ min: 0n, max: 200n }), weight: 4 },
  { arbitrary: fc.bigInt({ min: 0n, max: 50_000_000n }), weight: 2 },
  { arbitrary: fc.bigInt({ min: 0n, max: 199_000_000_000n }), weight: 1 },
)
const dueArb = fc.option(fc.constantFrom(-30, -1, 0, 3, 20, 60), { nil: null, freq: 2 })
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
const minBig = (a: bigint, b: bigint) => (a < b ? a : b)

export const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const dueDate = (base: number, days: number | null) => (days === null ? null : isoDay(base + days * DAY_MS))

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

// ---------------------------------------------------------------------------------------------------------------
// Steps: abstract commands, resolved against the current state when they run

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

// ---------------------------------------------------------------------------------------------------------------
// Resolution: an abstract step → a concrete command on the current state

export type Party = 'client' | 'freelancer' | 'stranger' | 'admin'
/**
 * What SPEC §2/§5 says about this actor for this command: `allowed`; `wrong_role` (a party of the other role, or the
 * admin where only parties act: 403 actor_not_allowed); `not_party` (404 resource_missing); `self` (a party who may
 * not answer its own proposal or amendment, or withdraw the other's: refused).
 */
export type Expectation = 'allowed' | 'wrong_role' | 'not_party' | 'self'

export type Resolved =
  | { readonly kind: 'advance'; readonly seconds: number }
  | {
      readonly kind: 'milestone'
      readonly c: number
      readonly who: Party
      readonly cmd: MilestoneCommand
      readonly expect: Expectation
    }
  | {
      readonly kind: 'dispute'
      readonly c: number
      readonly who: Party
      readonly cmd: DisputeCommand
      readonly expect: Expectation
    }
  | {
      readonly kind: 'contract'
      readonly c: number
      readonly who: Party
      readonly cmd: ContractCommand
      readonly expect: Expectation
    }

const at = <T>(list: readonly T[], i: number): T | undefined => (list.length ? list[i % list.length] : undefined)

function candidates(c: Contract, states: readonly MilestoneState[], smart: boolean): readonly Milestone[] {
  if (!smart) return c.milestones
  const f = c.milestones.filter((m) => states.includes(m.state))
  return f.length ? f : c.milestones
}

export function fracOf(f: Frac, whole: bigint): bigint {
  if (f === 'all') return whole
  if (f === 'zero') return 0n
  if (f === 'one') return whole > 0n ? 1n : 0n
  if (f === 'over') return whole + 1n
  return (whole * BigInt(f)) / 10_000n
}

const openEntries = (m: Milestone) =>
  Array.from({ length: m.entries ?? 0 }, (_, i) => i + 1).filter((n) => !m.acceptedEntries.includes(n))

function pickEntries(m: Milestone, picks: readonly number[] | null): number[] | null {
  if (picks === null) return null
  const open = openEntries(m)
  if (!open.length) return null
  return [...new Set(picks.map((i) => open[i % open.length]!))]
}

function roleExpect(who: Party, allowed: readonly Party[]): Expectation {
  if (who === 'stranger') return 'not_party'
  return allowed.includes(who) ? 'allowed' : 'wrong_role'
}

const auto = (who: Who, dflt: Party): Party => (who === 'auto' ? dflt : who)

const STEP_STATES: Partial<Record<Step['t'], readonly MilestoneState[]>> = {
  fund: ['pending'],
  submit: ['funded', 'changes_requested'],
  request_changes: ['submitted'],
  request_refund: ['funded', 'changes_requested'],
  refund: ['funded', 'submitted', 'changes_requested'],
  approve: ['funded', 'submitted', 'changes_requested'],
  answer_refund: ['refund_requested'],
  open_dispute: ['funded', 'submitted', 'changes_requested', 'refund_requested'],
}

/** The contract a step aims at: a smart step picks among the contracts where it can act. */
function focus(step: Exclude<Step, { t: 'advance' }>, contracts: readonly Contract[]): number {
  const all = contracts.map((_, i) => i)
  if ('smart' in step && !step.smart) return step.c % contracts.length
  const states = STEP_STATES[step.t]
  const can = (c: Contract): boolean => {
    if (states) return c.milestones.some((m) => states.includes(m.state))
    switch (step.t) {
      case 'propose':
      case 'accept_proposal':
      case 'escalate':
        return c.disputes.some((d) => d.status === 'awaiting_response' || d.status === 'negotiation')
      case 'decide':
        return c.disputes.some((d) => d.status === 'arbitration')
      case 'answer_amendment':
        return c.amendments.some((a) => a.status === 'proposed')
      default:
        return c.status === 'active'
    }
  }
  const eligible = all.filter((i) => can(contracts[i]!))
  return (eligible.length ? eligible : all)[step.c % (eligible.length || all.length)]!
}

/** Resolves a step against the contracts as they are now; null when there is nothing to aim at. */
export function resolveStep(step: Step, contracts: readonly Contract[], base: number): Resolved | null {
  if (step.t === 'advance') return { kind: 'advance', seconds: step.seconds }
  const ci = focus(step, contracts)
  const c = contracts[ci]!
  const ms = (m: number, states: readonly MilestoneState[], smart: boolean) => at(candidates(c, states, smart), m)
  const milestone = (who: Party, allowed: readonly Party[], cmd: MilestoneCommand): Resolved => ({
    kind: 'milestone',
    c: ci,
    who,
    cmd,
    expect: roleExpect(who, allowed),
  })
  switch (step.t) {
    case 'fund': {
      const list = candidates(c, ['pending'], step.smart)
      const ids = [...new Set(step.ms.map((i) => list[i % list.length]!.id))]
      return milestone(auto(step.who, 'client'), ['client'], { type: 'fund', milestoneIds: ids, credit: 0n })
    }
    case 'submit': {
      const m = ms(step.m, ['funded', 'changes_requested'], step.smart)!
      const entries = c.paymentMode === 'by_entry' ? pickEntries(m, step.entries) : null
      return milestone(auto(step.who, 'freelancer'), ['freelancer'], {
        type: 'submit',
        milestoneId: m.id,
        message: 'done',
        links: [],
        entries,
      })
    }
    case 'request_changes': {
      const m = ms(step.m, ['submitted'], step.smart)!
      return milestone(auto(step.who, 'client'), ['client'], {
        type: 'request_changes',
        milestoneId: m.id,
        message: 'please fix',
      })
    }
    case 'request_refund': {
      const m = ms(step.m, ['funded', 'changes_requested'], step.smart)!
      return milestone(auto(step.who, 'client'), ['client'], {
        type: 'request_refund',
        milestoneId: m.id,
        reason: 'no longer needed',
      })
    }
    case 'refund': {
      const m = ms(step.m, ['funded', 'submitted', 'changes_requested'], step.smart)!
      return milestone(auto(step.who, 'freelancer'), ['freelancer'], {
        type: 'refund',
        milestoneId: m.id,
        reason: null,
      })
    }
    case 'approve': {
      const m = ms(step.m, ['funded', 'submitted', 'changes_requested'], step.smart)!
      const byEntry = c.paymentMode === 'by_entry'
      return milestone(auto(step.who, 'client'), ['client'], {
        type: 'approve',
        milestoneId: m.id,
        amount: byEntry || step.amount === null ? null : fracOf(step.amount, m.escrow),
        acceptedEntries: byEntry ? pickEntries(m, step.entries) : null,
        bonus: step.bonus,
        rest: byEntry ? step.rest : 'refund',
        message: null,
        credit: 0n,
      })
    }
    case 'answer_refund': {
      const m = ms(step.m, ['refund_requested'], step.smart)!
      const rrId =
        m.state === 'refund_requested' && m.refundRequestId ? m.refundRequestId : at(c.refundRequests, step.m)?.id
      if (!rrId) return null
      const who = auto(step.who, 'freelancer')
      return milestone(
        who,
        ['freelancer'],
        step.accept
          ? { type: 'accept_refund', refundRequestId: rrId }
          : { type: 'decline_refund', refundRequestId: rrId, reason: null },
      )
    }
    case 'open_dispute': {
      const m = ms(step.m, ['funded', 'submitted', 'changes_requested', 'refund_requested'], step.smart)!
      const who = auto(step.who, step.side)
      const cmd: DisputeCommand = {
        type: 'open_dispute',
        milestoneId: m.id,
        reason: 'disagree',
        releaseAmount: fracOf(step.release, m.escrow),
      }
      return { kind: 'dispute', c: ci, who, cmd, expect: roleExpect(who, ['client', 'freelancer']) }
    }
    case 'propose':
    case 'accept_proposal':
    case 'escalate':
    case 'decide': {
      const open = c.disputes.filter((d) =>
        step.t === 'decide'
          ? d.status === 'arbitration'
          : d.status === 'awaiting_response' || d.status === 'negotiation',
      )
      const d = at(step.smart && open.length ? open : c.disputes, step.d)
      if (!d) return null
      const opener: Side = d.openedBy === c.clientId ? 'client' : 'freelancer'
      const other: Side = opener === 'client' ? 'freelancer' : 'client'
      if (step.t === 'propose') {
        const who = auto(step.who, step.side === 'admin' ? 'admin' : step.side === 'opener' ? opener : other)
        const cmd: DisputeCommand = {
          type: 'propose',
          disputeId: d.id,
          releaseAmount: fracOf(step.release, d.escrowAmount),
          message: 'counter',
        }
        return { kind: 'dispute', c: ci, who, cmd, expect: roleExpect(who, ['client', 'freelancer', 'admin']) }
      }
      if (step.t === 'accept_proposal') {
        const props = d.proposals.filter((p) => p.status === 'open')
        const p = at(step.smart && props.length ? props : d.proposals, step.p)!
        const idOf = (s: Side) => (s === 'client' ? c.clientId : c.freelancerId)
        const notYet = (['client', 'freelancer'] as const).filter((s) => !p.acceptedBy.includes(idOf(s)))
        const who = auto(step.who, notYet[0] ?? other)
        let expect = roleExpect(who, ['client', 'freelancer'])
        if (expect === 'allowed' && p.by === idOf(who as Side)) expect = 'self'
        return {
          kind: 'dispute',
          c: ci,
          who,
          cmd: { type: 'accept_proposal', disputeId: d.id, proposalId: p.id },
          expect,
        }
      }
      if (step.t === 'escalate') {
        const who = auto(step.who, step.side)
        return {
          kind: 'dispute',
          c: ci,
          who,
          cmd: { type: 'escalate', disputeId: d.id },
          expect: roleExpect(who, ['client', 'freelancer']),
        }
      }
      const who = auto(step.who, 'admin')
      const cmd: DisputeCommand = {
        type: 'decide',
        disputeId: d.id,
        releaseAmount: fracOf(step.release, d.escrowAmount),
        note: 'decided',
      }
      return { kind: 'dispute', c: ci, who, cmd, expect: roleExpect(who, ['admin']) }
    }
    case 'end': {
      const who = auto(step.who, step.side)
      return {
        kind: 'contract',
        c: ci,
        who,
        cmd: { type: 'end', reason: null },
        expect: roleExpect(who, ['client', 'freelancer']),
      }
    }
    case 'amend': {
      const who = auto(step.who, step.side)
      const min = minimumMilestone(c.currency, MINIMUM_MAJOR)
      const byEntry = c.paymentMode === 'by_entry'
      const pendingOnes = candidates(c, ['pending'], step.smart)
      const add: MilestoneInput[] = step.add.map((a, i) => ({
        title: `Added ${i + 1}`,
        description: '',
        acceptanceCriteria: '',
        amount: byEntry ? null : a.belowMin ? min - 1n : min + a.extra,
        dueDate: dueDate(base, a.dueInDays),
        deposit: false,
        entries: byEntry ? a.entries : null,
      }))
      const edit = step.edit.map((e) => {
        const m = pendingOnes[e.m % pendingOnes.length]!
        if (e.what === 'title') return { milestoneId: m.id, title: 'Edited' }
        if (e.what === 'due') return { milestoneId: m.id, dueDate: dueDate(base, e.dueInDays) }
        return byEntry ? { milestoneId: m.id, entries: e.entries } : { milestoneId: m.id, amount: min + e.extra }
      })
      const remove = [...new Set(step.remove.map((i) => pendingOnes[i % pendingOnes.length]!.id))]
      const cmd: ContractCommand = { type: 'propose_amendment', add, edit, remove, minimumMajor: MINIMUM_MAJOR }
      return { kind: 'contract', c: ci, who, cmd, expect: roleExpect(who, ['client', 'freelancer']) }
    }
    case 'answer_amendment': {
      const proposed = c.amendments.filter((a) => a.status === 'proposed')
      const a = at(step.smart && proposed.length ? proposed : c.amendments, step.a)
      if (!a) return null
      const author: Side = a.proposedBy === c.clientId ? 'client' : 'freelancer'
      const other: Side = author === 'client' ? 'freelancer' : 'client'
      const who = auto(step.who, step.verb === 'withdraw' ? author : other)
      let expect = roleExpect(who, ['client', 'freelancer'])
      if (expect === 'allowed' && (step.verb === 'withdraw' ? who !== author : who === author)) expect = 'self'
      return { kind: 'contract', c: ci, who, cmd: { type: `${step.verb}_amendment`, amendmentId: a.id }, expect }
    }
    default:
      return step satisfies never
  }
}

/** A short human-readable form of a resolved command, for traces. */
export function describeCommand(r: Resolved): string {
  if (r.kind === 'advance') return `advance ${r.seconds}s (${(r.seconds / 86_400).toFixed(2)}d)`
  const show = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x))
  const { type, ...rest } = r.cmd as { type: string } & Record<string, unknown>
  delete rest.credit
  return `c${r.c} ${r.who} ${type} ${show(rest)}`
}

// ---------------------------------------------------------------------------------------------------------------
// The pure model

export interface Outcome {
  readonly ok: boolean
  readonly code: string | null
}

export interface ModelOptions {
  /** check who may do what (SPEC §2): 404 for non-parties, 403 for the wrong role, never accepted for them */
  readonly checkAuth: boolean
}

interface MsBook {
  fundCount: number
  fundCharge: bigint
  clientPaid: bigint
  clientRefunded: bigint
  releaseCount: number
  pendingFromRelease: bigint
  platformFromRelease: bigint
  clientPaidBonus: bigint
  pendingFromBonus: bigint
  platformFromBonus: bigint
}

const emptyBook = (): MsBook => ({
  fundCount: 0,
  fundCharge: 0n,
  clientPaid: 0n,
  clientRefunded: 0n,
  releaseCount: 0,
  pendingFromRelease: 0n,
  platformFromRelease: 0n,
  clientPaidBonus: 0n,
  pendingFromBonus: 0n,
  platformFromBonus: 0n,
})

export class InvariantViolation extends Error {
  override name = 'InvariantViolation'
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v)
    for (const x of Object.values(v)) deepFreeze(x)
  }
  return v
}

const stable = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x))

export const USERS = ['usr_a', 'usr_b', 'usr_c'] as const
export const STRANGER = 'usr_stranger'
export const ADMIN = 'usr_admin'

export interface ModelParties {
  readonly stranger: string
  readonly admin: string
}

export class PureModel {
  now: number
  readonly base: number
  contracts: Contract[]
  /** `${currency} ${account}` → balance */
  readonly ledger = new Map<string, bigint>()
  readonly timers = new Map<string, TimerSpec>()
  readonly books = new Map<string, MsBook>()
  readonly bonuses = new Map<string, bigint[]>()
  readonly trace: string[] = []
  readonly entryIds = new Set<string>()
  steps = 0
  accepted = 0
  timersFired = 0
  private seq = 0

  constructor(
    contracts: readonly Contract[],
    now: number,
    readonly parties: ModelParties,
    readonly opts: ModelOptions,
  ) {
    this.now = now
    this.base = now
    this.contracts = contracts.map((c) => deepFreeze(structuredClone(c)))
  }

  /** Builds a world through the pure offer deciders: an offer by one side, accepted by the other. */
  static fromSpec(world: WorldSpec, opts: ModelOptions, now = Date.UTC(2025, 0, 6, 9, 30)): PureModel {
    let seq = 0
    const newId = (p: string) => `${p}_w${++seq}`
    const contracts = world.contracts.map((spec) => {
      const clientId = USERS[spec.client]!
      const freelancerId = USERS[(spec.client + spec.freelancerOffset) % 3]!
      const terms = validateTerms(termsOf(spec, now), { minimumMajor: MINIMUM_MAJOR })
      const author = spec.authorIsClient ? clientId : freelancerId
      const other = spec.authorIsClient ? freelancerId : clientId
      const ctx = (id: string): DecisionContext => ({ now, actor: { kind: 'user', id }, newId })
      const offer = createOffer(
        { authorId: author, counterpartyId: other, role: spec.authorIsClient ? 'client' : 'freelancer', terms },
        ctx(author),
      )
      const accepted = decideOffer(offer.offer, { type: 'accept', revision: 1 }, ctx(other)).offer
      return createContract(
        {
          id: accepted.contractId!,
          offerId: accepted.id,
          clientId: accepted.clientId,
          freelancerId: accepted.freelancerId,
          terms,
          fees: { clientFeeBps: spec.clientFeeBps, serviceFeeBps: spec.serviceFeeBps },
        },
        ctx(other),
      ).contract
    })
    return new PureModel(contracts, now, { stranger: STRANGER, admin: ADMIN }, opts)
  }

  private newId = (prefix: string) => `${prefix}_m${++this.seq}`

  balance(currency: string, account: string): bigint {
    return this.ledger.get(`${currency} ${account}`) ?? 0n
  }

  /** Throws an InvariantViolation naming the rule, with the trace of the run so far. */
  fail(msg: string): never {
    throw new InvariantViolation(
      `${msg}\n  at t=+${((this.now - this.base) / DAY_MS).toFixed(3)}d; trace:\n    ${this.trace.slice(-60).join('\n    ')}`,
    )
  }

  private assert(cond: boolean, msg: () => string) {
    if (!cond) this.fail(msg())
  }

  actorOf(who: Party, c: Contract): Actor {
    if (who === 'client') return { kind: 'user', id: c.clientId }
    if (who === 'freelancer') return { kind: 'user', id: c.freelancerId }
    if (who === 'stranger') return { kind: 'user', id: this.parties.stranger }
    return { kind: 'admin', id: this.parties.admin }
  }

  /** Runs one step; returns the resolved command and its outcome (null when the step had no target). */
  step(step: Step): { resolved: Resolved; outcome: Outcome } | null {
    const r = resolveStep(step, this.contracts, this.base)
    if (!r) return null
    this.steps++
    if (r.kind === 'advance') {
      this.trace.push(describeCommand(r))
      this.advance(r.seconds)
      return { resolved: r, outcome: { ok: true, code: null } }
    }
    return { resolved: r, outcome: this.execute(r) }
  }

  execute(r: Exclude<Resolved, { kind: 'advance' }>): Outcome {
    const c = this.contracts[r.c]!
    const ctx: DecisionContext = { now: this.now, actor: this.actorOf(r.who, c), newId: this.newId }
    const credit = this.balance(c.currency, available(c.clientId))
    let d: ContractDecision
    try {
      if (r.kind === 'milestone') {
        const cmd = r.cmd.type === 'fund' || r.cmd.type === 'approve' ? { ...r.cmd, credit } : r.cmd
        d = decideMilestone(c, cmd, ctx)
      } else if (r.kind === 'dispute') {
        d = decideDispute(c, r.cmd, ctx)
      } else {
        d = decideContract(c, r.cmd, ctx)
      }
    } catch (e) {
      if (!(e instanceof DomainError)) {
        this.trace.push(`${describeCommand(r)} → THREW ${(e as Error).name}`)
        this.fail(`${describeCommand(r)} threw a non-domain error: ${(e as Error).stack ?? e}`)
      }
      this.trace.push(`${describeCommand(r)} → ${e.code}: ${e.message}`)
      if (this.opts.checkAuth) {
        if (r.expect === 'not_party')
          this.assert(
            e.code === 'resource_missing',
            () => `a non-party got ${e.code} instead of resource_missing (404)`,
          )
        if (r.expect === 'wrong_role')
          this.assert(
            e.code === 'actor_not_allowed',
            () => `the wrong role got ${e.code} instead of actor_not_allowed (403)`,
          )
      }
      // A rejected command changes nothing: the model keeps its state, ledger and timers as they were.
      this.check()
      return { ok: false, code: e.code }
    }
    this.trace.push(`${describeCommand(r)} → ok`)
    if (this.opts.checkAuth && r.expect !== 'allowed') {
      this.fail(`${describeCommand(r)} was accepted although the actor (${r.who}) may not do it (${r.expect})`)
    }
    this.accepted++
    this.apply(r.c, d, r)
    this.check()
    return { ok: true, code: null }
  }

  /** Applies a decision: journal entries (checked one by one), timers, the new contract state. */
  private apply(ci: number, d: ContractDecision, r: Resolved | null, timer: TimerSpec | null = null) {
    const c = this.contracts[ci]!
    const cur = c.currency
    this.assert(d.contract.id === c.id, () => 'a decision returned another contract')
    this.checkMovement(c, d, r, timer)
    const availBefore = this.balance(cur, available(c.clientId))
    let railIn = 0n
    for (const e of d.entries) {
      for (const l of e.lines) if (l.account === RAIL) railIn -= l.amount
      this.post(e, d.contract)
    }
    const charged = d.railCharges.reduce((s, x) => s + x.amount, 0n)
    this.assert(
      d.railCharges.every((x) => x.currency === cur && x.amount > 0n),
      () => `rail charges ${stable(d.railCharges)} are not positive amounts in ${cur}`,
    )
    this.assert(charged === railIn, () => `the rail is charged ${charged} but the entries take ${railIn} from ext:rail`)
    if (r?.kind === 'milestone' && r.cmd.type === 'fund') {
      // Credit first (SPEC §5): the client's available balance pays as much of the charge as it can.
      const total = d.entries
        .filter((e) => e.kind === 'fund')
        .reduce((s, e) => s + lineOf(e, escrow(e.milestoneId!)), 0n)
      const fromCredit = -d.entries
        .filter((e) => e.kind === 'fund')
        .reduce((s, e) => s + lineOf(e, available(c.clientId)), 0n)
      const want = minBig(availBefore, total)
      this.assert(
        fromCredit === want,
        () => `fund used ${fromCredit} of credit ${availBefore} for a charge of ${total}; expected ${want}`,
      )
    }
    if (r?.kind === 'milestone' && r.cmd.type === 'approve' && r.cmd.bonus !== null) {
      const b = r.cmd.bonus
      const bonusEntries = d.entries.filter((e) => e.kind === 'bonus')
      this.assert(bonusEntries.length === 1, () => `a bonus of ${b} posted ${bonusEntries.length} bonus entries`)
      const e = bonusEntries[0]!
      const charge = b + fee(b, c.clientFeeBps)
      const fromCredit = -lineOf(e, available(c.clientId))
      const want = minBig(availBefore, charge)
      this.assert(
        fromCredit === want,
        () => `bonus used ${fromCredit} of credit ${availBefore} for a charge of ${charge}; expected ${want}`,
      )
      const list = this.bonuses.get(r.cmd.milestoneId) ?? []
      this.bonuses.set(r.cmd.milestoneId, [...list, b])
    }
    for (const k of d.timers.cancel) this.timers.delete(k)
    for (const t of d.timers.set) {
      this.assert(t.runAt >= this.now, () => `timer ${t.key} set in the past (${t.runAt} < now ${this.now})`)
      this.assert(t.payload.contractId === c.id, () => `timer ${t.key} does not name its contract`)
      this.timers.set(t.key, t)
    }
    this.contracts[ci] = deepFreeze(d.contract)
  }

  /**
   * Money moves only where and as the command says: on the milestones it names (any of them for ending a contract,
   * none for amendments), releasing exactly the approved amount, the dispute's resolution, or the full escrow.
   */
  private checkMovement(c: Contract, d: ContractDecision, r: Resolved | null, timer: TimerSpec | null) {
    const before = new Map(c.milestones.map((m) => [m.id, m]))
    const moneyOf = (m: Milestone | undefined) =>
      m ? [m.escrow, m.escrowFee, m.released, m.refunded, m.bonus].join('/') : ''
    let targets: readonly string[] | 'all'
    const what = r && r.kind !== 'advance' ? describeCommand(r) : `timer ${timer?.key}`
    if (timer) targets = timer.payload.milestoneId ? [timer.payload.milestoneId] : []
    else if (r?.kind === 'milestone') {
      const cmd = r.cmd
      if (cmd.type === 'fund') targets = cmd.milestoneIds
      else if (cmd.type === 'accept_refund' || cmd.type === 'decline_refund') {
        targets = c.refundRequests.filter((x) => x.id === cmd.refundRequestId).map((x) => x.milestoneId)
      } else targets = [cmd.milestoneId]
    } else if (r?.kind === 'dispute') {
      const cmd = r.cmd
      targets =
        cmd.type === 'open_dispute'
          ? [cmd.milestoneId]
          : c.disputes.filter((x) => x.id === cmd.disputeId).map((x) => x.milestoneId)
    } else if (r?.kind === 'contract') targets = r.cmd.type === 'end' ? 'all' : []
    else targets = []
    for (const m of d.contract.milestones) {
      const was = before.get(m.id)
      if (!was) {
        this.assert(
          m.state === 'pending' && moneyOf(m) === '0/0/0/0/0',
          () => `${what} added milestone ${m.id} with money or state ${m.state}`,
        )
        continue
      }
      this.assert(
        m.amount === was.amount || was.state === 'pending',
        () => `${what} changed the amount of ${was.state} milestone ${m.id}`,
      )
      if (targets !== 'all' && !targets.includes(m.id)) {
        this.assert(
          moneyOf(m) === moneyOf(was),
          () => `${what} moved money on milestone ${m.id}, which it does not name`,
        )
      }
    }
    for (const e of d.entries) {
      this.assert(
        targets === 'all' || targets.includes(e.milestoneId ?? ''),
        () => `${what} posted entry ${e.kind} on ${e.milestoneId}, which it does not name`,
      )
    }
    const after = (id: string) => d.contract.milestones.find((m) => m.id === id)!
    const releasedBy = (id: string) => after(id).released - (before.get(id)?.released ?? 0n)
    if (r?.kind === 'milestone' && r.cmd.type === 'approve') {
      const was = before.get(r.cmd.milestoneId)!
      const byEntry = c.paymentMode === 'by_entry'
      let want = r.cmd.amount ?? was.escrow
      if (byEntry) {
        const n = r.cmd.acceptedEntries?.length ?? openEntries(was).length
        want = BigInt(n) * (c.unitPrice ?? 0n)
        if (want > was.escrow) want = was.escrow
      }
      this.assert(
        releasedBy(was.id) === want,
        () => `${what} released ${releasedBy(was.id)}; the client approved ${want}`,
      )
      const m = after(was.id)
      if (m.escrow > 0n) {
        const rework = byEntry && r.cmd.rest === 'rework'
        this.assert(
          rework ? m.state === 'changes_requested' : m.state === 'refund_requested',
          () => `${what} left ${m.escrow} in escrow with the milestone ${m.state}`,
        )
        if (!rework) {
          const rr = d.contract.refundRequests.find((x) => x.id === m.refundRequestId)
          this.assert(
            rr?.amount === m.escrow,
            () => `${what}: the refund request for the rest is over ${rr?.amount}, not ${m.escrow}`,
          )
        }
      }
    }
    if (timer?.kind === 'auto_release') {
      const was = before.get(timer.payload.milestoneId!)
      if (was && after(was.id).state !== was.state) {
        this.assert(
          releasedBy(was.id) === was.escrow && after(was.id).state === 'released',
          () => `auto-release of ${was.id} released ${releasedBy(was.id)} of ${was.escrow}`,
        )
      }
    }
    for (const dsp of d.contract.disputes) {
      const old = c.disputes.find((x) => x.id === dsp.id)
      if (dsp.status !== 'resolved' || old?.status === 'resolved') continue
      const res = dsp.resolution!
      const was = before.get(dsp.milestoneId)!
      this.assert(
        releasedBy(was.id) === res.releaseAmount && after(was.id).refunded - was.refunded === res.refundAmount,
        () =>
          `${what}: dispute ${dsp.id} resolved as ${res.releaseAmount}/${res.refundAmount} but released ${releasedBy(was.id)}`,
      )
      let want: bigint | undefined
      if (res.by === 'default')
        want = [...old!.proposals].reverse().find((p) => p.by === old!.openedBy && p.status === 'open')?.releaseAmount
      if (res.by === 'agreement' && r?.kind === 'dispute' && r.cmd.type === 'accept_proposal') {
        const pid = r.cmd.proposalId
        want = old!.proposals.find((p) => p.id === pid)?.releaseAmount
      }
      if (res.by === 'arbitration' && r?.kind === 'dispute' && r.cmd.type === 'decide') want = r.cmd.releaseAmount
      this.assert(
        want === res.releaseAmount,
        () => `${what}: dispute ${dsp.id} resolved by ${res.by} releasing ${res.releaseAmount}; expected ${want}`,
      )
    }
  }

  /** Posts one journal entry into the in-memory ledger, checking it line by line. */
  private post(e: JournalEntry, c: Contract | null) {
    const sum = e.lines.reduce((s, l) => s + l.amount, 0n)
    this.assert(isBalanced(e) && sum === 0n, () => `journal entry ${e.id} (${e.kind}) does not balance: off by ${sum}`)
    this.assert(!this.entryIds.has(e.id), () => `journal entry id ${e.id} reused`)
    this.entryIds.add(e.id)
    this.assert(e.lines.length > 0 || e.kind === 'hold_release', () => `journal entry ${e.id} (${e.kind}) has no lines`)
    this.assert(
      new Set(e.lines.map((l) => l.account)).size === e.lines.length,
      () => `journal entry ${e.id} names an account twice`,
    )
    if (c) {
      this.assert(
        e.currency === c.currency,
        () => `journal entry ${e.id} is in ${e.currency}, the contract in ${c.currency}`,
      )
      this.assert(e.contractId === c.id, () => `journal entry ${e.id} does not name its contract`)
      this.checkEntryShape(e, c)
    }
    for (const l of e.lines) {
      this.assert(l.amount !== 0n, () => `journal entry ${e.id} has a zero line`)
      if (l.account === PLATFORM)
        this.assert(
          l.amount > 0n,
          () => `journal entry ${e.id} (${e.kind}) takes ${-l.amount} from platform:fees (fees negative)`,
        )
      const key = `${e.currency} ${l.account}`
      const next = (this.ledger.get(key) ?? 0n) + l.amount
      this.ledger.set(key, next)
      if (l.account.startsWith('user:')) {
        this.assert(
          next >= 0n,
          () => `${l.account} in ${e.currency} went below zero (${next}) with entry ${e.id} (${e.kind})`,
        )
      }
    }
  }

  /** Which accounts each kind of entry may touch, and the per-milestone books. */
  private checkEntryShape(e: JournalEntry, c: Contract) {
    const mid = e.milestoneId
    this.assert(
      mid !== null && c.milestones.some((m) => m.id === mid),
      () => `entry ${e.id} (${e.kind}) names no milestone of ${c.id}`,
    )
    const allowed: Record<string, string[]> = {
      fund: [available(c.clientId), RAIL, escrow(mid!)],
      release: [escrow(mid!), pending(c.freelancerId), PLATFORM],
      refund: [escrow(mid!), available(c.clientId)],
      bonus: [available(c.clientId), RAIL, pending(c.freelancerId), PLATFORM],
    }
    const ok = allowed[e.kind]
    this.assert(ok !== undefined, () => `a contract decision posted a ${e.kind} entry`)
    for (const l of e.lines) this.assert(ok!.includes(l.account), () => `${e.kind} entry ${e.id} touches ${l.account}`)
    const b = this.books.get(mid!) ?? emptyBook()
    this.books.set(mid!, b)
    const v = (acct: string) => lineOf(e, acct)
    switch (e.kind) {
      case 'fund':
        this.assert(
          v(available(c.clientId)) <= 0n && v(RAIL) <= 0n && v(escrow(mid!)) > 0n,
          () => `fund entry ${e.id} moves money the wrong way`,
        )
        b.fundCount++
        b.fundCharge += v(escrow(mid!))
        b.clientPaid -= v(available(c.clientId)) + v(RAIL)
        break
      case 'release':
        this.assert(
          v(escrow(mid!)) < 0n && v(pending(c.freelancerId)) >= 0n,
          () => `release entry ${e.id} moves money the wrong way`,
        )
        b.releaseCount++
        b.pendingFromRelease += v(pending(c.freelancerId))
        b.platformFromRelease += v(PLATFORM)
        break
      case 'refund':
        this.assert(
          v(escrow(mid!)) < 0n && v(available(c.clientId)) > 0n,
          () => `refund entry ${e.id} moves money the wrong way`,
        )
        b.clientRefunded += v(available(c.clientId))
        break
      case 'bonus':
        this.assert(
          v(available(c.clientId)) <= 0n && v(RAIL) <= 0n && v(pending(c.freelancerId)) >= 0n,
          () => `bonus entry ${e.id} moves money the wrong way`,
        )
        b.clientPaidBonus -= v(available(c.clientId)) + v(RAIL)
        b.pendingFromBonus += v(pending(c.freelancerId))
        b.platformFromBonus += v(PLATFORM)
        break
    }
  }

  /** Moves time to now + seconds, firing every timer due on the way in deadline order, each at its own deadline. */
  advance(seconds: number) {
    const target = this.now + seconds * 1000
    for (let n = 0; ; n++) {
      this.assert(n < 10_000, () => 'timers keep re-arming within one advance')
      let next: TimerSpec | undefined
      for (const t of this.timers.values()) {
        if (t.runAt <= target && (!next || t.runAt < next.runAt || (t.runAt === next.runAt && t.key < next.key)))
          next = t
      }
      if (!next) break
      this.now = Math.max(this.now, next.runAt)
      this.timers.delete(next.key)
      this.fire(next)
      this.check()
    }
    this.now = target
    this.check()
  }

  private fire(t: TimerSpec) {
    this.timersFired++
    if (t.kind === 'hold_release') {
      const p = t.payload
      this.trace.push(`  timer ${t.key} (${p.amount} ${p.currency} → available)`)
      this.post(
        {
          id: this.newId('je'),
          kind: 'hold_release',
          currency: p.currency!,
          lines: holdReleaseLines(p.userId!, BigInt(p.amount!)),
          memo: '',
          contractId: p.contractId ?? null,
          milestoneId: null,
        },
        null,
      )
      return
    }
    const ci = this.contracts.findIndex((c) => c.id === t.payload.contractId)
    this.assert(ci >= 0, () => `timer ${t.key} names no contract`)
    const c = this.contracts[ci]!
    let d: ContractDecision
    try {
      d = decideContract(
        c,
        { type: 'timer', timer: t },
        { now: this.now, actor: { kind: 'system' }, newId: this.newId },
      )
    } catch (e) {
      this.trace.push(`  timer ${t.key} → THREW`)
      return this.fail(`timer ${t.key} threw: ${(e as Error).stack ?? e}`)
    }
    const effects = d.events.length + d.entries.length + d.timers.set.length + d.timers.cancel.length
    this.trace.push(
      `  timer ${t.key}${effects ? ` → ${d.events.map((e) => e.type).join(', ') || 'timers'}` : ' (no-op)'}`,
    )
    if (!effects) {
      // The app saves nothing for a timer without effects, so such a timer must not change the state either.
      this.assert(
        stable(d.contract) === stable(c),
        () => `timer ${t.key} changed the contract without any effect (the change would be lost)`,
      )
      return
    }
    this.apply(ci, d, null, t)
  }

  /** Every invariant, on the whole state. */
  check() {
    // The ledger: every currency sums to zero; users, escrows and fees never below zero.
    const perCurrency = new Map<string, bigint>()
    for (const [key, bal] of this.ledger) {
      const [cur, account] = key.split(' ') as [string, string]
      perCurrency.set(cur, (perCurrency.get(cur) ?? 0n) + bal)
      if (account.startsWith('user:') || account.startsWith('escrow:') || account === PLATFORM) {
        this.assert(bal >= 0n, () => `${account} in ${cur} is below zero: ${bal}`)
      }
      if (account === RAIL)
        this.assert(bal <= 0n, () => `ext:rail in ${cur} is positive: ${bal} (more paid out than came in)`)
    }
    for (const [cur, total] of perCurrency)
      this.assert(total === 0n, () => `accounts in ${cur} sum to ${total}, not zero`)

    // Earnings on hold: each user's pending balance is exactly what the hold timers will move to available.
    const held = new Map<string, bigint>()
    for (const t of this.timers.values()) {
      this.assert(t.runAt >= this.now, () => `timer ${t.key} is overdue (${t.runAt} < now ${this.now})`)
      if (t.kind !== 'hold_release') continue
      const key = `${t.payload.currency} ${pending(t.payload.userId!)}`
      this.assert(BigInt(t.payload.amount!) > 0n, () => `hold timer ${t.key} holds ${t.payload.amount}`)
      held.set(key, (held.get(key) ?? 0n) + BigInt(t.payload.amount!))
    }
    for (const [key, bal] of this.ledger) {
      if (!key.endsWith(':pending')) continue
      this.assert(
        bal === (held.get(key) ?? 0n),
        () => `${key} is ${bal} but the hold timers hold ${held.get(key) ?? 0n}`,
      )
    }
    for (const [key, h] of held)
      this.assert(
        this.ledger.get(key) === h,
        () => `hold timers hold ${h} for ${key} which is ${this.ledger.get(key) ?? 0n}`,
      )

    for (const c of this.contracts) this.checkContract(c)
  }

  private checkContract(c: Contract) {
    const cur = c.currency
    const cf = (x: bigint) => fee(x, c.clientFeeBps)
    for (const m of c.milestones) {
      const name = `${c.id}/${m.id} (${m.state}, ${cur}, amount ${m.amount}, fees ${c.clientFeeBps}/${c.serviceFeeBps})`
      const held = this.balance(cur, escrow(m.id))
      this.assert(
        held === m.escrow + m.escrowFee,
        () => `escrow:${m.id} holds ${held} but ${name} reports ${m.escrow} + fee ${m.escrowFee}`,
      )
      this.assert(
        m.escrow >= 0n && m.escrowFee >= 0n,
        () => `${name} has a negative escrow ${m.escrow} / fee ${m.escrowFee}`,
      )
      this.assert(m.released >= 0n && m.refunded >= 0n && m.bonus >= 0n, () => `${name} has a negative amount`)
      if (isTerminal(m.state)) {
        this.assert(
          m.escrow === 0n && m.escrowFee === 0n,
          () => `${name} is terminal but holds ${m.escrow} + fee ${m.escrowFee}`,
        )
        this.assert(m.settledAt !== null, () => `${name} is terminal without settledAt`)
      }
      const b = this.books.get(m.id) ?? emptyBook()
      if (m.fundedAt !== null) {
        this.assert(
          m.released + m.refunded + m.escrow === m.amount,
          () => `${name}: released ${m.released} + refunded ${m.refunded} + escrow ${m.escrow} ≠ amount`,
        )
        this.assert(b.fundCount === 1, () => `${name} was funded by ${b.fundCount} entries`)
        this.assert(
          b.fundCharge === m.amount + cf(m.amount),
          () => `${name} was charged ${b.fundCharge}, not amount + client fee = ${m.amount + cf(m.amount)}`,
        )
        // §3: the platform keeps the client fee only in proportion to what is released.
        const net = b.clientPaid - b.clientRefunded - (m.escrow + m.escrowFee)
        this.assert(
          net === m.released + cf(m.released),
          () =>
            `${name}: the client paid ${net} net for a release of ${m.released}; expected ${m.released + cf(m.released)}`,
        )
        if (!isTerminal(m.state)) {
          this.assert(
            m.escrowFee === cf(m.amount) - cf(m.released),
            () => `${name} holds client fee ${m.escrowFee}; expected ${cf(m.amount) - cf(m.released)}`,
          )
        }
        this.assert(
          b.platformFromRelease + b.pendingFromRelease === m.released + cf(m.released),
          () =>
            `${name}: releases paid ${b.pendingFromRelease} + fees ${b.platformFromRelease} for ${m.released} released`,
        )
        const serviceFees = m.released - b.pendingFromRelease
        const err = serviceFees * 10_000n - m.released * BigInt(c.serviceFeeBps)
        const bound = 5_000n * BigInt(b.releaseCount)
        this.assert(
          serviceFees >= 0n && err <= bound && -err <= bound,
          () => `${name}: service fees ${serviceFees} on ${m.released} released in ${b.releaseCount} releases`,
        )
        if (m.deposit)
          this.assert(
            m.state === 'released' && m.released === m.amount,
            () => `${name} is a funded deposit not released at once`,
          )
      } else {
        this.assert(m.state === 'pending' || m.state === 'cancelled', () => `${name} was never funded`)
        this.assert(
          m.escrow === 0n && m.escrowFee === 0n && m.released === 0n && m.refunded === 0n,
          () => `${name} has money without funding`,
        )
        this.assert(
          b.fundCount === 0 && b.releaseCount === 0 && b.clientRefunded === 0n,
          () => `${name} has ledger entries without funding`,
        )
      }
      const bonuses = this.bonuses.get(m.id) ?? []
      const sumB = bonuses.reduce((s, x) => s + x, 0n)
      this.assert(m.bonus === sumB, () => `${name} reports bonus ${m.bonus}; ${sumB} was given`)
      const wantPaid = bonuses.reduce((s, x) => s + x + cf(x), 0n)
      const wantNet = bonuses.reduce((s, x) => s + x - fee(x, c.serviceFeeBps), 0n)
      this.assert(
        b.clientPaidBonus === wantPaid,
        () => `${name}: bonuses charged ${b.clientPaidBonus}; expected ${wantPaid}`,
      )
      this.assert(
        b.pendingFromBonus === wantNet,
        () => `${name}: bonuses paid ${b.pendingFromBonus} to the freelancer; expected ${wantNet}`,
      )
      this.assert(
        b.clientPaidBonus === b.pendingFromBonus + b.platformFromBonus,
        () => `${name}: bonus money does not add up`,
      )

      // States and their clocks: nothing can get stuck without a timer that will move it (SPEC §5, §6).
      this.assert(
        m.revisionsUsed <= c.revisionLimit,
        () => `${name} used ${m.revisionsUsed} of ${c.revisionLimit} revisions`,
      )
      const timer = (key: string) => this.timers.get(key)
      switch (m.state) {
        case 'released':
          this.assert(m.released > 0n, () => `${name} is released with nothing released`)
          break
        case 'refunded':
          this.assert(
            m.released === 0n && m.refunded === m.amount,
            () => `${name} is refunded but released ${m.released}`,
          )
          break
        case 'submitted': {
          const t = timer(`auto_release:${m.id}`)
          this.assert(
            m.reviewDeadline !== null && m.reviewDeadline >= this.now,
            () => `${name} is past its review deadline ${m.reviewDeadline} and not released`,
          )
          this.assert(
            t !== undefined && t.runAt === m.reviewDeadline,
            () => `${name} has no auto-release timer at its review deadline`,
          )
          break
        }
        case 'refund_requested': {
          const rr = c.refundRequests.find((x) => x.id === m.refundRequestId)
          this.assert(
            rr !== undefined && rr.status === 'open' && rr.milestoneId === m.id,
            () => `${name} has no open refund request`,
          )
          this.assert(rr!.expiresAt >= this.now, () => `${name}: refund request ${rr!.id} expired and was not executed`)
          this.assert(
            timer(`refund_expiry:${rr!.id}`)?.runAt === rr!.expiresAt,
            () => `${name}: refund request ${rr!.id} has no expiry timer`,
          )
          break
        }
        case 'disputed': {
          const d = c.disputes.find((x) => x.id === m.disputeId)
          this.assert(
            d !== undefined && d.status !== 'resolved' && d.milestoneId === m.id,
            () => `${name} has no live dispute`,
          )
          this.assert(
            d!.escrowAmount === m.escrow,
            () => `${name}: dispute ${d!.id} is over ${d!.escrowAmount} but ${m.escrow} is held`,
          )
          if (d!.status === 'awaiting_response') {
            this.assert(
              timer(`dispute_response:${d!.id}`)?.runAt === d!.responseDeadline && d!.responseDeadline >= this.now,
              () => `${name}: dispute ${d!.id} has no response deadline timer`,
            )
          }
          if (d!.status === 'negotiation') {
            this.assert(
              d!.negotiationDeadline !== null &&
                timer(`dispute_negotiation:${d!.id}`)?.runAt === d!.negotiationDeadline &&
                d!.negotiationDeadline >= this.now,
              () => `${name}: dispute ${d!.id} has no negotiation deadline timer`,
            )
          }
          break
        }
        case 'funded':
        case 'changes_requested':
          if (m.dueDate !== null)
            this.assert(timer(`dormancy:${m.id}`) !== undefined, () => `${name} has a due date but no dormancy timer`)
          break
        default:
          break
      }
    }
    for (const rr of c.refundRequests) {
      if (rr.status !== 'open') continue
      const m = c.milestones.find((x) => x.id === rr.milestoneId)
      this.assert(
        m?.state === 'refund_requested' && m.refundRequestId === rr.id,
        () => `refund request ${rr.id} is open but its milestone is ${m?.state}`,
      )
    }
    for (const d of c.disputes) {
      const m = c.milestones.find((x) => x.id === d.milestoneId)
      if (d.status === 'resolved') {
        const r = d.resolution
        this.assert(
          r !== null && r.releaseAmount + r.refundAmount === d.escrowAmount,
          () => `dispute ${d.id} resolved without splitting its escrow`,
        )
        this.assert(
          m !== undefined && isTerminal(m.state),
          () => `dispute ${d.id} is resolved but its milestone is ${m?.state}`,
        )
      } else {
        this.assert(
          m?.state === 'disputed' && m.disputeId === d.id,
          () => `dispute ${d.id} is ${d.status} but its milestone is ${m?.state}`,
        )
      }
    }
    const allTerminal = c.milestones.every((m) => isTerminal(m.state))
    if (c.status === 'active')
      this.assert(!allTerminal, () => `${c.id} is active with every milestone terminal (not completed)`)
    if (c.status === 'completed') this.assert(allTerminal, () => `${c.id} is completed with live milestones`)
  }

  /** What the run did, for the report. */
  stats() {
    const states = new Map<string, number>()
    for (const c of this.contracts) for (const m of c.milestones) states.set(m.state, (states.get(m.state) ?? 0) + 1)
    return { steps: this.steps, accepted: this.accepted, timers: this.timersFired, states }
  }
}

const lineOf = (e: JournalEntry, account: string) => e.lines.find((l) => l.account === account)?.amount ?? 0n
