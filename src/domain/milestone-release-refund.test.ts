/** Milestone commands that move money out of escrow: approve (full, partial, bonus, by_entry) and refunds. */
import { describe, expect, it } from 'vitest'
import { available, escrow, PLATFORM, pending, RAIL } from './ledger.ts'
import {
  acceptRefund,
  allBalanced,
  approve,
  CLIENT,
  codeOf,
  DAY,
  declineRefund,
  entryTerms,
  errorOf,
  eventTypes,
  FREELANCER,
  held,
  inState,
  line,
  linesOf,
  ms,
  onDispute,
  onMilestone,
  openDispute,
  refund,
  requestRefund,
  STRANGER,
  submit,
  T0,
  timerSet,
} from './test-support.ts'

const EA = available(CLIENT)
const FP = pending(FREELANCER)

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
    // the change is told as a request for changes is (SPEC §9), after the release of what was accepted
    expect(eventTypes(d)).toEqual(['milestone.released', 'milestone.changes_requested'])
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
