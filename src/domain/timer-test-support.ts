/** Fixtures of the timer tests (timers.test.ts, timers-disputes.test.ts): contracts and commands at given times. */
import { decideContract } from './contract-commands.ts'
import { type Contract, createContract } from './contract-model.ts'
import { decideDispute } from './dispute-commands.ts'
import { decideMilestone } from './milestone-commands.ts'
import type { MilestoneTerms, Terms } from './terms.ts'
import { type Actor, type DecisionContext, type Effects, HOUR_MS, type TimerSpec } from './types.ts'

export const CLIENT = 'usr_client'
export const FREELANCER = 'usr_freelancer'
export const ADMIN = 'usr_admin'
export const T0 = Date.UTC(2025, 0, 10, 12, 0, 0)
export const client: Actor = { kind: 'user', id: CLIENT }
export const freelancer: Actor = { kind: 'user', id: FREELANCER }
export const admin: Actor = { kind: 'admin', id: ADMIN }
export const system: Actor = { kind: 'system' }
export const FEES = { clientFeeBps: 500, serviceFeeBps: 1000 }

let n = 0
/** Ids start again from 1 (call in beforeEach), so expected ids are stable. */
export function resetIds() {
  n = 0
}
export const ctx = (actor: Actor, now: number): DecisionContext => ({ now, actor, newId: (p) => `${p}_${++n}` })

export function line(over: Partial<MilestoneTerms> = {}): MilestoneTerms {
  return {
    title: 'Stage',
    description: '',
    acceptanceCriteria: '',
    amount: 100_000n,
    dueDate: null,
    deposit: false,
    entries: null,
    ...over,
  }
}

export function terms(over: Partial<Terms> = {}, lines: Partial<MilestoneTerms>[] = [{}]): Terms {
  return {
    title: 'Job',
    description: 'Work',
    currency: 'USD',
    paymentMode: 'by_milestone',
    reviewDays: 14,
    revisionLimit: 3,
    unitName: null,
    unitPrice: null,
    milestones: lines.map(line),
    ...over,
  }
}

export function newContract(over: Partial<Terms> = {}, lines: Partial<MilestoneTerms>[] = [{}]): Contract {
  return createContract(
    {
      id: 'ctr_1',
      offerId: 'off_1',
      clientId: CLIENT,
      freelancerId: FREELANCER,
      terms: terms(over, lines),
      fees: FEES,
    },
    ctx(system, T0),
  ).contract
}

export const msId = (c: Contract, i = 0) => c.milestones[i]!.id
export const keys = (fx: Effects) => fx.timers.set.map((t) => t.key).sort()
export const timer = (fx: Effects, key: string): TimerSpec | undefined => fx.timers.set.find((t) => t.key === key)
export const setOf = (fx: Effects, kind: TimerSpec['kind']) => fx.timers.set.filter((t) => t.kind === kind)

export function fund(c: Contract, now = T0, i = 0) {
  return decideMilestone(c, { type: 'fund', milestoneIds: [msId(c, i)], credit: 0n }, ctx(client, now))
}
export function submit(c: Contract, now: number, i = 0) {
  return decideMilestone(
    c,
    { type: 'submit', milestoneId: msId(c, i), message: 'done', links: [], entries: null },
    ctx(freelancer, now),
  )
}
export function requestChanges(c: Contract, now: number, i = 0) {
  return decideMilestone(c, { type: 'request_changes', milestoneId: msId(c, i), message: 'more' }, ctx(client, now))
}
export function approve(c: Contract, now: number, over: { amount?: bigint; bonus?: bigint } = {}, i = 0) {
  return decideMilestone(
    c,
    {
      type: 'approve',
      milestoneId: msId(c, i),
      amount: over.amount ?? null,
      acceptedEntries: null,
      bonus: over.bonus ?? null,
      rest: 'refund',
      message: null,
      credit: 0n,
    },
    ctx(client, now),
  )
}
export function requestRefund(c: Contract, now: number, i = 0) {
  return decideMilestone(c, { type: 'request_refund', milestoneId: msId(c, i), reason: 'not needed' }, ctx(client, now))
}
export function openDispute(c: Contract, now: number, by: Actor, releaseAmount: bigint, i = 0) {
  return decideDispute(
    c,
    { type: 'open_dispute', milestoneId: msId(c, i), reason: 'disagree', releaseAmount },
    ctx(by, now),
  )
}
export function fire(c: Contract, t: TimerSpec, now = t.runAt) {
  return decideContract(c, { type: 'timer', timer: t }, ctx(system, now))
}

/** A contract with its first milestone funded and submitted at `at`. */
export function submitted(over: Partial<Terms> = {}, lines: Partial<MilestoneTerms>[] = [{}], at = T0 + HOUR_MS) {
  const funded = fund(newContract(over, lines)).contract
  return submit(funded, at)
}

export const reviewKeys = (id: string) => [
  `auto_release:${id}`,
  `review_reminder:${id}:24h`,
  `review_reminder:${id}:72h`,
]
