import { describe, expect, it } from 'vitest'
import {
  CLIENT,
  contractOf,
  FREELANCER,
  fund,
  inState,
  line,
  ms,
  onDispute,
  onMilestone,
  openDispute,
  submit,
} from './test-support.ts'
import { deepFreeze } from './types.ts'

describe('a decision shares what it did not change', () => {
  it('keeps the input frozen and untouched; unchanged milestones are the same objects, changed ones are new', () => {
    const c = deepFreeze(contractOf({ milestones: [line(100_000n), line(50_000n), line(25_000n)] }))
    const d = onMilestone(c, fund(ms(c, 1).id), CLIENT)
    expect(ms(d.contract, 1).state).toBe('funded')
    expect(ms(c, 1).state).toBe('pending')
    expect(ms(d.contract, 1)).not.toBe(ms(c, 1))
    expect(ms(d.contract, 0)).toBe(ms(c, 0))
    expect(ms(d.contract, 2)).toBe(ms(c, 2))
    expect(d.contract.milestones).not.toBe(c.milestones)
  })

  it('decides on a frozen contract through a dispute and its proposals (nested lists are replaced, not edited)', () => {
    const start = inState('submitted')
    let c = deepFreeze(start.c)
    c = deepFreeze(onDispute(c, openDispute(start.id, 40_000n), CLIENT).contract)
    const dsp = c.disputes[0]!.id
    c = deepFreeze(
      onDispute(
        c,
        { type: 'propose', disputeId: dsp, releaseAmount: 60_000n, message: 'Most of it was done' },
        FREELANCER,
      ).contract,
    )
    const before = c
    const proposal = c.disputes[0]!.proposals.find((p) => p.by === FREELANCER && p.status === 'open')!
    const d = onDispute(c, { type: 'accept_proposal', disputeId: dsp, proposalId: proposal.id }, CLIENT)
    expect(d.contract.disputes[0]!.status).toBe('resolved')
    expect(d.contract.disputes[0]!.proposals.find((p) => p.id === proposal.id)!.status).toBe('accepted')
    expect(before.disputes[0]!.proposals.find((p) => p.id === proposal.id)!.status).toBe('open')
    expect(ms(d.contract, 1)).toBe(ms(before, 1))
  })

  it('a submit on a frozen contract works and leaves the input as it was', () => {
    const fresh = contractOf()
    const c = deepFreeze(onMilestone(fresh, fund(ms(fresh).id), CLIENT).contract)
    const snapshot = JSON.stringify(c, (_k, v) => (typeof v === 'bigint' ? String(v) : v))
    const d = onMilestone(c, submit(ms(c).id), FREELANCER)
    expect(ms(d.contract).state).toBe('submitted')
    expect(JSON.stringify(c, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).toBe(snapshot)
  })
})
