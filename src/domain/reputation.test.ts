import { describe, expect, it } from 'vitest'
import type { Contract } from './contract-model.ts'
import type { DisputeCommand } from './dispute-commands.ts'
import { clientRecordOf, reputationOf } from './reputation.ts'
import {
  ADMIN,
  approve,
  CLIENT,
  contractOf,
  DAY,
  FREELANCER,
  fund,
  HOUR,
  line,
  ms,
  onContract,
  onDispute,
  onMilestone,
  openDispute,
  requestRefund,
  STRANGER,
  SYSTEM,
  submit,
  T0,
  timer,
} from './test-support.ts'

/**
 * USD contract, all submitted at T0 + 1 day (2025-03-02):
 *   M1 100,000 due 2025-03-02 (on time), approved 10 h later;
 *   M2  50,000 due 2025-03-01 (late), auto-released after 14 days (336 h);
 *   M3  20,000 no due date, approved 40 h later;
 *   M4  30,000 never funded.
 */
function usdHistory(): Contract {
  let c = contractOf({
    milestones: [
      line(100_000n, { dueDate: '2025-03-02' }),
      line(50_000n, { dueDate: '2025-03-01' }),
      line(20_000n),
      line(30_000n),
    ],
  })
  const [m1, m2, m3] = [ms(c, 0).id, ms(c, 1).id, ms(c, 2).id]
  const sub = T0 + DAY
  c = onMilestone(c, fund(m1, m2, m3), CLIENT).contract
  for (const id of [m1, m2, m3]) c = onMilestone(c, submit(id), FREELANCER, sub).contract
  c = onMilestone(c, approve(m1), CLIENT, sub + 10 * HOUR).contract
  c = onMilestone(c, approve(m3), CLIENT, sub + 40 * HOUR).contract
  c = onContract(c, timer('auto_release', { milestoneId: m2 }), SYSTEM, sub + 14 * DAY).contract
  expect(c.milestones.map((m) => [m.state, m.releasedVia])).toEqual([
    ['released', 'approval'],
    ['released', 'auto_release'],
    ['released', 'approval'],
    ['pending', null],
  ])
  return c
}

/**
 * JPY contract, no submissions:
 *   M1 5,000: the client disputes proposing 0, arbitration releases all → the client lost;
 *   M2 3,000: the freelancer disputes proposing all, agrees to 1,000 → the freelancer lost;
 *   M3 2,000: the client requests a refund.
 */
function jpyHistory(): Contract {
  let c = contractOf({ currency: 'JPY', milestones: [line(5_000n), line(3_000n), line(2_000n)] })
  const [m1, m2, m3] = [ms(c, 0).id, ms(c, 1).id, ms(c, 2).id]
  c = onMilestone(c, fund(m1, m2, m3), CLIENT).contract
  const dsp = (i: number) => c.disputes[i]!.id
  const run = (cmd: DisputeCommand, who: string) => {
    c = onDispute(c, cmd, who).contract
  }
  run(openDispute(m1, 0n), CLIENT)
  run({ type: 'escalate', disputeId: dsp(0) }, FREELANCER)
  run({ type: 'decide', disputeId: dsp(0), releaseAmount: 5_000n, note: 'Delivered as agreed' }, ADMIN)
  run(openDispute(m2, 3_000n), FREELANCER)
  run({ type: 'propose', disputeId: dsp(1), releaseAmount: 1_000n, message: 'A third' }, CLIENT)
  run({ type: 'accept_proposal', disputeId: dsp(1), proposalId: c.disputes[1]!.proposals.at(-1)!.id }, FREELANCER)
  c = onMilestone(c, requestRefund(m3), CLIENT).contract
  expect(c.disputes.map((d) => d.resolution?.by)).toEqual(['arbitration', 'agreement'])
  expect(c.milestones.map((m) => m.state)).toEqual(['released', 'released', 'refund_requested'])
  return c
}

describe('reputationOf: no history', () => {
  it('says so instead of showing zeros', () => {
    for (const contracts of [[], [contractOf()]]) {
      const r = reputationOf(STRANGER, contracts)
      expect(r).toMatchObject({
        object: 'reputation',
        user_id: STRANGER,
        has_history: false,
        as_client: null,
        as_freelancer: null,
      })
      expect(r.summary).toContain('No payment history')
    }
    // parties to a contract where nothing was funded have no history either
    const unfunded = reputationOf(CLIENT, [contractOf()])
    expect([unfunded.has_history, unfunded.as_client, unfunded.as_freelancer]).toEqual([false, null, null])
    expect(clientRecordOf(CLIENT, [contractOf()])).toBeNull()
    expect(clientRecordOf(STRANGER, [])).toBeNull()
  })
})

describe('reputationOf: as client', () => {
  const history = [usdHistory(), jpyHistory()]

  it('counts funding, approvals vs auto-releases, median hours, refund requests and disputes', () => {
    const r = reputationOf(CLIENT, history)
    expect(r.has_history).toBe(true)
    expect(r.as_freelancer).toBeNull()
    expect(r.as_client).toEqual({
      milestones_funded: 6,
      amount_funded: [
        { currency: 'JPY', amount: 10_000 },
        { currency: 'USD', amount: 170_000 },
      ],
      released_on_review: 2,
      auto_released: 1,
      median_hours_to_release: 40,
      refund_requests: 1,
      disputes: { opened: 1, lost: 1, won: 1, by_agreement: 1, by_default: 0, by_arbitration: 1 },
    })
    expect(r.summary).toBe(
      'As client: 6 milestones funded, 1 released only by auto-release. As freelancer: 0 milestones released.',
    )
  })

  it('the median of an even count is the mean of the middle two', () => {
    let c = contractOf({ milestones: [line(10_000n), line(10_000n)] })
    const [a, b] = [ms(c, 0).id, ms(c, 1).id]
    c = onMilestone(c, fund(a, b), CLIENT).contract
    c = onMilestone(onMilestone(c, submit(a), FREELANCER).contract, submit(b), FREELANCER).contract
    c = onMilestone(c, approve(a), CLIENT, T0 + 10 * HOUR).contract
    c = onMilestone(c, approve(b), CLIENT, T0 + 15 * HOUR).contract
    expect(reputationOf(CLIENT, [c]).as_client!.median_hours_to_release).toBe(12.5)
  })

  it('counts the hours to a partial approval, not to the end of the refund request it leaves', () => {
    let c = contractOf({ milestones: [line(100_000n)] })
    c = onMilestone(c, fund(ms(c).id), CLIENT).contract
    c = onMilestone(c, submit(ms(c).id), FREELANCER, T0).contract
    c = onMilestone(c, approve(ms(c).id, { amount: 60_000n }), CLIENT, T0 + HOUR).contract
    const answer = { type: 'accept_refund', refundRequestId: ms(c).refundRequestId! } as const
    c = onMilestone(c, answer, FREELANCER, T0 + 49 * HOUR).contract
    expect([ms(c).state, ms(c).settledAt, ms(c).releasedAt]).toEqual(['released', T0 + 49 * HOUR, T0 + HOUR])
    expect(reputationOf(CLIENT, [c]).as_client!.median_hours_to_release).toBe(1)
    // a milestone saved before the release time was kept counts to when it settled
    const { releasedAt: _, ...older } = ms(c)
    const before = { ...c, milestones: [older] }
    expect(reputationOf(CLIENT, [before]).as_client!.median_hours_to_release).toBe(49)
  })

  it('approving without a submission counts on review but has no hours; partial approval is a refund request', () => {
    let c = contractOf({ milestones: [line(10_000n)] })
    c = onMilestone(c, fund(ms(c).id), CLIENT).contract
    c = onMilestone(c, approve(ms(c).id, { amount: 4_000n }), CLIENT).contract
    const r = reputationOf(CLIENT, [c]).as_client!
    expect([r.released_on_review, r.median_hours_to_release, r.refund_requests]).toEqual([0, null, 1])
    c = onMilestone(c, { type: 'accept_refund', refundRequestId: ms(c).refundRequestId! }, FREELANCER).contract
    expect(reputationOf(CLIENT, [c]).as_client!.released_on_review).toBe(1)
  })

  it('clientRecordOf: what the planner needs', () => {
    expect(clientRecordOf(CLIENT, history)).toEqual({
      milestonesReleased: 3,
      autoReleased: 1,
      disputesLost: 1,
      refundRequests: 1,
    })
    expect(clientRecordOf(FREELANCER, history)).toBeNull()
  })
})

describe('reputationOf: as freelancer', () => {
  it('counts releases, on-time share, disputes and earnings per currency', () => {
    const r = reputationOf(FREELANCER, [usdHistory(), jpyHistory()])
    expect(r.has_history).toBe(true)
    expect(r.as_client).toBeNull()
    expect(r.as_freelancer).toEqual({
      milestones_released: 5,
      submitted_before_due_share: 0.5,
      disputes: { opened: 1, lost: 1, won: 1 },
      amount_earned: [
        { currency: 'JPY', amount: 6_000 },
        { currency: 'USD', amount: 170_000 },
      ],
    })
  })

  it('funded but nothing delivered: history, no share, nothing earned', () => {
    let c = contractOf({ milestones: [line(10_000n, { dueDate: '2025-03-10' })] })
    c = onMilestone(c, fund(ms(c).id), CLIENT).contract
    // one of a kind is said in the singular
    expect(reputationOf(CLIENT, [c]).summary).toBe(
      'As client: 1 milestone funded, 0 released only by auto-release. As freelancer: 0 milestones released.',
    )
    expect(reputationOf(FREELANCER, [c]).as_freelancer).toEqual({
      milestones_released: 0,
      submitted_before_due_share: null,
      disputes: { opened: 0, lost: 0, won: 0 },
      amount_earned: [],
    })
  })

  it('an even split is neither lost nor won', () => {
    let c = contractOf({ milestones: [line(10_000n)] })
    const id = ms(c).id
    c = onMilestone(c, fund(id), CLIENT).contract
    c = onDispute(c, openDispute(id, 5_000n), FREELANCER).contract
    c = onDispute(
      c,
      { type: 'accept_proposal', disputeId: c.disputes[0]!.id, proposalId: c.disputes[0]!.proposals[0]!.id },
      CLIENT,
    ).contract
    expect(reputationOf(FREELANCER, [c]).as_freelancer!.disputes).toEqual({ opened: 1, lost: 0, won: 0 })
    expect(reputationOf(CLIENT, [c]).as_client!.disputes).toEqual({
      opened: 0,
      lost: 0,
      won: 0,
      by_agreement: 1,
      by_default: 0,
      by_arbitration: 0,
    })
  })
})
