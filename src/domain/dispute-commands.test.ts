import { describe, expect, it } from 'vitest'
import type { Contract } from './contract-model.ts'
import { type DisputeCommand, decideDispute } from './dispute-commands.ts'
import { available, escrow, PLATFORM, pending } from './ledger.ts'
import {
  ADMIN,
  allBalanced,
  CLIENT,
  codeOf,
  ctx,
  DAY,
  errorOf,
  eventTypes,
  FREELANCER,
  inState,
  linesOf,
  ms,
  onDispute,
  openDispute,
  STRANGER,
  SYSTEM,
  T0,
  timerSet,
} from './test-support.ts'

const EA = available(CLIENT)
const FP = pending(FREELANCER)
const propose = (disputeId: string, releaseAmount: bigint): DisputeCommand => ({
  type: 'propose',
  disputeId,
  releaseAmount,
  message: 'My offer',
})
const acceptP = (disputeId: string, proposalId: string): DisputeCommand => ({
  type: 'accept_proposal',
  disputeId,
  proposalId,
})
const escalate = (disputeId: string): DisputeCommand => ({ type: 'escalate', disputeId })
const decide = (disputeId: string, releaseAmount: bigint): DisputeCommand => ({
  type: 'decide',
  disputeId,
  releaseAmount,
  note: 'Decided',
})
const lastProposal = (c: Contract) => c.disputes[0]!.proposals.at(-1)!

/** A submitted 100,000 milestone (escrow 105,000 with its fee) on which the client opened a dispute proposing 40,000. */
function opened() {
  const { c: base, id } = inState('submitted')
  const c = onDispute(base, openDispute(id, 40_000n), CLIENT, T0 + DAY).contract
  return { c, id, dsp: c.disputes[0]!.id }
}

/** The freelancer answered with 70,000: negotiation. */
function negotiating() {
  const o = opened()
  return { ...o, c: onDispute(o.c, propose(o.dsp, 70_000n), FREELANCER, T0 + 2 * DAY).contract }
}

describe('open_dispute', () => {
  it('awaiting_response, the other party has 5 days; the escrow stays held', () => {
    const { c: base, id } = inState('submitted')
    const d = onDispute(base, openDispute(id, 40_000n), CLIENT, T0 + DAY)
    const dsp = d.contract.disputes[0]!
    expect(dsp).toMatchObject({
      milestoneId: id,
      openedBy: CLIENT,
      openerRole: 'client',
      reason: 'We disagree',
      status: 'awaiting_response',
    })
    expect(dsp).toMatchObject({
      escrowAmount: 100_000n,
      responseDeadline: T0 + 6 * DAY,
      negotiationDeadline: null,
      resolution: null,
    })
    expect(dsp.proposals.map((p) => [p.by, p.byRole, p.releaseAmount, p.status, p.acceptedBy])).toEqual([
      [CLIENT, 'client', 40_000n, 'open', [CLIENT]],
    ])
    expect(ms(d.contract)).toMatchObject({
      state: 'disputed',
      disputeId: dsp.id,
      escrow: 100_000n,
      escrowFee: 5_000n,
      reviewDeadline: null,
    })
    expect(timerSet(d, `dispute_response:${dsp.id}`)).toEqual({
      key: `dispute_response:${dsp.id}`,
      kind: 'dispute_response',
      runAt: T0 + 6 * DAY,
      payload: { contractId: base.id, milestoneId: id, disputeId: dsp.id },
    })
    expect(d.timers.cancel).toEqual(
      expect.arrayContaining([`auto_release:${id}`, `review_reminder:${id}:24h`, `dormancy:${id}`]),
    )
    expect(eventTypes(d)).toEqual(['dispute.opened'])
    expect(d.entries).toEqual([])
  })

  it('over a refund request: the request is declined and its expiry cancelled', () => {
    const { c, id } = inState('refund_requested')
    const rrId = ms(c).refundRequestId!
    const d = onDispute(c, openDispute(id, 100_000n), FREELANCER)
    expect(d.contract.refundRequests[0]!.status).toBe('declined')
    expect(d.timers.cancel).toContain(`refund_expiry:${rrId}`)
    expect(d.contract.disputes[0]).toMatchObject({ openedBy: FREELANCER, openerRole: 'freelancer' })
    expect(eventTypes(d)).toEqual(['refund_request.declined', 'dispute.opened'])
  })

  it('the release amount is 0..escrow', () => {
    const { c, id } = inState('funded')
    expect(ms(onDispute(c, openDispute(id, 100_000n), CLIENT).contract).state).toBe('disputed')
    for (const bad of [100_001n, -1n]) {
      const e = errorOf(() => onDispute(c, openDispute(id, bad), CLIENT))
      expect([e.code, e.param]).toEqual(['amount_invalid', 'release_amount'])
    }
  })
})

describe('proposals', () => {
  it("the other party's proposal → negotiation with a 14-day deadline", () => {
    const { c, dsp } = opened()
    const at = T0 + 2 * DAY
    const d = onDispute(c, propose(dsp, 70_000n), FREELANCER, at)
    expect(d.contract.disputes[0]).toMatchObject({ status: 'negotiation', negotiationDeadline: at + 14 * DAY })
    expect(lastProposal(d.contract)).toMatchObject({
      by: FREELANCER,
      byRole: 'freelancer',
      releaseAmount: 70_000n,
      status: 'open',
    })
    expect(d.timers.cancel).toEqual([`dispute_response:${dsp}`])
    expect(timerSet(d, `dispute_negotiation:${dsp}`)).toMatchObject({
      kind: 'dispute_negotiation',
      runAt: at + 14 * DAY,
    })
    expect(eventTypes(d)).toEqual(['dispute.responded'])
  })

  it("the filer's new proposal supersedes the old one and keeps awaiting_response", () => {
    const { c, dsp } = opened()
    const d = onDispute(c, propose(dsp, 30_000n), CLIENT)
    const dispute = d.contract.disputes[0]!
    expect(dispute.status).toBe('awaiting_response')
    expect(dispute.proposals.map((p) => [p.releaseAmount, p.status])).toEqual([
      [40_000n, 'superseded'],
      [30_000n, 'open'],
    ])
    expect(eventTypes(d)).toEqual(['dispute.proposal_made'])
    expect(d.timers.set).toEqual([])
  })

  it('amounts above the escrow (or negative) → amount_invalid', () => {
    const { c, dsp } = negotiating()
    for (const who of [CLIENT, FREELANCER, ADMIN]) {
      expect(codeOf(() => onDispute(c, propose(dsp, 100_001n), who))).toBe('amount_invalid')
      expect(codeOf(() => onDispute(c, propose(dsp, -1n), who))).toBe('amount_invalid')
    }
    expect(lastProposal(onDispute(c, propose(dsp, 100_000n), CLIENT).contract).releaseAmount).toBe(100_000n)
  })

  it('strangers, the system and unknown disputes', () => {
    const { c, dsp } = opened()
    expect(codeOf(() => onDispute(c, propose(dsp, 1n), STRANGER))).toBe('resource_missing')
    expect(codeOf(() => onDispute(c, propose('dsp_nope', 1n), CLIENT))).toBe('resource_missing')
    expect(codeOf(() => decideDispute(c, propose(dsp, 1n), ctx(SYSTEM)))).toBe('actor_not_allowed')
  })
})

describe('accept_proposal → resolved by agreement', () => {
  it('release of r and refund of the rest with exact lines; the milestone ends released', () => {
    const { c, id, dsp } = negotiating()
    const at = T0 + 3 * DAY
    const d = onDispute(c, acceptP(dsp, lastProposal(c).id), CLIENT, at)
    expect(d.entries.map((e) => e.kind)).toEqual(['release', 'refund'])
    expect(linesOf(d.entries[0])).toEqual({ [escrow(id)]: -73_500n, [FP]: 63_000n, [PLATFORM]: 10_500n })
    expect(linesOf(d.entries[1])).toEqual({ [escrow(id)]: -31_500n, [EA]: 31_500n })
    expect(allBalanced(d)).toBe(true)
    const dispute = d.contract.disputes[0]!
    expect(dispute.status).toBe('resolved')
    expect(dispute.resolution).toEqual({
      releaseAmount: 70_000n,
      refundAmount: 30_000n,
      by: 'agreement',
      note: null,
      resolvedAt: at,
    })
    expect(lastProposal(d.contract)).toMatchObject({ status: 'accepted', acceptedBy: [FREELANCER, CLIENT] })
    expect(ms(d.contract)).toMatchObject({
      state: 'released',
      escrow: 0n,
      escrowFee: 0n,
      released: 70_000n,
      refunded: 30_000n,
      releasedVia: 'dispute',
    })
    expect(eventTypes(d)).toEqual(['milestone.refunded', 'milestone.released', 'dispute.resolved'])
    expect(d.timers.cancel).toEqual(expect.arrayContaining([`dispute_negotiation:${dsp}`, `dispute_response:${dsp}`]))
    expect(d.timers.set.filter((t) => t.kind === 'hold_release').map((t) => [t.payload.amount, t.runAt])).toEqual([
      ['63000', at + 5 * DAY],
    ])
  })

  it("the other party may accept the filer's proposal while awaiting a response", () => {
    const { c, id, dsp } = opened()
    const d = onDispute(c, acceptP(dsp, c.disputes[0]!.proposals[0]!.id), FREELANCER)
    expect(linesOf(d.entries[0])).toEqual({ [escrow(id)]: -42_000n, [FP]: 36_000n, [PLATFORM]: 6_000n })
    expect(linesOf(d.entries[1])).toEqual({ [escrow(id)]: -63_000n, [EA]: 63_000n })
    expect(d.contract.disputes[0]!.resolution).toMatchObject({
      releaseAmount: 40_000n,
      refundAmount: 60_000n,
      by: 'agreement',
    })
  })

  it('a release of 0 by agreement ends the milestone refunded', () => {
    const { c, id, dsp } = opened()
    const c2 = onDispute(c, propose(dsp, 0n), CLIENT).contract
    const d = onDispute(c2, acceptP(dsp, lastProposal(c2).id), FREELANCER)
    expect(d.entries.map(linesOf)).toEqual([{ [escrow(id)]: -105_000n, [EA]: 105_000n }])
    expect(ms(d.contract)).toMatchObject({ state: 'refunded', released: 0n, refunded: 100_000n })
  })

  it('refusals: own proposal, admin, stranger, unknown or superseded proposal, resolved dispute', () => {
    const { c, dsp } = negotiating()
    const mine = lastProposal(c).id
    const first = c.disputes[0]!.proposals[0]!.id
    expect(codeOf(() => onDispute(c, acceptP(dsp, mine), FREELANCER))).toBe('actor_not_allowed')
    expect(codeOf(() => onDispute(c, acceptP(dsp, mine), ADMIN))).toBe('actor_not_allowed')
    expect(codeOf(() => onDispute(c, acceptP(dsp, mine), STRANGER))).toBe('resource_missing')
    expect(codeOf(() => onDispute(c, acceptP(dsp, 'prp_nope'), CLIENT))).toBe('resource_missing')
    const c2 = onDispute(c, propose(dsp, 45_000n), CLIENT).contract
    const e = errorOf(() => onDispute(c2, acceptP(dsp, first), FREELANCER))
    expect([e.code, e.message]).toEqual(['invalid_state_transition', 'Cannot accept: the proposal is superseded.'])
    const done = onDispute(c, acceptP(dsp, mine), CLIENT).contract
    expect(errorOf(() => onDispute(done, acceptP(dsp, first), FREELANCER)).message).toContain('the dispute is resolved')
    expect(codeOf(() => onDispute(done, propose(dsp, 1n), FREELANCER))).toBe('invalid_state_transition')
  })

  it("an admin proposal needs both parties' acceptance", () => {
    const { c, id, dsp } = negotiating()
    const p = onDispute(c, propose(dsp, 50_000n), ADMIN)
    expect(lastProposal(p.contract)).toMatchObject({ by: 'admin', byRole: 'admin', acceptedBy: [], status: 'open' })
    expect(p.contract.disputes[0]!.status).toBe('negotiation')
    const prp = lastProposal(p.contract).id
    const half = onDispute(p.contract, acceptP(dsp, prp), CLIENT)
    expect(half.contract.disputes[0]!.status).toBe('negotiation')
    expect(lastProposal(half.contract)).toMatchObject({ status: 'open', acceptedBy: [CLIENT] })
    expect(eventTypes(half)).toEqual(['dispute.proposal_made'])
    expect(half.entries).toEqual([])
    const both = onDispute(half.contract, acceptP(dsp, prp), FREELANCER)
    expect(both.contract.disputes[0]!.resolution).toMatchObject({
      releaseAmount: 50_000n,
      refundAmount: 50_000n,
      by: 'agreement',
    })
    expect(both.entries.map(linesOf)).toEqual([
      { [escrow(id)]: -52_500n, [FP]: 45_000n, [PLATFORM]: 7_500n },
      { [escrow(id)]: -52_500n, [EA]: 52_500n },
    ])
  })
})

describe('escalate and decide', () => {
  it('either party escalates → arbitration; deadlines cancelled', () => {
    const { c, dsp } = negotiating()
    const d = onDispute(c, escalate(dsp), CLIENT)
    expect(d.contract.disputes[0]!.status).toBe('arbitration')
    expect(d.timers.cancel).toEqual(expect.arrayContaining([`dispute_negotiation:${dsp}`, `dispute_response:${dsp}`]))
    expect(eventTypes(d)).toEqual(['dispute.escalated'])
    const o = opened()
    expect(onDispute(o.c, escalate(o.dsp), FREELANCER).contract.disputes[0]!.status).toBe('arbitration')
    expect(codeOf(() => onDispute(c, escalate(dsp), ADMIN))).toBe('actor_not_allowed')
    expect(codeOf(() => onDispute(d.contract, escalate(dsp), FREELANCER))).toBe('invalid_state_transition')
    expect(errorOf(() => onDispute(d.contract, propose(dsp, 1n), CLIENT)).message).toContain(
      'the dispute is arbitration',
    )
    expect(codeOf(() => onDispute(d.contract, acceptP(dsp, lastProposal(c).id), CLIENT))).toBe(
      'invalid_state_transition',
    )
  })

  it('the admin decides, only in arbitration; final', () => {
    const n = negotiating()
    const e = errorOf(() => onDispute(n.c, decide(n.dsp, 10_000n), ADMIN))
    expect([e.code, e.message]).toEqual(['invalid_state_transition', 'Cannot decide: the dispute is negotiation.'])
    const arb = onDispute(n.c, escalate(n.dsp), FREELANCER).contract
    expect(codeOf(() => onDispute(arb, decide(n.dsp, 10_000n), CLIENT))).toBe('actor_not_allowed')
    expect(codeOf(() => onDispute(arb, decide(n.dsp, 10_000n), FREELANCER))).toBe('actor_not_allowed')
    expect(codeOf(() => onDispute(arb, decide(n.dsp, 10_000n), STRANGER))).toBe('resource_missing')
    expect(codeOf(() => onDispute(arb, decide(n.dsp, 100_001n), ADMIN))).toBe('amount_invalid')
    expect(codeOf(() => onDispute(arb, decide(n.dsp, -1n), ADMIN))).toBe('amount_invalid')

    const d = onDispute(arb, decide(n.dsp, 100_000n), ADMIN, T0 + 9 * DAY)
    expect(d.entries.map(linesOf)).toEqual([{ [escrow(n.id)]: -105_000n, [FP]: 90_000n, [PLATFORM]: 15_000n }])
    expect(d.contract.disputes[0]!.resolution).toEqual({
      releaseAmount: 100_000n,
      refundAmount: 0n,
      by: 'arbitration',
      note: 'Decided',
      resolvedAt: T0 + 9 * DAY,
    })
    expect(ms(d.contract)).toMatchObject({ state: 'released', releasedVia: 'dispute' })
    expect(codeOf(() => onDispute(d.contract, decide(n.dsp, 0n), ADMIN))).toBe('invalid_state_transition')

    const zero = onDispute(arb, decide(n.dsp, 0n), ADMIN)
    expect(zero.entries.map(linesOf)).toEqual([{ [escrow(n.id)]: -105_000n, [EA]: 105_000n }])
    expect(ms(zero.contract).state).toBe('refunded')

    const part = onDispute(arb, decide(n.dsp, 25_005n), ADMIN)
    // fee_client(25,005) = 1250 (1250.25), fee_service = 2501 (2500.5): no dispute fee on top
    expect(part.entries.map(linesOf)).toEqual([
      { [escrow(n.id)]: -26_255n, [FP]: 22_504n, [PLATFORM]: 3_751n },
      { [escrow(n.id)]: -78_745n, [EA]: 78_745n },
    ])
    expect(allBalanced(part)).toBe(true)
  })
})
