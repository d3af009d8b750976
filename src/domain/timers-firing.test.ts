/**
 * What a due timer does when it runs (the `timer` command of `decideContract`): auto-release, reminders, refund
 * expiry, dispute deadlines, dormancy; and when a contract completes. Scheduling is in timers.test.ts.
 */
import { describe, expect, it } from 'vitest'
import type { ContractCommand } from './contract-commands.ts'
import type { Contract } from './contract-model.ts'
import { available, escrow, PLATFORM, pending } from './ledger.ts'
import {
  approve,
  CLIENT,
  contractOf,
  DAY,
  declineRefund,
  eventTypes,
  FREELANCER,
  fund,
  HOUR,
  inState,
  line,
  linesOf,
  ms,
  onContract,
  onDispute,
  onMilestone,
  openDispute,
  refund,
  requestChanges,
  requestRefund,
  SYSTEM,
  submit,
  T0,
  timer,
  timerSet,
} from './test-support.ts'

const EA = available(CLIENT)
const FP = pending(FREELANCER)

/** Nothing changed: same contract, no events, entries, timers or charges. */
function unchanged(c: Contract, cmd: ContractCommand, now: number) {
  const d = onContract(c, cmd, SYSTEM, now)
  expect(d.contract).toEqual(c)
  expect([d.events, d.entries, d.timers.set, d.railCharges]).toEqual([[], [], [], []])
}

describe('timers', () => {
  const submittedAt = T0 + DAY
  const deadline = submittedAt + 14 * DAY
  const submitted = () => {
    const { c, id } = inState('funded')
    return { c: onMilestone(c, submit(id), FREELANCER, submittedAt).contract, id }
  }

  it('auto_release: at the review deadline the whole escrow is released', () => {
    const { c, id } = submitted()
    const d = onContract(c, timer('auto_release', { milestoneId: id }), SYSTEM, deadline)
    expect(d.entries.map(linesOf)).toEqual([{ [escrow(id)]: -105_000n, [FP]: 90_000n, [PLATFORM]: 15_000n }])
    expect(ms(d.contract)).toMatchObject({
      state: 'released',
      releasedVia: 'auto_release',
      settledAt: deadline,
      escrow: 0n,
      escrowFee: 0n,
    })
    expect(eventTypes(d)).toEqual(['milestone.auto_released'])
    expect(d.timers.set.filter((t) => t.kind === 'hold_release').map((t) => [t.payload.amount, t.runAt])).toEqual([
      ['90000', deadline + 5 * DAY],
    ])
    unchanged(c, timer('auto_release', { milestoneId: id }), deadline - 1)
    const approved = onMilestone(c, approve(id), CLIENT, submittedAt + DAY).contract
    unchanged(approved, timer('auto_release', { milestoneId: id }), deadline)
    const resubmitted = onMilestone(
      onMilestone(c, requestChanges(id), CLIENT).contract,
      submit(id),
      FREELANCER,
      submittedAt + 2 * DAY,
    ).contract
    unchanged(resubmitted, timer('auto_release', { milestoneId: id }), deadline)
  })

  it('review_reminder: an event while the review runs, nothing after', () => {
    const { c, id } = submitted()
    const d = onContract(c, timer('review_reminder', { milestoneId: id, hours: '24' }), SYSTEM, deadline - 24 * HOUR)
    expect(eventTypes(d)).toEqual(['milestone.review_reminder'])
    expect(d.contract).toEqual(c)
    const approved = onMilestone(c, approve(id), CLIENT).contract
    unchanged(approved, timer('review_reminder', { milestoneId: id, hours: '24' }), deadline - 24 * HOUR)
  })

  it('refund_expiry: seven silent days are a refund', () => {
    const { c, id } = inState('refund_requested')
    const rrId = ms(c).refundRequestId!
    const t = timer('refund_expiry', { milestoneId: id, refundRequestId: rrId })
    const d = onContract(c, t, SYSTEM, T0 + 7 * DAY)
    expect(d.entries.map(linesOf)).toEqual([{ [escrow(id)]: -105_000n, [EA]: 105_000n }])
    expect(d.contract.refundRequests[0]!.status).toBe('expired')
    expect(ms(d.contract).state).toBe('refunded')
    expect(eventTypes(d)).toEqual(['refund_request.expired', 'milestone.refunded'])
    unchanged(c, t, T0 + 7 * DAY - 1)
    unchanged(onMilestone(c, declineRefund(rrId), FREELANCER).contract, t, T0 + 7 * DAY)
  })

  it("dispute_response: the filer's latest proposal is applied by default", () => {
    const { c: base, id } = inState('submitted')
    const opened = onDispute(base, openDispute(id, 40_000n), CLIENT, T0 + DAY).contract
    const dsp = opened.disputes[0]!.id
    const c = onDispute(
      opened,
      { type: 'propose', disputeId: dsp, releaseAmount: 30_000n, message: 'less' },
      CLIENT,
      T0 + 2 * DAY,
    ).contract
    const t = timer('dispute_response', { milestoneId: id, disputeId: dsp })
    const d = onContract(c, t, SYSTEM, T0 + 6 * DAY)
    expect(d.contract.disputes[0]!.resolution).toMatchObject({
      releaseAmount: 30_000n,
      refundAmount: 70_000n,
      by: 'default',
    })
    expect(d.entries.map(linesOf)).toEqual([
      { [escrow(id)]: -31_500n, [FP]: 27_000n, [PLATFORM]: 4_500n },
      { [escrow(id)]: -73_500n, [EA]: 73_500n },
    ])
    expect(ms(d.contract).state).toBe('released')
    unchanged(c, t, T0 + 6 * DAY - 1)
    const answered = onDispute(
      c,
      { type: 'propose', disputeId: dsp, releaseAmount: 90_000n, message: 'more' },
      FREELANCER,
    ).contract
    unchanged(answered, t, T0 + 6 * DAY)
  })

  it('dispute_response after a declined refund request: full release to the freelancer', () => {
    const { c: rr, id } = inState('refund_requested')
    const c = onMilestone(rr, declineRefund(ms(rr).refundRequestId!), FREELANCER).contract
    const d = onContract(
      c,
      timer('dispute_response', { milestoneId: id, disputeId: c.disputes[0]!.id }),
      SYSTEM,
      T0 + 5 * DAY,
    )
    expect(d.entries.map(linesOf)).toEqual([{ [escrow(id)]: -105_000n, [FP]: 90_000n, [PLATFORM]: 15_000n }])
    expect(d.contract.disputes[0]!.resolution).toMatchObject({
      releaseAmount: 100_000n,
      refundAmount: 0n,
      by: 'default',
    })
  })

  it('dispute_negotiation: 14 days without agreement → arbitration', () => {
    const { c: base, id } = inState('funded')
    const o = onDispute(base, openDispute(id, 0n), CLIENT).contract
    const dsp = o.disputes[0]!.id
    const c = onDispute(
      o,
      { type: 'propose', disputeId: dsp, releaseAmount: 80_000n, message: 'no' },
      FREELANCER,
      T0 + DAY,
    ).contract
    const t = timer('dispute_negotiation', { milestoneId: id, disputeId: dsp })
    const d = onContract(c, t, SYSTEM, T0 + 15 * DAY)
    expect(d.contract.disputes[0]!.status).toBe('arbitration')
    expect(eventTypes(d)).toEqual(['dispute.escalated'])
    expect(d.entries).toEqual([])
    unchanged(c, t, T0 + 15 * DAY - 1)
    unchanged(d.contract, t, T0 + 16 * DAY)
  })

  it('dormancy: due date passed and 90 idle days → a system refund request', () => {
    const { c, id } = inState('funded', { milestones: [line(100_000n, { dueDate: '2025-02-01' }), line(50_000n)] })
    const t = timer('dormancy', { milestoneId: id })
    const d = onContract(c, t, SYSTEM, T0 + 90 * DAY)
    expect(eventTypes(d)).toEqual(['milestone.dormant', 'refund_request.created'])
    expect(d.contract.refundRequests[0]).toMatchObject({
      source: 'dormancy',
      amount: 100_000n,
      expiresAt: T0 + 97 * DAY,
    })
    expect(ms(d.contract).state).toBe('refund_requested')
    expect(d.entries).toEqual([])
  })

  it('dormancy: rescheduled when there was activity; nothing once the milestone moved on', () => {
    const { c: f, id } = inState('funded', { milestones: [line(100_000n, { dueDate: '2025-02-01' }), line(50_000n)] })
    const t = timer('dormancy', { milestoneId: id })
    const sub = onMilestone(f, submit(id), FREELANCER, T0 + 10 * DAY).contract
    const c = onMilestone(sub, requestChanges(id), CLIENT, T0 + 20 * DAY).contract
    const d = onContract(c, t, SYSTEM, T0 + 90 * DAY)
    expect([d.events, d.entries]).toEqual([[], []])
    expect(ms(d.contract).state).toBe('changes_requested')
    expect(timerSet(d, `dormancy:${id}`)).toMatchObject({ kind: 'dormancy', runAt: T0 + 110 * DAY })
    unchanged(sub, t, T0 + 200 * DAY)
    unchanged(c, timer('dormancy', { milestoneId: 'ms_gone' }), T0 + 200 * DAY)
  })
})

describe('completion', () => {
  it('the contract completes when every milestone is terminal, whatever the outcome', () => {
    const c = contractOf({ milestones: [line(100_000n), line(50_000n)] })
    const [a, b] = [ms(c, 0).id, ms(c, 1).id]
    let x = onMilestone(c, fund(a, b), CLIENT).contract
    const r = onMilestone(x, refund(b), FREELANCER)
    expect(r.contract.status).toBe('active')
    x = onMilestone(r.contract, submit(a), FREELANCER).contract
    const d = onContract(x, timer('auto_release', { milestoneId: a }), SYSTEM, T0 + 14 * DAY)
    expect(d.contract.status).toBe('completed')
    expect(eventTypes(d)).toEqual(['milestone.auto_released', 'contract.completed'])
    const single = contractOf()
    const funded = onMilestone(single, fund(ms(single).id), CLIENT).contract
    const rr = onMilestone(funded, requestRefund(ms(single).id), CLIENT).contract
    expect(
      onMilestone(rr, { type: 'accept_refund', refundRequestId: ms(rr).refundRequestId! }, FREELANCER).contract.status,
    ).toBe('completed')
  })
})
