import { describe, expect, it } from 'vitest'
import { type Contract, type MilestoneState, TERMINAL_STATES } from './contract-model.ts'
import type { ContractDecision } from './contract-work.ts'
import { available, escrow, PLATFORM, pending, RAIL } from './ledger.ts'
import type { MilestoneCommand } from './milestone-commands.ts'
import { MILESTONE_PROCESS, type MilestoneCommandName } from './milestone-process.ts'
import {
  ADMIN,
  acceptRefund,
  allBalanced,
  approve,
  CLIENT,
  codeOf,
  contractOf,
  DAY,
  declineRefund,
  entryTerms,
  errorOf,
  eventTypes,
  FREELANCER,
  fund,
  HOUR,
  held,
  inState,
  line,
  linesOf,
  ms,
  onDispute,
  onMilestone,
  openDispute,
  refund,
  requestChanges,
  requestRefund,
  STRANGER,
  submit,
  T0,
  timerSet,
} from './test-support.ts'

const OPEN: MilestoneState[] = ['pending', 'funded', 'submitted', 'changes_requested', 'refund_requested', 'disputed']
const STATES: MilestoneState[] = [...OPEN, ...TERMINAL_STATES]
const EA = available(CLIENT)
const FP = pending(FREELANCER)

type Run = (c: Contract, id: string, who: string) => ContractDecision
const mc =
  (f: (id: string) => MilestoneCommand): Run =>
  (c, id, who) =>
    onMilestone(c, f(id), who)
const CALLS: { name: MilestoneCommandName; role: 'client' | 'freelancer'; other: string; run: Run }[] = [
  { name: 'fund', role: 'client', other: FREELANCER, run: (c, id, who) => onMilestone(c, fund(id), who) },
  { name: 'submit', role: 'freelancer', other: CLIENT, run: (c, id, who) => onMilestone(c, submit(id), who) },
  { name: 'request_changes', role: 'client', other: FREELANCER, run: mc(requestChanges) },
  { name: 'approve', role: 'client', other: FREELANCER, run: (c, id, who) => onMilestone(c, approve(id), who) },
  { name: 'request_refund', role: 'client', other: FREELANCER, run: mc(requestRefund) },
  { name: 'refund', role: 'freelancer', other: CLIENT, run: (c, id, who) => onMilestone(c, refund(id), who) },
  { name: 'open_dispute', role: 'client', other: '', run: (c, id, who) => onDispute(c, openDispute(id, 0n), who) },
]

describe('the process table: every command from every state', () => {
  for (const call of CALLS) {
    const from: readonly MilestoneState[] = MILESTONE_PROCESS[call.name].from
    const to: readonly MilestoneState[] = MILESTONE_PROCESS[call.name].to
    for (const state of STATES) {
      if (from.includes(state)) {
        it(`${call.name} is allowed from ${state}`, () => {
          const { c, id } = inState(state)
          const d = call.run(c, id, call.role === 'client' ? CLIENT : FREELANCER)
          expect(to).toContain(ms(d.contract).state)
          expect(allBalanced(d)).toBe(true)
          expect(c.milestones[0]!.state).toBe(state) // the input is never touched
        })
      } else {
        it(`${call.name} is refused from ${state} (409 naming the state)`, () => {
          const { c, id } = inState(state)
          const e = errorOf(() => call.run(c, id, call.role === 'client' ? CLIENT : FREELANCER))
          expect([e.code, e.status]).toEqual(['invalid_state_transition', 409])
          expect(e.message).toContain(`the milestone is ${state}.`)
        })
      }
    }
  }

  it('the other role → 403 actor_not_allowed, the admin too, a stranger → 404 resource_missing', () => {
    for (const call of CALLS) {
      const { c, id } = inState(MILESTONE_PROCESS[call.name].from[0]!)
      if (call.other) expect(codeOf(() => call.run(c, id, call.other))).toBe('actor_not_allowed')
      expect(codeOf(() => call.run(c, id, ADMIN))).toBe('actor_not_allowed')
      expect(codeOf(() => call.run(c, id, STRANGER))).toBe('resource_missing')
    }
  })

  it('the role is checked before the state, and a stranger learns nothing', () => {
    const { c, id } = inState('released')
    expect(codeOf(() => onMilestone(c, fund(id), FREELANCER))).toBe('actor_not_allowed')
    expect(codeOf(() => onMilestone(c, submit(id), STRANGER))).toBe('resource_missing')
    expect(codeOf(() => onMilestone(c, submit('ms_nope'), FREELANCER))).toBe('resource_missing')
  })

  it('checks run in the order of SPEC §5: role (403), validation (400), then state (409)', () => {
    const { c, id } = inState('pending')
    expect(codeOf(() => onMilestone(c, fund(), FREELANCER))).toBe('actor_not_allowed')
    expect(codeOf(() => onMilestone(c, submit(id, [1]), FREELANCER))).toBe('parameter_invalid')
    expect(codeOf(() => onMilestone(c, approve(id, { acceptedEntries: [1] }), CLIENT))).toBe('parameter_invalid')
  })

  it('after the review deadline the client can no longer stop the clock (Fixed-Price Protection)', () => {
    const { c, id } = inState('submitted')
    const deadline = ms(c).reviewDeadline!
    expect(codeOf(() => onMilestone(c, requestChanges(id), CLIENT, deadline))).toBe('invalid_state_transition')
  })

  it('open_dispute is open to both parties', () => {
    const { c, id } = inState('submitted')
    expect(ms(onDispute(c, openDispute(id, 0n), FREELANCER).contract).state).toBe('disputed')
  })
})

describe('fund', () => {
  const c = contractOf({ milestones: [line(100_010n), line(50_000n)] })
  const [m1, m2] = [ms(c, 0), ms(c, 1)]

  it('charges principal + client fee: credit first, then the rail', () => {
    const d = onMilestone(c, { type: 'fund', milestoneIds: [m1.id], credit: 20_000n }, CLIENT)
    expect(d.entries).toHaveLength(1)
    expect(d.entries[0]!.kind).toBe('fund')
    expect(linesOf(d.entries[0])).toEqual({ [EA]: -20_000n, [RAIL]: -85_011n, [escrow(m1.id)]: 105_011n })
    expect(d.railCharges).toEqual([{ currency: 'USD', amount: 85_011n }])
    expect(ms(d.contract)).toMatchObject({ state: 'funded', escrow: 100_010n, escrowFee: 5001n, fundedAt: T0 })
    expect(eventTypes(d)).toEqual(['milestone.funded'])
    expect(allBalanced(d)).toBe(true)
  })

  it('enough credit: nothing through the rail', () => {
    const d = onMilestone(c, { type: 'fund', milestoneIds: [m1.id], credit: 200_000n }, CLIENT)
    expect(linesOf(d.entries[0])).toEqual({ [EA]: -105_011n, [escrow(m1.id)]: 105_011n })
    expect(d.railCharges).toEqual([])
  })

  it('several milestones in one call share the credit in order', () => {
    const d = onMilestone(c, { type: 'fund', milestoneIds: [m1.id, m2.id], credit: 60_000n }, CLIENT)
    expect(d.entries.map(linesOf)).toEqual([
      { [EA]: -60_000n, [RAIL]: -45_011n, [escrow(m1.id)]: 105_011n },
      { [RAIL]: -52_500n, [escrow(m2.id)]: 52_500n },
    ])
    expect(d.railCharges).toEqual([
      { currency: 'USD', amount: 45_011n },
      { currency: 'USD', amount: 52_500n },
    ])
    expect(d.contract.milestones.map((m) => m.state)).toEqual(['funded', 'funded'])
    expect(allBalanced(d)).toBe(true)
  })

  it('is atomic: one milestone not pending refuses the whole call', () => {
    const funded = onMilestone(c, fund(m1.id), CLIENT).contract
    expect(codeOf(() => onMilestone(funded, fund(m2.id, m1.id), CLIENT))).toBe('invalid_state_transition')
    expect(codeOf(() => onMilestone(c, fund(), CLIENT))).toBe('parameter_missing')
    expect(codeOf(() => onMilestone(c, fund(m1.id, m1.id), CLIENT))).toBe('parameter_invalid')
  })

  it('starts the dormancy timer when the milestone has a due date', () => {
    const dated = contractOf({ milestones: [line(100_000n, { dueDate: '2025-02-01' })] })
    const d = onMilestone(dated, fund(ms(dated).id), CLIENT)
    expect(timerSet(d, `dormancy:${ms(dated).id}`)).toMatchObject({ kind: 'dormancy', runAt: T0 + 90 * DAY })
    expect(timerSet(onMilestone(c, fund(m1.id), CLIENT), `dormancy:${m1.id}`)).toBeUndefined()
  })

  it('a deposit is released as soon as it is funded', () => {
    const dc = contractOf({ milestones: [line(50_000n, { deposit: true }), line(50_000n)] })
    const id = ms(dc).id
    const d = onMilestone(dc, fund(id), CLIENT)
    expect(d.entries.map((e) => e.kind)).toEqual(['fund', 'release'])
    expect(linesOf(d.entries[0])).toEqual({ [RAIL]: -52_500n, [escrow(id)]: 52_500n })
    expect(linesOf(d.entries[1])).toEqual({ [escrow(id)]: -52_500n, [FP]: 45_000n, [PLATFORM]: 7_500n })
    expect(held(ms(d.contract))).toEqual(['released', 0n, 0n, 50_000n, 0n])
    expect(ms(d.contract).settledAt).toBe(T0)
    expect(eventTypes(d)).toEqual(['milestone.funded', 'milestone.released'])
    const hold = d.timers.set.find((t) => t.kind === 'hold_release')
    expect([hold?.runAt, hold?.payload]).toMatchObject([T0 + 5 * DAY, { userId: FREELANCER, amount: '45000' }])
    expect(d.contract.status).toBe('active')
    expect(allBalanced(d)).toBe(true)
  })
})

describe('submit', () => {
  const at = T0 + DAY

  it('starts the review window: deadline, auto-release and reminders 72 h and 24 h before', () => {
    const { c, id } = inState('funded')
    const d = onMilestone(c, submit(id), FREELANCER, at)
    const deadline = at + 14 * DAY
    expect(ms(d.contract)).toMatchObject({ state: 'submitted', reviewDeadline: deadline })
    const { submission } = ms(d.contract)
    expect(submission).toEqual({
      message: 'Delivered',
      links: ['https://example.com/work'],
      entries: null,
      submittedAt: at,
    })
    const auto = timerSet(d, `auto_release:${id}`)
    expect(auto).toEqual({
      key: `auto_release:${id}`,
      kind: 'auto_release',
      runAt: deadline,
      payload: { contractId: c.id, milestoneId: id },
    })
    const reminders = d.timers.set.filter((t) => t.kind === 'review_reminder')
    expect(reminders.map((t) => [t.key, t.runAt, t.payload.hours])).toEqual([
      [`review_reminder:${id}:72h`, deadline - 72 * HOUR, '72'],
      [`review_reminder:${id}:24h`, deadline - 24 * HOUR, '24'],
    ])
    expect(d.timers.cancel).toContain(`dormancy:${id}`)
    expect(eventTypes(d)).toEqual(['milestone.submitted'])
    expect(d.entries).toEqual([])
  })

  it('reminders that would fall before the submission are skipped', () => {
    for (const [reviewDays, set] of [
      [1, []],
      [3, ['24h']],
      [4, ['72h', '24h']],
    ] as const) {
      const { c, id } = inState('funded', { reviewDays })
      const d = onMilestone(c, submit(id), FREELANCER, at)
      expect(d.timers.set.filter((t) => t.kind === 'review_reminder').map((t) => t.payload.hours + 'h')).toEqual(set)
    }
  })

  it('a resubmission restarts the whole window', () => {
    const { c, id } = inState('changes_requested')
    const later = T0 + 9 * DAY
    const d = onMilestone(c, submit(id), FREELANCER, later)
    expect(ms(d.contract).reviewDeadline).toBe(later + 14 * DAY)
    expect(timerSet(d, `auto_release:${id}`)!.runAt).toBe(later + 14 * DAY)
  })

  it('entries belong to by_entry contracts; by_entry defaults to every open entry', () => {
    const { c, id } = inState('funded')
    expect(codeOf(() => onMilestone(c, submit(id, [1]), FREELANCER))).toBe('parameter_invalid')
    const e = inState('funded', entryTerms(10_010n, 3, 1))
    expect(ms(onMilestone(e.c, submit(e.id), FREELANCER).contract).submission!.entries).toEqual([1, 2, 3])
    expect(ms(onMilestone(e.c, submit(e.id, [3, 1]), FREELANCER).contract).submission!.entries).toEqual([1, 3])
    for (const bad of [[1, 1], [0], [4], [1.5]]) {
      expect(codeOf(() => onMilestone(e.c, submit(e.id, bad), FREELANCER))).toBe('parameter_invalid')
    }
  })
})

describe('request_changes', () => {
  it('stops the clock and uses one revision', () => {
    const { c, id } = inState('submitted')
    const d = onMilestone(c, requestChanges(id), CLIENT, T0 + DAY)
    expect(ms(d.contract)).toMatchObject({ state: 'changes_requested', revisionsUsed: 1, reviewDeadline: null })
    expect(d.timers.cancel).toEqual(
      expect.arrayContaining([`auto_release:${id}`, `review_reminder:${id}:72h`, `review_reminder:${id}:24h`]),
    )
    expect(eventTypes(d)).toEqual(['milestone.changes_requested'])
  })

  it('at revision_limit → 409 revision_limit_reached', () => {
    let { c, id } = inState('submitted', { revisionLimit: 2 })
    for (let i = 0; i < 2; i++) {
      c = onMilestone(c, requestChanges(id), CLIENT).contract
      c = onMilestone(c, submit(id), FREELANCER).contract
    }
    expect(ms(c).revisionsUsed).toBe(2)
    const e = errorOf(() => onMilestone(c, requestChanges(id), CLIENT))
    expect([e.code, e.status]).toEqual(['revision_limit_reached', 409])
    const zero = inState('submitted', { revisionLimit: 0 })
    expect(codeOf(() => onMilestone(zero.c, requestChanges(zero.id), CLIENT))).toBe('revision_limit_reached')
  })
})

describe('approve', () => {
  const big = { milestones: [line(100_010n), line(50_000n)] }

  it('full: releases all escrow, net to pending for 5 days, both fees to the platform', () => {
    const { c, id } = inState('submitted', big)
    const d = onMilestone(c, approve(id), CLIENT, T0 + DAY)
    expect(d.entries.map((e) => e.kind)).toEqual(['release'])
    expect(linesOf(d.entries[0])).toEqual({ [escrow(id)]: -105_011n, [FP]: 90_009n, [PLATFORM]: 15_002n })
    expect(held(ms(d.contract))).toEqual(['released', 0n, 0n, 100_010n, 0n])
    expect([ms(d.contract).releasedVia, ms(d.contract).settledAt]).toEqual(['approval', T0 + DAY])
    const entryId = d.entries[0]!.id
    const hold = timerSet(d, `hold_release:${entryId}`)
    expect([hold?.kind, hold?.runAt]).toEqual(['hold_release', T0 + 6 * DAY])
    expect(hold?.payload).toEqual({ contractId: c.id, userId: FREELANCER, currency: 'USD', amount: '90009', entryId })
    expect(d.timers.cancel).toEqual(expect.arrayContaining([`auto_release:${id}`, `dormancy:${id}`]))
    expect(eventTypes(d)).toEqual(['milestone.released'])
    expect(allBalanced(d)).toBe(true)
  })

  it('partial: the rest becomes a refund request with 7 days; accepting it refunds principal and its fee', () => {
    const { c, id } = inState('submitted', big)
    const d = onMilestone(c, approve(id, { amount: 60_005n }), CLIENT)
    expect(linesOf(d.entries[0])).toEqual({ [escrow(id)]: -63_005n, [FP]: 54_004n, [PLATFORM]: 9_001n })
    const m = ms(d.contract)
    expect(m).toMatchObject({ state: 'refund_requested', escrow: 40_005n, escrowFee: 2001n, released: 60_005n })
    const rr = d.contract.refundRequests[0]!
    expect([rr.id, rr.amount, rr.status, rr.source, rr.expiresAt]).toEqual([
      m.refundRequestId,
      40_005n,
      'open',
      'partial_approve',
      T0 + 7 * DAY,
    ])
    expect(timerSet(d, `refund_expiry:${rr.id}`)).toMatchObject({ kind: 'refund_expiry', runAt: T0 + 7 * DAY })
    expect(eventTypes(d)).toEqual(['milestone.released', 'refund_request.created'])
    const a = onMilestone(d.contract, acceptRefund(rr.id), FREELANCER, T0 + DAY)
    expect(linesOf(a.entries[0])).toEqual({ [escrow(id)]: -42_006n, [EA]: 42_006n })
    expect(held(ms(a.contract))).toEqual(['released', 0n, 0n, 60_005n, 40_005n])
    expect(a.contract.refundRequests[0]!.status).toBe('accepted')
    expect(a.timers.cancel).toContain(`refund_expiry:${rr.id}`)
    expect(allBalanced(d) && allBalanced(a)).toBe(true)
  })

  it('bonus: charged credit first with the client fee, paid less the service fee, held 5 days', () => {
    const { c, id } = inState('submitted', big)
    const d = onMilestone(c, approve(id, { bonus: 10_000n, credit: 3_000n }), CLIENT)
    expect(d.entries.map((e) => e.kind)).toEqual(['bonus', 'release'])
    expect(linesOf(d.entries[0])).toEqual({ [EA]: -3_000n, [RAIL]: -7_500n, [FP]: 9_000n, [PLATFORM]: 1_500n })
    expect(d.railCharges).toEqual([{ currency: 'USD', amount: 7_500n }])
    expect(ms(d.contract)).toMatchObject({ state: 'released', bonus: 10_000n, released: 100_010n })
    expect(d.timers.set.filter((t) => t.kind === 'hold_release').map((t) => t.payload.amount)).toEqual([
      '9000',
      '90009',
    ])
    expect(allBalanced(d)).toBe(true)
  })

  it('refuses amounts outside 1..escrow and by_entry-only fields', () => {
    const { c, id } = inState('submitted')
    expect(codeOf(() => onMilestone(c, approve(id, { amount: 0n }), CLIENT))).toBe('amount_invalid')
    expect(codeOf(() => onMilestone(c, approve(id, { amount: 100_001n }), CLIENT))).toBe('amount_invalid')
    expect(codeOf(() => onMilestone(c, approve(id, { acceptedEntries: [1] }), CLIENT))).toBe('parameter_invalid')
    expect(codeOf(() => onMilestone(c, approve(id, { amount: 50_000n, rest: 'rework' }), CLIENT))).toBe(
      'parameter_invalid',
    )
  })

  it('by_entry: entries accepted over several rework rounds, client fee share kept exactly', () => {
    let { c, id } = inState('funded', entryTerms(10_010n, 3, 1))
    expect(ms(c)).toMatchObject({ amount: 30_030n, escrow: 30_030n, escrowFee: 1502n })
    const rounds: [number[] | null, bigint, bigint][] = [
      [[1], -10_511n, 1_502n],
      [[2], -10_510n, 1_501n],
      [null, -10_511n, 1_502n],
    ]
    for (const [i, [accepted, out, platform]] of rounds.entries()) {
      c = onMilestone(c, submit(id), FREELANCER).contract
      const d = onMilestone(c, approve(id, { acceptedEntries: accepted, rest: 'rework' }), CLIENT)
      expect(linesOf(d.entries[0])).toEqual({ [escrow(id)]: out, [FP]: 9_009n, [PLATFORM]: platform })
      expect(eventTypes(d)).toContain('milestone.released')
      c = d.contract
      expect(ms(c).acceptedEntries).toEqual([1, 2, 3].slice(0, i + 1))
    }
    expect(ms(c)).toMatchObject({ state: 'released', escrow: 0n, escrowFee: 0n, released: 30_030n, revisionsUsed: 2 })
  })

  it('by_entry rework keeps the rest in escrow and counts as a revision', () => {
    const { c, id } = inState('submitted', { ...entryTerms(10_010n, 3, 1), revisionLimit: 1 })
    const d = onMilestone(c, approve(id, { acceptedEntries: [1], rest: 'rework' }), CLIENT)
    expect(held(ms(d.contract))).toEqual(['changes_requested', 20_020n, 1001n, 10_010n, 0n])
    expect(ms(d.contract).revisionsUsed).toBe(1)
    const again = onMilestone(d.contract, submit(id), FREELANCER).contract
    expect(codeOf(() => onMilestone(again, approve(id, { acceptedEntries: [2], rest: 'rework' }), CLIENT))).toBe(
      'revision_limit_reached',
    )
    expect(codeOf(() => onMilestone(again, approve(id, { acceptedEntries: [1] }), CLIENT))).toBe('parameter_invalid')
    expect(codeOf(() => onMilestone(again, approve(id, { amount: 10_010n }), CLIENT))).toBe('parameter_invalid')
  })

  it('by_entry default rest: the unaccepted entries become a refund request', () => {
    const { c, id } = inState('submitted', entryTerms(10_010n, 3, 1))
    const d = onMilestone(c, approve(id, { acceptedEntries: [1] }), CLIENT)
    expect(ms(d.contract)).toMatchObject({ state: 'refund_requested', escrow: 20_020n, escrowFee: 1001n })
    expect(d.contract.refundRequests[0]).toMatchObject({ amount: 20_020n, source: 'partial_approve' })
  })
})

describe('refunds', () => {
  it('request_refund: a refund request for all escrow, 7 days to answer', () => {
    const { c, id } = inState('funded', { milestones: [line(100_000n, { dueDate: '2025-02-01' }), line(50_000n)] })
    const d = onMilestone(c, requestRefund(id), CLIENT, T0 + DAY)
    const rr = d.contract.refundRequests[0]!
    expect([rr.milestoneId, rr.amount, rr.reason, rr.status]).toEqual([id, 100_000n, 'Plans changed', 'open'])
    expect([rr.source, rr.expiresAt]).toEqual(['client', T0 + 8 * DAY])
    expect(ms(d.contract)).toMatchObject({ state: 'refund_requested', refundRequestId: rr.id, escrow: 100_000n })
    const t = timerSet(d, `refund_expiry:${rr.id}`)
    expect([t?.runAt, t?.payload]).toEqual([
      T0 + 8 * DAY,
      { contractId: c.id, milestoneId: id, refundRequestId: rr.id },
    ])
    expect(d.timers.cancel).toContain(`dormancy:${id}`)
    expect(eventTypes(d)).toEqual(['refund_request.created'])
    expect(d.entries).toEqual([])
  })

  it('refund by the freelancer: all escrow and its fee back to the client', () => {
    const { c, id } = inState('submitted')
    const d = onMilestone(c, refund(id), FREELANCER)
    expect(d.entries.map((e) => e.kind)).toEqual(['refund'])
    expect(linesOf(d.entries[0])).toEqual({ [escrow(id)]: -105_000n, [EA]: 105_000n })
    expect(held(ms(d.contract))).toEqual(['refunded', 0n, 0n, 0n, 100_000n])
    expect(eventTypes(d)).toEqual(['milestone.refunded'])
    expect(d.timers.cancel).toContain(`auto_release:${id}`)
  })

  it('accept_refund: refunded, the request accepted', () => {
    const { c, id } = inState('refund_requested')
    const rrId = ms(c).refundRequestId!
    const d = onMilestone(c, acceptRefund(rrId), FREELANCER)
    expect(linesOf(d.entries[0])).toEqual({ [escrow(id)]: -105_000n, [EA]: 105_000n })
    expect(ms(d.contract).state).toBe('refunded')
    expect(eventTypes(d)).toEqual(['refund_request.accepted', 'milestone.refunded'])
    expect(d.timers.cancel).toContain(`refund_expiry:${rrId}`)
  })

  it('decline_refund: a dispute by the freelancer proposing the full release', () => {
    const { c, id } = inState('refund_requested')
    const rrId = ms(c).refundRequestId!
    const d = onMilestone(c, declineRefund(rrId), FREELANCER, T0 + DAY)
    expect(d.contract.refundRequests[0]!.status).toBe('declined')
    const dsp = d.contract.disputes[0]!
    expect([dsp.milestoneId, dsp.openedBy, dsp.openerRole, dsp.status]).toEqual([
      id,
      FREELANCER,
      'freelancer',
      'awaiting_response',
    ])
    expect([dsp.escrowAmount, dsp.responseDeadline]).toEqual([100_000n, T0 + 6 * DAY])
    expect(dsp.proposals.map((p) => [p.by, p.releaseAmount, p.status, p.acceptedBy])).toEqual([
      [FREELANCER, 100_000n, 'open', [FREELANCER]],
    ])
    expect(ms(d.contract)).toMatchObject({ state: 'disputed', disputeId: dsp.id, escrow: 100_000n })
    expect(timerSet(d, `dispute_response:${dsp.id}`)).toMatchObject({ kind: 'dispute_response', runAt: T0 + 6 * DAY })
    expect(d.timers.cancel).toContain(`refund_expiry:${rrId}`)
    expect(eventTypes(d)).toEqual(['refund_request.declined', 'dispute.opened'])
    expect(d.entries).toEqual([])
  })

  it('answering a refund request: freelancer only, open requests only', () => {
    const { c } = inState('refund_requested')
    const rrId = ms(c).refundRequestId!
    for (const cmd of [acceptRefund(rrId), declineRefund(rrId)]) {
      expect(codeOf(() => onMilestone(c, cmd, CLIENT))).toBe('actor_not_allowed')
      expect(codeOf(() => onMilestone(c, cmd, STRANGER))).toBe('resource_missing')
      const done = onMilestone(c, acceptRefund(rrId), FREELANCER).contract
      expect(errorOf(() => onMilestone(done, cmd, FREELANCER)).message).toContain('the milestone is refunded.')
      const disputed = onDispute(c, openDispute(ms(c).id, 0n), CLIENT).contract
      expect(disputed.refundRequests[0]!.status).toBe('declined')
      expect(codeOf(() => onMilestone(disputed, cmd, FREELANCER))).toBe('invalid_state_transition')
    }
    expect(codeOf(() => onMilestone(c, acceptRefund('rfr_nope'), FREELANCER))).toBe('resource_missing')
  })
})
