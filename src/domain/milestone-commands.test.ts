import { describe, expect, it } from 'vitest'
import { type Contract, type MilestoneState, TERMINAL_STATES } from './contract-model.ts'
import type { ContractDecision } from './contract-work.ts'
import { available, escrow, PLATFORM, pending, RAIL } from './ledger.ts'
import type { MilestoneCommand } from './milestone-commands.ts'
import { MILESTONE_PROCESS, type MilestoneCommandName } from './milestone-process.ts'
import {
  ADMIN,
  allBalanced,
  approve,
  CLIENT,
  codeOf,
  contractOf,
  DAY,
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
