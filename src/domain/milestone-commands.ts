/**
 * Milestone commands (SPEC §5): each decided as (contract, command, context) → {contract, events, entries, timers},
 * or a DomainError. Actor and from-state come from the process table; the amounts from money.ts.
 */
import type { Contract } from './contract-model.ts'
import {
  type ContractDecision,
  ContractWork,
  DISPUTE_RESPONSE_MS,
  type MMilestone,
  requireAmount,
} from './contract-work.ts'
import { DomainError, fail } from './errors.ts'
import { chargeLines, escrow, PLATFORM, pending } from './ledger.ts'
import { fee } from './money.ts'
import type { DecisionContext } from './types.ts'

export type MilestoneCommand =
  | { readonly type: 'fund'; readonly milestoneIds: readonly string[]; readonly credit: bigint }
  | {
      readonly type: 'submit'
      readonly milestoneId: string
      readonly message: string
      readonly links: readonly string[]
      readonly entries: readonly number[] | null
    }
  | { readonly type: 'request_changes'; readonly milestoneId: string; readonly message: string }
  | {
      readonly type: 'approve'
      readonly milestoneId: string
      readonly amount: bigint | null
      readonly acceptedEntries: readonly number[] | null
      readonly bonus: bigint | null
      readonly rest: 'refund' | 'rework'
      readonly message: string | null
      readonly credit: bigint
    }
  | { readonly type: 'request_refund'; readonly milestoneId: string; readonly reason: string }
  | { readonly type: 'refund'; readonly milestoneId: string; readonly reason: string | null }
  | { readonly type: 'accept_refund'; readonly refundRequestId: string; readonly reason?: string | null }
  | { readonly type: 'decline_refund'; readonly refundRequestId: string; readonly reason: string | null }

export function decideMilestone(contract: Contract, cmd: MilestoneCommand, ctx: DecisionContext): ContractDecision {
  const w = new ContractWork(contract, ctx)
  switch (cmd.type) {
    case 'fund':
      return fund(w, cmd.milestoneIds, cmd.credit)
    case 'submit':
      return submit(w, cmd)
    case 'request_changes': {
      const m = w.milestone(cmd.milestoneId)
      w.guard(m, 'request_changes')
      w.refuseAfterReview(m, 'request_changes')
      if (m.revisionsUsed >= w.c.revisionLimit) {
        fail(
          'revision_limit_reached',
          `All ${w.c.revisionLimit} revisions are used: approve the milestone or open a dispute.`,
        )
      }
      spendRevision(w, m, cmd.message)
      w.emit('milestone.changes_requested', 'milestone', m.id)
      return w.done()
    }
    case 'approve':
      return approve(w, cmd)
    case 'request_refund': {
      const m = w.milestone(cmd.milestoneId)
      w.guard(m, 'request_refund')
      w.openRefundRequest(m, 'client', cmd.reason)
      return w.done()
    }
    case 'refund': {
      const m = w.milestone(cmd.milestoneId)
      w.guard(m, 'refund')
      w.refundRest(m)
      w.finish(m, null)
      return w.done()
    }
    case 'accept_refund':
    case 'decline_refund': {
      const rr = w.refundRequest(cmd.refundRequestId)
      const m = w.milestone(rr.milestoneId)
      w.guard(m, cmd.type)
      if (rr.status !== 'open' || m.refundRequestId !== rr.id)
        fail('invalid_state_transition', `The refund request is ${rr.status}.`)
      w.cancelTimer(`refund_expiry:${rr.id}`)
      if (cmd.type === 'accept_refund') {
        rr.status = 'accepted'
        w.emit('refund_request.accepted', 'refund_request', rr.id)
        w.refundRest(m)
        w.finish(m, null)
      } else {
        rr.status = 'declined'
        w.emit('refund_request.declined', 'refund_request', rr.id)
        openDisputeOn(w, m, {
          by: w.c.freelancerId,
          role: 'freelancer',
          reason: cmd.reason ?? rr.reason,
          releaseAmount: m.escrow,
        })
      }
      return w.done()
    }
    default:
      return cmd satisfies never
  }
}

/** One request for changes: the clock stops, one revision is used. */
function spendRevision(w: ContractWork, m: MMilestone, message: string) {
  m.revisionsUsed += 1
  m.changeRequest = { message, requestedAt: w.now }
  m.state = 'changes_requested'
  w.cancelReviewTimers(m)
  w.scheduleDormancy(m)
}

function fund(w: ContractWork, ids: readonly string[], credit: bigint): ContractDecision {
  w.guardActor('fund')
  if (ids.length === 0) fail('parameter_missing', 'Name at least one milestone to fund.', 'milestone_ids')
  if (new Set(ids).size !== ids.length) fail('parameter_invalid', 'A milestone is named twice.', 'milestone_ids')
  const ms = ids.map((id) => w.milestone(id))
  for (const m of ms) w.guardState(m, 'fund')
  let left = credit
  for (const m of ms) {
    const heldFee = fee(m.amount, w.c.clientFeeBps)
    const charge = chargeLines(w.c.clientId, m.amount + heldFee, left)
    left -= m.amount + heldFee - charge.fromRail
    if (charge.fromRail > 0n) w.fx.railCharges.push({ currency: w.c.currency, amount: charge.fromRail })
    w.post('fund', [...charge.lines, { account: escrow(m.id), amount: m.amount + heldFee }], m.id, `Funding of ${m.id}`)
    m.state = 'funded'
    m.escrow = m.amount
    m.escrowFee = heldFee
    m.fundedAt = w.now
    w.emit('milestone.funded', 'milestone', m.id)
    if (m.deposit) {
      // A deposit is the money up front, stated openly: released as soon as it is funded.
      w.release(m, m.escrow)
      w.finish(m)
    } else {
      w.scheduleDormancy(m)
    }
  }
  return w.done()
}

function submit(w: ContractWork, cmd: Extract<MilestoneCommand, { type: 'submit' }>): ContractDecision {
  const m = w.milestone(cmd.milestoneId)
  w.guardActor('submit')
  if (w.c.paymentMode !== 'by_entry' && cmd.entries) {
    fail('parameter_invalid', 'entries belong to by_entry contracts.', 'entries')
  }
  w.guardState(m, 'submit')
  let entries: number[] | null = null
  if (w.c.paymentMode === 'by_entry') {
    entries = cmd.entries ? checkEntries(cmd.entries, m, 'entries') : openEntries(m)
  }
  m.state = 'submitted'
  m.submission = { message: cmd.message, links: [...cmd.links], entries, submittedAt: w.now }
  w.startReviewWindow(m)
  w.cancelTimer(`dormancy:${m.id}`)
  w.emit('milestone.submitted', 'milestone', m.id)
  return w.done()
}

const openEntries = (m: MMilestone) =>
  Array.from({ length: m.entries ?? 0 }, (_, i) => i + 1).filter((n) => !m.acceptedEntries.includes(n))

/** Entry numbers must be 1..n of the milestone, distinct, and not accepted before. */
function checkEntries(list: readonly number[], m: MMilestone, param: string): number[] {
  if (new Set(list).size !== list.length) fail('parameter_invalid', 'An entry number is repeated.', param)
  for (const n of list) {
    if (!Number.isInteger(n) || n < 1 || n > (m.entries ?? 0)) {
      fail('parameter_invalid', `Entry ${n} is not one of 1..${m.entries} of this milestone.`, param)
    }
    if (m.acceptedEntries.includes(n)) fail('parameter_invalid', `Entry ${n} was accepted already.`, param)
  }
  return [...list].sort((a, b) => a - b)
}

function approve(w: ContractWork, cmd: Extract<MilestoneCommand, { type: 'approve' }>): ContractDecision {
  const m = w.milestone(cmd.milestoneId)
  w.guardActor('approve')
  const byEntry = w.c.paymentMode === 'by_entry'
  if (byEntry && cmd.amount !== null)
    fail('parameter_invalid', 'by_entry milestones are approved by accepted_entries.', 'amount')
  if (!byEntry && cmd.acceptedEntries)
    fail('parameter_invalid', 'accepted_entries belong to by_entry contracts.', 'accepted_entries')
  if (!byEntry && cmd.rest === 'rework') fail('parameter_invalid', 'rest "rework" is for by_entry milestones.', 'rest')
  w.guardState(m, 'approve')
  let r: bigint
  let accepted: number[] = []
  if (byEntry) {
    accepted = cmd.acceptedEntries ? checkEntries(cmd.acceptedEntries, m, 'accepted_entries') : openEntries(m)
    r = BigInt(accepted.length) * (w.c.unitPrice ?? 0n)
    if (r > m.escrow) r = m.escrow
  } else {
    r = cmd.amount ?? m.escrow
    if (r < 1n) throw new DomainError('amount_invalid', 'Approve at least 1 minor unit.', 'amount')
    requireAmount(r, m.escrow, w.c.currency, 'amount')
  }
  const rework = cmd.rest === 'rework' && r < m.escrow
  if (r < m.escrow) w.refuseAfterReview(m, 'approve less than the escrow')
  if (rework && m.revisionsUsed >= w.c.revisionLimit) {
    fail('revision_limit_reached', `All ${w.c.revisionLimit} revisions are used: accept the rest or open a dispute.`)
  }
  if (cmd.bonus !== null) bonus(w, m, cmd.bonus, cmd.credit)
  w.release(m, r)
  m.acceptedEntries = [...m.acceptedEntries, ...accepted].sort((a, b) => a - b)
  if (m.escrow === 0n) {
    if (cmd.message?.trim()) m.approval = { message: cmd.message, approvedAt: w.now }
    w.refundRest(m) // the client fee rounding leftover, if any
    w.finish(m)
  } else if (rework) {
    if (r > 0n) w.emit('milestone.released', 'milestone', m.id)
    spendRevision(w, m, cmd.message ?? 'Some entries are accepted; rework the others.')
    w.emit('milestone.changes_requested', 'milestone', m.id)
  } else {
    if (r > 0n) w.emit('milestone.released', 'milestone', m.id)
    w.openRefundRequest(m, 'partial_approve', cmd.message ?? 'Partial approval: the rest goes back to the client.')
  }
  return w.done()
}

/** A bonus is charged like funding (credit first, with the client fee) and paid less the service fee. */
function bonus(w: ContractWork, m: MMilestone, amount: bigint, credit: bigint) {
  const clientFee = fee(amount, w.c.clientFeeBps)
  const serviceFee = fee(amount, w.c.serviceFeeBps)
  const charge = chargeLines(w.c.clientId, amount + clientFee, credit)
  if (charge.fromRail > 0n) w.fx.railCharges.push({ currency: w.c.currency, amount: charge.fromRail })
  const entryId = w.post(
    'bonus',
    [
      ...charge.lines,
      { account: pending(w.c.freelancerId), amount: amount - serviceFee },
      { account: PLATFORM, amount: clientFee + serviceFee },
    ],
    m.id,
    `Bonus of ${amount} on ${m.id}`,
  )
  m.bonus += amount
  w.hold(entryId, amount - serviceFee)
}

/** Opens a dispute over the remaining escrow (SPEC §6); shared by open_dispute and decline_refund. */
export function openDisputeOn(
  w: ContractWork,
  m: MMilestone,
  o: { by: string; role: 'client' | 'freelancer'; reason: string; releaseAmount: bigint },
) {
  requireAmount(o.releaseAmount, m.escrow, w.c.currency, 'release_amount')
  const id = w.ctx.newId('dsp')
  const responseDeadline = w.now + DISPUTE_RESPONSE_MS
  w.c.disputes.push({
    id,
    milestoneId: m.id,
    openedBy: o.by,
    openerRole: o.role,
    reason: o.reason,
    status: 'awaiting_response',
    escrowAmount: m.escrow,
    proposals: [
      {
        id: w.ctx.newId('prp'),
        by: o.by,
        byRole: o.role,
        releaseAmount: o.releaseAmount,
        message: o.reason,
        status: 'open',
        acceptedBy: [o.by],
        createdAt: w.now,
      },
    ],
    responseDeadline,
    negotiationDeadline: null,
    resolution: null,
    createdAt: w.now,
  })
  m.state = 'disputed'
  m.disputeId = id
  w.cancelReviewTimers(m)
  w.cancelTimer(`dormancy:${m.id}`)
  w.setTimer('dispute_response', `dispute_response:${id}`, responseDeadline, { milestoneId: m.id, disputeId: id })
  w.emit('dispute.opened', 'dispute', id)
}
