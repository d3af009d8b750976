/**
 * Disputes (SPEC §6): awaiting_response → negotiation → arbitration → resolved, with the default outcome for the
 * silent side. Resolving releases r and refunds the rest (SPEC §5); no fee is charged for the dispute itself.
 */
import type { Contract } from './contract-model.ts'
import { type ContractDecision, ContractWork, NEGOTIATION_MS, requireAmount } from './contract-work.ts'
import { badState, fail } from './errors.ts'
import { openDisputeOn } from './milestone-commands.ts'
import type { DecisionContext } from './types.ts'

export type DisputeCommand =
  | {
      readonly type: 'open_dispute'
      readonly milestoneId: string
      readonly reason: string
      readonly releaseAmount: bigint
    }
  | { readonly type: 'propose'; readonly disputeId: string; readonly releaseAmount: bigint; readonly message: string }
  | { readonly type: 'accept_proposal'; readonly disputeId: string; readonly proposalId: string }
  | { readonly type: 'escalate'; readonly disputeId: string }
  | { readonly type: 'decide'; readonly disputeId: string; readonly releaseAmount: bigint; readonly note: string }

export function decideDispute(contract: Contract, cmd: DisputeCommand, ctx: DecisionContext): ContractDecision {
  const w = new ContractWork(contract, ctx)
  if (cmd.type === 'open_dispute') {
    const m = w.milestone(cmd.milestoneId)
    const role = w.guard(m, 'open_dispute')
    if (role === 'client') w.refuseAfterReview(m, 'open_dispute')
    if (m.state === 'refund_requested' && m.refundRequestId) {
      const rr = w.refundRequest(m.refundRequestId)
      rr.status = 'declined'
      w.cancelTimer(`refund_expiry:${rr.id}`)
      w.emit('refund_request.declined', 'refund_request', rr.id)
    }
    openDisputeOn(w, m, {
      by: w.actorId(),
      role: role as 'client' | 'freelancer',
      reason: cmd.reason,
      releaseAmount: cmd.releaseAmount,
    })
    return w.done()
  }
  const d = w.dispute(cmd.disputeId)
  const role = w.actorRole()
  const m = w.milestone(d.milestoneId)
  switch (cmd.type) {
    case 'propose': {
      if (role === 'system') return fail('actor_not_allowed', 'Only the parties or the admin propose.')
      requireAmount(cmd.releaseAmount, d.escrowAmount, w.c.currency, 'release_amount') // 400 before the state's 409 (SPEC §5)
      if (cmd.releaseAmount > d.escrowAmount) fail('amount_invalid', 'More than the escrow.', 'release_amount')
      if (d.status !== 'awaiting_response' && d.status !== 'negotiation') badState('dispute', d.status, 'propose')
      const by = role === 'admin' ? 'admin' : w.actorId()
      d.proposals = [
        ...d.proposals.map((p) => (p.by === by && p.status === 'open' ? { ...p, status: 'superseded' as const } : p)),
        {
          id: ctx.newId('prp'),
          by,
          byRole: role,
          releaseAmount: cmd.releaseAmount,
          message: cmd.message,
          status: 'open',
          acceptedBy: role === 'admin' ? [] : [by],
          createdAt: ctx.now,
        },
      ]
      if (d.status === 'awaiting_response' && role !== 'admin' && by !== d.openedBy) {
        d.status = 'negotiation'
        d.negotiationDeadline = ctx.now + NEGOTIATION_MS
        w.cancelTimer(`dispute_response:${d.id}`)
        w.setTimer('dispute_negotiation', `dispute_negotiation:${d.id}`, d.negotiationDeadline, {
          milestoneId: m.id,
          disputeId: d.id,
        })
        w.emit('dispute.responded', 'dispute', d.id)
      } else {
        w.emit('dispute.proposal_made', 'dispute', d.id)
      }
      return w.done()
    }
    case 'accept_proposal': {
      if (role !== 'client' && role !== 'freelancer')
        return fail('actor_not_allowed', 'Only the parties accept proposals.')
      if (d.status !== 'awaiting_response' && d.status !== 'negotiation')
        badState('dispute', d.status, 'accept a proposal')
      const found = d.proposals.find((x) => x.id === cmd.proposalId)
      if (!found) return fail('resource_missing', `No such proposal: ${cmd.proposalId}.`)
      if (found.status !== 'open') badState('proposal', found.status, 'accept')
      const me = w.actorId()
      if (found.by === me) fail('actor_not_allowed', 'The other party accepts your proposal.')
      const acceptedBy = found.acceptedBy.includes(me) ? found.acceptedBy : [...found.acceptedBy, me]
      const agreed = [w.c.clientId, w.c.freelancerId].every((u) => acceptedBy.includes(u))
      const p = { ...found, acceptedBy, status: agreed ? ('accepted' as const) : found.status }
      d.proposals = d.proposals.map((x) => (x === found ? p : x))
      if (agreed) {
        resolve(w, d.id, p.releaseAmount, 'agreement', null)
      } else {
        w.emit('dispute.proposal_made', 'dispute', d.id)
      }
      return w.done()
    }
    case 'escalate': {
      if (role !== 'client' && role !== 'freelancer') return fail('actor_not_allowed', 'Only the parties escalate.')
      if (d.status !== 'negotiation' && d.status !== 'awaiting_response') badState('dispute', d.status, 'escalate')
      toArbitration(w, d.id)
      return w.done()
    }
    case 'decide': {
      if (role !== 'admin') return fail('actor_not_allowed', 'Only the admin decides a dispute.')
      requireAmount(cmd.releaseAmount, d.escrowAmount, w.c.currency, 'release_amount') // 400 before the state's 409 (SPEC §5)
      if (d.status !== 'arbitration') badState('dispute', d.status, 'decide')
      resolve(w, d.id, cmd.releaseAmount, 'arbitration', cmd.note)
      return w.done()
    }
    default:
      return cmd satisfies never
  }
}

export function toArbitration(w: ContractWork, disputeId: string) {
  const d = w.dispute(disputeId)
  d.status = 'arbitration'
  w.cancelTimer(`dispute_response:${d.id}`)
  w.cancelTimer(`dispute_negotiation:${d.id}`)
  w.emit('dispute.escalated', 'dispute', d.id)
}

/** Applies a release of r and a refund of the rest; the milestone ends released (r > 0) or refunded. */
export function resolve(
  w: ContractWork,
  disputeId: string,
  r: bigint,
  by: 'agreement' | 'default' | 'arbitration',
  note: string | null,
) {
  const d = w.dispute(disputeId)
  const m = w.milestone(d.milestoneId)
  const rest = m.escrow - r
  w.release(m, r)
  w.refundRest(m)
  w.finish(m, r > 0n ? 'milestone.released' : null, 'dispute')
  d.status = 'resolved'
  d.resolution = { releaseAmount: r, refundAmount: rest, by, note, resolvedAt: w.now }
  w.cancelTimer(`dispute_response:${d.id}`)
  w.cancelTimer(`dispute_negotiation:${d.id}`)
  w.emit('dispute.resolved', 'dispute', d.id)
}
