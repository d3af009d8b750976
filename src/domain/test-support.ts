/**
 * Builders shared by the domain unit tests (used by tests only): contracts made the real way (offer → accept →
 * contract), a deterministic decision context, short command builders and ledger helpers.
 */
import { type ContractCommand, decideContract } from './contract-commands.ts'
import { type Contract, createContract, type Milestone, type MilestoneState } from './contract-model.ts'
import type { ContractDecision } from './contract-work.ts'
import { type DisputeCommand, decideDispute } from './dispute-commands.ts'
import { DomainError } from './errors.ts'
import { isBalanced, type JournalEntry } from './ledger.ts'
import { decideMilestone, type MilestoneCommand } from './milestone-commands.ts'
import { createOffer, currentRevision, decideOffer } from './offer.ts'
import { type MilestoneInput, type Terms, type TermsInput, validateTerms } from './terms.ts'
import { type Actor, DAY_MS, type DecisionContext, HOUR_MS } from './types.ts'

export const CLIENT = 'usr_client'
export const FREELANCER = 'usr_freelancer'
export const STRANGER = 'usr_stranger'
export const ADMIN = 'usr_admin'
export const SYSTEM = 'system'
export const T0 = Date.parse('2025-03-01T00:00:00.000Z')
export const DAY = DAY_MS
export const HOUR = HOUR_MS
export const FEES = { clientFeeBps: 500, serviceFeeBps: 1000 } as const
export const POLICY = { minimumMajor: 5n } as const

let n = 0
export const newId = (prefix: string) => `${prefix}_${++n}`

export function actorOf(who: string): Actor {
  if (who === SYSTEM) return { kind: 'system' }
  if (who === ADMIN) return { kind: 'admin', id: ADMIN }
  return { kind: 'user', id: who }
}

export const ctx = (who: string, now = T0): DecisionContext => ({ now, actor: actorOf(who), newId })

export function line(amount: bigint | null, extra: Partial<MilestoneInput> = {}): MilestoneInput {
  return {
    title: 'Milestone',
    description: 'The work',
    acceptanceCriteria: 'It works',
    amount,
    dueDate: null,
    deposit: false,
    entries: null,
    ...extra,
  }
}

export function termsInput(extra: Partial<TermsInput> = {}): TermsInput {
  return {
    title: 'Website',
    description: 'A small website',
    currency: 'USD',
    paymentMode: 'by_milestone',
    reviewDays: 14,
    revisionLimit: 3,
    unitName: null,
    unitPrice: null,
    milestones: [line(100_000n)],
    ...extra,
  }
}

export const terms = (extra: Partial<TermsInput> = {}): Terms => validateTerms(termsInput(extra), POLICY)

/** by_entry terms: `entries` units of `unitPrice` per milestone. */
export const entryTerms = (unitPrice: bigint, ...entries: number[]): Partial<TermsInput> => ({
  paymentMode: 'by_entry',
  unitName: 'article',
  unitPrice,
  milestones: entries.map((e) => line(null, { entries: e })),
})

/** A contract made the real way: an offer by the client, accepted by the freelancer, the contract from that revision. */
export function contractOf(extra: Partial<TermsInput> = {}, now = T0): Contract {
  const t = terms(extra)
  const { offer } = createOffer(
    { authorId: CLIENT, counterpartyId: FREELANCER, role: 'client', terms: t },
    ctx(CLIENT, now),
  )
  const { offer: accepted } = decideOffer(offer, { type: 'accept', revision: 1 }, ctx(FREELANCER, now))
  const input = {
    id: accepted.contractId!,
    offerId: accepted.id,
    clientId: accepted.clientId,
    freelancerId: accepted.freelancerId,
    terms: currentRevision(accepted).terms,
    fees: FEES,
  }
  return createContract(input, ctx(FREELANCER, now)).contract
}

export const onMilestone = (c: Contract, cmd: MilestoneCommand, who: string, now = T0): ContractDecision =>
  decideMilestone(c, cmd, ctx(who, now))
export const onDispute = (c: Contract, cmd: DisputeCommand, who: string, now = T0): ContractDecision =>
  decideDispute(c, cmd, ctx(who, now))
export const onContract = (c: Contract, cmd: ContractCommand, who: string, now = T0): ContractDecision =>
  decideContract(c, cmd, ctx(who, now))

type Approve = Extract<MilestoneCommand, { type: 'approve' }>

export const fund = (...milestoneIds: string[]): MilestoneCommand => ({ type: 'fund', milestoneIds, credit: 0n })
export const submit = (milestoneId: string, entries: number[] | null = null): MilestoneCommand => ({
  type: 'submit',
  milestoneId,
  message: 'Delivered',
  links: ['https://example.com/work'],
  entries,
})
export const requestChanges = (milestoneId: string): MilestoneCommand => ({
  type: 'request_changes',
  milestoneId,
  message: 'Please fix the header',
})
export const approve = (
  milestoneId: string,
  o: Partial<Omit<Approve, 'type' | 'milestoneId'>> = {},
): MilestoneCommand => ({
  type: 'approve',
  milestoneId,
  amount: null,
  acceptedEntries: null,
  bonus: null,
  rest: 'refund',
  message: null,
  credit: 0n,
  ...o,
})
export const requestRefund = (milestoneId: string): MilestoneCommand => ({
  type: 'request_refund',
  milestoneId,
  reason: 'Plans changed',
})
export const refund = (milestoneId: string): MilestoneCommand => ({ type: 'refund', milestoneId, reason: null })
export const acceptRefund = (refundRequestId: string): MilestoneCommand => ({ type: 'accept_refund', refundRequestId })
export const declineRefund = (refundRequestId: string): MilestoneCommand => ({
  type: 'decline_refund',
  refundRequestId,
  reason: 'I did the work',
})
export const openDispute = (milestoneId: string, releaseAmount: bigint): DisputeCommand => ({
  type: 'open_dispute',
  milestoneId,
  reason: 'We disagree',
  releaseAmount,
})
export const timer = (
  kind: Extract<ContractCommand, { type: 'timer' }>['timer']['kind'],
  payload: Record<string, string>,
  runAt = T0,
): ContractCommand => ({
  type: 'timer',
  timer: { kind, payload, runAt },
})

/** A milestone's money at a glance: [state, escrow, escrowFee, released, refunded]. */
export const held = (m: Milestone) => [m.state, m.escrow, m.escrowFee, m.released, m.refunded]

/** Milestone `i` (default the first). */
export const ms = (c: Contract, i = 0) => c.milestones[i]!
export const msById = (c: Contract, id: string) => c.milestones.find((m) => m.id === id)!
export const eventTypes = (d: { events: readonly { type: string }[] }) => d.events.map((e) => e.type)
export const timerSet = (d: ContractDecision, key: string) => d.timers.set.find((t) => t.key === key)

/** An entry's lines as { account: amount } (lines are compacted, so each account appears once). */
export const linesOf = (e: JournalEntry | undefined): Record<string, bigint> =>
  Object.fromEntries((e?.lines ?? []).map((l) => [l.account, l.amount]))

export function allBalanced(d: { entries: readonly JournalEntry[] }): boolean {
  return d.entries.every((e) => isBalanced(e))
}

export function errorOf(fn: () => unknown): DomainError {
  try {
    fn()
  } catch (e) {
    if (e instanceof DomainError) return e
    throw e
  }
  throw new Error('expected a DomainError, but the command was accepted')
}
export const codeOf = (fn: () => unknown) => errorOf(fn).code

/**
 * A two-milestone contract (100,000 and 50,000 cents) whose first milestone is in `state`, reached through real
 * commands at T0. Returns the contract and the first milestone's id.
 */
export function inState(state: MilestoneState, extra: Partial<TermsInput> = {}): { c: Contract; id: string } {
  let c = contractOf({ milestones: [line(100_000n), line(50_000n)], ...extra })
  const id = ms(c).id
  const m = (cmd: MilestoneCommand, who: string) => {
    c = onMilestone(c, cmd, who).contract
  }
  if (state !== 'pending' && state !== 'cancelled') m(fund(id), CLIENT)
  switch (state) {
    case 'submitted':
      m(submit(id), FREELANCER)
      break
    case 'changes_requested':
      m(submit(id), FREELANCER)
      m(requestChanges(id), CLIENT)
      break
    case 'refund_requested':
      m(requestRefund(id), CLIENT)
      break
    case 'disputed':
      c = onDispute(c, openDispute(id, 0n), CLIENT).contract
      break
    case 'released':
      m(approve(id), CLIENT)
      break
    case 'refunded':
      m(refund(id), FREELANCER)
      break
    case 'cancelled': {
      c = onContract(
        c,
        { type: 'propose_amendment', add: [], edit: [], remove: [id], minimumMajor: 5n },
        CLIENT,
      ).contract
      c = onContract(c, { type: 'accept_amendment', amendmentId: c.amendments[0]!.id }, FREELANCER).contract
      break
    }
    default:
      break
  }
  if (ms(c).state !== state) throw new Error(`inState: reached ${ms(c).state}, not ${state}`)
  return { c, id }
}
