import { describe, expect, it } from 'vitest'
import type { ContractCommand } from './contract-commands.ts'
import type { Contract } from './contract-model.ts'
import { available, escrow, PLATFORM, pending } from './ledger.ts'
import {
  ADMIN,
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
  STRANGER,
  SYSTEM,
  submit,
  T0,
  timer,
  timerSet,
} from './test-support.ts'

const EA = available(CLIENT)
const FP = pending(FREELANCER)
const END: ContractCommand = { type: 'end', reason: null }
const amend = (o: Partial<Extract<ContractCommand, { type: 'propose_amendment' }>>): ContractCommand => ({
  type: 'propose_amendment',
  add: [],
  edit: [],
  remove: [],
  minimumMajor: 5n,
  ...o,
})
const answer = (
  type: 'accept_amendment' | 'reject_amendment' | 'withdraw_amendment',
  amendmentId: string,
): ContractCommand => ({ type, amendmentId })

/** Nothing changed: same contract, no events, entries, timers or charges. */
function unchanged(c: Contract, cmd: ContractCommand, now: number) {
  const d = onContract(c, cmd, SYSTEM, now)
  expect(d.contract).toEqual(c)
  expect([d.events, d.entries, d.timers.set, d.railCharges]).toEqual([[], [], [], []])
}

/** Three milestones of 100,000 / 50,000 / 20,000, in the given states via real commands. */
function three(first: 'funded' | 'submitted' | 'changes_requested' | 'disputed') {
  let c = contractOf({ milestones: [line(100_000n), line(50_000n), line(20_000n)] })
  const [a, b] = [ms(c, 0).id, ms(c, 1).id]
  c = onMilestone(c, fund(a, b), CLIENT).contract
  if (first !== 'funded') c = onMilestone(c, submit(a), FREELANCER).contract
  if (first === 'changes_requested') c = onMilestone(c, requestChanges(a), CLIENT).contract
  if (first === 'disputed') c = onDispute(c, openDispute(a, 0n), CLIENT).contract
  return c
}

describe('end contract', () => {
  it('by the client: pending → cancelled, funded and changes_requested → refund requests', () => {
    const c = three('changes_requested')
    const d = onContract(c, END, CLIENT, T0 + DAY)
    expect(d.contract.milestones.map((m) => m.state)).toEqual(['refund_requested', 'refund_requested', 'cancelled'])
    expect(d.contract.refundRequests.map((r) => [r.amount, r.source, r.expiresAt])).toEqual([
      [100_000n, 'contract_end', T0 + 8 * DAY],
      [50_000n, 'contract_end', T0 + 8 * DAY],
    ])
    expect(d.contract).toMatchObject({ status: 'ended', endedAt: T0 + DAY })
    expect(eventTypes(d)).toEqual(['refund_request.created', 'refund_request.created', 'contract.ended'])
    expect(d.entries).toEqual([])
  })

  it('by the client: refused while a milestone is submitted or disputed', () => {
    for (const state of ['submitted', 'disputed'] as const) {
      const e = errorOf(() => onContract(three(state), END, CLIENT))
      expect([e.code, e.status]).toEqual(['milestones_awaiting_action', 409])
      expect(e.message).toContain(`(${state})`)
    }
  })

  it('by the freelancer: funded and submitted → refunded, pending → cancelled; refused while disputed', () => {
    const c = three('submitted')
    const [a, b] = [ms(c, 0).id, ms(c, 1).id]
    const d = onContract(c, END, FREELANCER)
    expect(d.contract.milestones.map((m) => m.state)).toEqual(['refunded', 'refunded', 'cancelled'])
    expect(d.entries.map(linesOf)).toEqual([
      { [escrow(a)]: -105_000n, [EA]: 105_000n },
      { [escrow(b)]: -52_500n, [EA]: 52_500n },
    ])
    expect(allBalanced(d)).toBe(true)
    // every milestone is terminal, yet an ended contract stays ended
    expect(d.contract.status).toBe('ended')
    expect(eventTypes(d)).toEqual(['milestone.refunded', 'milestone.refunded', 'contract.ended'])
    expect(codeOf(() => onContract(three('disputed'), END, FREELANCER))).toBe('milestones_awaiting_action')
  })

  it('only the parties, only once', () => {
    const c = three('funded')
    expect(codeOf(() => onContract(c, END, ADMIN))).toBe('actor_not_allowed')
    expect(codeOf(() => onContract(c, END, STRANGER))).toBe('resource_missing')
    const ended = onContract(c, END, CLIENT).contract
    expect(errorOf(() => onContract(ended, END, FREELANCER)).message).toBe('Cannot end: the contract is ended.')
  })

  it('the refund requests of an ended contract expire into refunds; the contract stays ended', () => {
    const ended = onContract(three('funded'), END, CLIENT).contract
    let c = ended
    for (const rr of ended.refundRequests) {
      c = onContract(
        c,
        timer('refund_expiry', { milestoneId: rr.milestoneId, refundRequestId: rr.id }),
        SYSTEM,
        T0 + 7 * DAY,
      ).contract
    }
    expect(c.milestones.map((m) => m.state)).toEqual(['refunded', 'refunded', 'cancelled'])
    expect(c.status).toBe('ended')
  })
})

describe('amendments', () => {
  const base = () => contractOf({ milestones: [line(100_000n), line(50_000n)] })

  it('add: proposed by one party, accepted by the other → a new pending milestone', () => {
    const c = base()
    const p = onContract(c, amend({ add: [line(30_000n, { title: 'Extra' })] }), FREELANCER)
    const a = p.contract.amendments[0]!
    expect(a).toMatchObject({ proposedBy: FREELANCER, status: 'proposed', remove: [], edit: [], decidedAt: null })
    expect(a.add.map((x) => x.amount)).toEqual([30_000n])
    expect(p.contract.milestones).toHaveLength(2)
    expect(eventTypes(p)).toEqual(['amendment.proposed'])
    const d = onContract(p.contract, answer('accept_amendment', a.id), CLIENT, T0 + DAY)
    expect(d.contract.milestones.map((m) => [m.position, m.title, m.amount, m.state])).toEqual([
      [1, 'Milestone', 100_000n, 'pending'],
      [2, 'Milestone', 50_000n, 'pending'],
      [3, 'Extra', 30_000n, 'pending'],
    ])
    expect(d.contract.amendments[0]).toMatchObject({ status: 'accepted', decidedAt: T0 + DAY })
    expect(eventTypes(d)).toEqual(['amendment.accepted'])
  })

  it('keeps a deposit at most 50% of the total, at proposal and at acceptance', () => {
    const c = contractOf({ milestones: [line(40_000n, { deposit: true }), line(60_000n)] })
    const [dep, rest] = [ms(c, 0).id, ms(c, 1).id]
    expect(codeOf(() => onContract(c, amend({ remove: [rest] }), CLIENT))).toBe('terms_invalid')
    expect(codeOf(() => onContract(c, amend({ edit: [{ milestoneId: dep, amount: 70_000n }] }), CLIENT))).toBe(
      'terms_invalid',
    )
    // two amendments that are each fine but not together: the second is refused when accepted
    const p1 = onContract(c, amend({ edit: [{ milestoneId: dep, amount: 55_000n }] }), CLIENT).contract
    const p2 = onContract(p1, amend({ edit: [{ milestoneId: rest, amount: 50_000n }] }), CLIENT).contract
    const a1 = onContract(p2, answer('accept_amendment', p2.amendments[0]!.id), FREELANCER).contract
    expect(codeOf(() => onContract(a1, answer('accept_amendment', a1.amendments[1]!.id), FREELANCER))).toBe(
      'terms_invalid',
    )
    expect(onContract(c, amend({ add: [line(10_000n)] }), CLIENT).contract.amendments).toHaveLength(1)
  })

  it('edit and remove pending milestones', () => {
    const c = base()
    const [a, b] = [ms(c, 0).id, ms(c, 1).id]
    const p = onContract(
      c,
      amend({ edit: [{ milestoneId: a, amount: 90_000n, title: 'Design' }], remove: [b] }),
      CLIENT,
    ).contract
    const d = onContract(p, answer('accept_amendment', p.amendments[0]!.id), FREELANCER)
    expect(d.contract.milestones.map((m) => [m.title, m.amount, m.state])).toEqual([
      ['Design', 90_000n, 'pending'],
      ['Milestone', 50_000n, 'cancelled'],
    ])
    expect(d.contract.status).toBe('active')
  })

  it('by_entry: an edit of entries recomputes the amount', () => {
    const c = contractOf(entryTerms(1_000n, 3))
    const p = onContract(c, amend({ edit: [{ milestoneId: ms(c).id, entries: 5 }] }), CLIENT).contract
    expect(p.amendments[0]!.edit[0]).toMatchObject({ entries: 5, amount: 5_000n })
    expect(ms(onContract(p, answer('accept_amendment', p.amendments[0]!.id), FREELANCER).contract)).toMatchObject({
      entries: 5,
      amount: 5_000n,
    })
  })

  it('a funded milestone is frozen, at proposal and at acceptance', () => {
    const c = base()
    const a = ms(c).id
    const funded = onMilestone(c, fund(a), CLIENT).contract
    expect(codeOf(() => onContract(funded, amend({ edit: [{ milestoneId: a, amount: 90_000n }] }), CLIENT))).toBe(
      'milestone_frozen',
    )
    expect(codeOf(() => onContract(funded, amend({ remove: [a] }), FREELANCER))).toBe('milestone_frozen')
    const p = onContract(c, amend({ remove: [a] }), FREELANCER).contract
    const thenFunded = onMilestone(p, fund(a), CLIENT).contract
    const e = errorOf(() => onContract(thenFunded, answer('accept_amendment', p.amendments[0]!.id), CLIENT))
    expect([e.code, e.status]).toEqual(['milestone_frozen', 409])
  })

  it('author cannot accept; only the author withdraws; the other rejects', () => {
    const p = onContract(base(), amend({ add: [line(30_000n)] }), CLIENT).contract
    const id = p.amendments[0]!.id
    expect(codeOf(() => onContract(p, answer('accept_amendment', id), CLIENT))).toBe('actor_not_allowed')
    expect(codeOf(() => onContract(p, answer('reject_amendment', id), CLIENT))).toBe('actor_not_allowed')
    expect(codeOf(() => onContract(p, answer('withdraw_amendment', id), FREELANCER))).toBe('actor_not_allowed')
    expect(codeOf(() => onContract(p, answer('accept_amendment', id), STRANGER))).toBe('resource_missing')
    expect(codeOf(() => onContract(p, answer('accept_amendment', 'amd_nope'), FREELANCER))).toBe('resource_missing')
    const w = onContract(p, answer('withdraw_amendment', id), CLIENT)
    expect([w.contract.amendments[0]!.status, eventTypes(w)]).toEqual(['withdrawn', ['amendment.withdrawn']])
    const r = onContract(p, answer('reject_amendment', id), FREELANCER)
    expect([r.contract.amendments[0]!.status, eventTypes(r)]).toEqual(['rejected', ['amendment.rejected']])
    expect(r.contract.milestones).toHaveLength(2)
    expect(errorOf(() => onContract(r.contract, answer('accept_amendment', id), FREELANCER)).message).toContain(
      'the amendment is rejected',
    )
  })

  it('the admin is not a party to an amendment', () => {
    const p = onContract(base(), amend({ add: [line(30_000n)] }), CLIENT).contract
    const id = p.amendments[0]!.id
    expect(codeOf(() => onContract(p, amend({ add: [line(30_000n)] }), ADMIN))).toBe('actor_not_allowed')
    expect(codeOf(() => onContract(p, answer('accept_amendment', id), ADMIN))).toBe('actor_not_allowed')
    expect(codeOf(() => onContract(p, answer('reject_amendment', id), ADMIN))).toBe('actor_not_allowed')
    expect(codeOf(() => onContract(p, answer('accept_amendment', id), SYSTEM))).toBe('actor_not_allowed')
  })

  it('validation: something to change, no deposits, minimum amounts, by_project stays one milestone', () => {
    const c = base()
    expect(codeOf(() => onContract(c, amend({}), CLIENT))).toBe('parameter_missing')
    expect(codeOf(() => onContract(c, amend({ add: [line(30_000n, { deposit: true })] }), CLIENT))).toBe(
      'terms_invalid',
    )
    expect(codeOf(() => onContract(c, amend({ add: [line(499n)] }), CLIENT))).toBe('amount_invalid')
    expect(codeOf(() => onContract(c, amend({ edit: [{ milestoneId: ms(c).id, amount: 499n }] }), CLIENT))).toBe(
      'amount_invalid',
    )
    const project = contractOf({ paymentMode: 'by_project' })
    expect(codeOf(() => onContract(project, amend({ add: [line(30_000n)] }), CLIENT))).toBe('terms_invalid')
    const ended = onContract(c, END, CLIENT).contract
    expect(codeOf(() => onContract(ended, amend({ add: [line(30_000n)] }), CLIENT))).toBe('invalid_state_transition')
  })

  it('removing the last open milestone completes the contract', () => {
    const { c, id } = inState('released')
    const p = onContract(c, amend({ remove: [ms(c, 1).id] }), CLIENT).contract
    const d = onContract(p, answer('accept_amendment', p.amendments[0]!.id), FREELANCER)
    expect(ms(d.contract, 0).id).toBe(id)
    expect(d.contract.status).toBe('completed')
    expect(eventTypes(d)).toEqual(['amendment.accepted', 'contract.completed'])
  })
})

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
