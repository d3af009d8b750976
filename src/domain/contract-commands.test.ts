import { describe, expect, it } from 'vitest'
import type { ContractCommand } from './contract-commands.ts'
import { available, escrow, pending } from './ledger.ts'
import {
  ADMIN,
  allBalanced,
  CLIENT,
  codeOf,
  contractOf,
  DAY,
  entryTerms,
  errorOf,
  eventTypes,
  FREELANCER,
  fund,
  inState,
  line,
  linesOf,
  ms,
  onContract,
  onDispute,
  onMilestone,
  openDispute,
  requestChanges,
  STRANGER,
  SYSTEM,
  submit,
  T0,
  timer,
} from './test-support.ts'

const EA = available(CLIENT)
const _FP = pending(FREELANCER)
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
      // named by title (the web app shows the message), then its state and id
      expect(e.message).toMatch(new RegExp(`“[^”]+” \\(${state}, ms_\\w+\\)`))
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

  it('by_entry: an edit that states an amount must agree with entries × unit_price (SPEC §4)', () => {
    const c = contractOf(entryTerms(1_000n, 3))
    const id = ms(c).id
    const e = errorOf(() => onContract(c, amend({ edit: [{ milestoneId: id, entries: 5, amount: 999_999n }] }), CLIENT))
    expect([e.code, e.param]).toEqual(['amount_invalid', 'edit[0].amount'])
    const p = onContract(c, amend({ edit: [{ milestoneId: id, entries: 5, amount: 5_000n }] }), CLIENT).contract
    expect(p.amendments[0]!.edit[0]).toMatchObject({ entries: 5, amount: 5_000n })
  })

  it('a due date must be a date of the calendar, in an added line and in an edit', () => {
    const c = base()
    const bad = (o: Parameters<typeof amend>[0]) => errorOf(() => onContract(c, amend(o), CLIENT))
    expect(bad({ add: [line(30_000n, { dueDate: '2030-02-30' })] }).param).toBe('add[0].due_date')
    const e = bad({ edit: [{ milestoneId: ms(c).id, dueDate: '2030-13-01' }] })
    expect([e.code, e.param]).toEqual(['parameter_invalid', 'edit[0].due_date'])
    const ok = onContract(c, amend({ edit: [{ milestoneId: ms(c).id, dueDate: '2032-02-29' }] }), CLIENT).contract
    expect(ok.amendments[0]!.edit[0]).toMatchObject({ dueDate: '2032-02-29' })
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
