/**
 * Contract-level commands (SPEC §5): amendments, ending a contract, and the system's timers (auto-release,
 * reminders, refund-request expiry, dispute deadlines, dormancy).
 */
import type { Amendment, Contract, MilestoneEdit } from './contract-model.ts'
import { newMilestone } from './contract-model.ts'
import { type ContractDecision, ContractWork, dormancyAt } from './contract-work.ts'
import { resolve, toArbitration } from './dispute-commands.ts'
import { badState, fail } from './errors.ts'
import { minimumMilestone } from './money.ts'
import { checkDueDate, lineAmount, type MilestoneInput } from './terms.ts'
import type { DecisionContext, TimerSpec } from './types.ts'

export type ContractCommand =
  | { readonly type: 'end'; readonly reason: string | null }
  | {
      readonly type: 'propose_amendment'
      readonly add: readonly MilestoneInput[]
      readonly edit: readonly (Omit<MilestoneEdit, 'amount'> & { amount?: bigint })[]
      readonly remove: readonly string[]
      readonly minimumMajor: bigint
    }
  | { readonly type: 'accept_amendment' | 'reject_amendment' | 'withdraw_amendment'; readonly amendmentId: string }
  | { readonly type: 'timer'; readonly timer: Pick<TimerSpec, 'kind' | 'payload' | 'runAt'> }

export function decideContract(contract: Contract, cmd: ContractCommand, ctx: DecisionContext): ContractDecision {
  const w = new ContractWork(contract, ctx)
  switch (cmd.type) {
    case 'end':
      return end(w, cmd.reason)
    case 'propose_amendment':
      return proposeAmendment(w, cmd)
    case 'accept_amendment':
    case 'reject_amendment':
    case 'withdraw_amendment':
      return answerAmendment(w, cmd.type, cmd.amendmentId)
    case 'timer':
      return fire(w, cmd.timer)
    default:
      return cmd satisfies never
  }
}

function end(w: ContractWork, reason: string | null): ContractDecision {
  const role = w.actorRole()
  if (role !== 'client' && role !== 'freelancer') return fail('actor_not_allowed', 'Only the parties end a contract.')
  if (w.c.status !== 'active') badState('contract', w.c.status, 'end')
  const blocking = role === 'client' ? ['submitted', 'disputed'] : ['disputed']
  const waiting = w.c.milestones.filter((m) => blocking.includes(m.state))
  if (waiting.length) {
    fail(
      'milestones_awaiting_action',
      `Milestones awaiting action first: ${waiting.map((m) => `“${m.title}” (${m.state}, ${m.id})`).join(', ')}.`,
    )
  }
  for (const m of w.c.milestones) {
    if (m.state === 'pending') {
      m.state = 'cancelled'
      m.settledAt = w.now
    } else if (role === 'client' && (m.state === 'funded' || m.state === 'changes_requested')) {
      w.openRefundRequest(m, 'contract_end', reason || 'The client ended the contract.')
    } else if (role === 'freelancer' && ['funded', 'submitted', 'changes_requested'].includes(m.state)) {
      w.refundRest(m)
      w.finish(m, null)
    }
  }
  w.c.status = 'ended'
  w.c.endedAt = w.now
  w.emit('contract.ended', 'contract', w.c.id)
  return w.done()
}

function proposeAmendment(
  w: ContractWork,
  cmd: Extract<ContractCommand, { type: 'propose_amendment' }>,
): ContractDecision {
  const role = w.actorRole()
  if (role !== 'client' && role !== 'freelancer') return fail('actor_not_allowed', 'Only the parties amend a contract.')
  if (!cmd.add.length && !cmd.edit.length && !cmd.remove.length) {
    fail('parameter_missing', 'An amendment adds, edits or removes at least one milestone.', 'add')
  }
  if (cmd.add.length && w.c.paymentMode === 'by_project') {
    fail('terms_invalid', 'A by_project contract has exactly one milestone.', 'add')
  }
  const min = minimumMilestone(w.c.currency, cmd.minimumMajor)
  const add = cmd.add.map((a, i) => {
    if (a.deposit) fail('terms_invalid', 'Only the first milestone of an offer may be a deposit.', `add[${i}].deposit`)
    return lineAmount(a, i, w.c, min, 'add')
  })
  const edit = cmd.edit.map((e, i) => {
    checkDueDate(e.dueDate, `edit[${i}].due_date`)
    const amount = e.amount ?? null
    if (amount !== null || e.entries !== undefined) {
      const m = w.milestone(e.milestoneId)
      // by_entry: the amount is entries × unit_price; a stated amount must agree with it (SPEC §4)
      const checked = lineAmount(
        { ...m, amount: amount ?? (w.c.paymentMode === 'by_entry' ? null : m.amount), entries: e.entries ?? m.entries },
        i,
        w.c,
        min,
        'edit',
      )
      return { ...e, amount: checked.amount }
    }
    return e
  })
  // the state (409) after the amendment's own rules (400): SPEC §5
  if (w.c.status !== 'active') badState('contract', w.c.status, 'amend')
  checkPending(w, [...edit.map((e) => e.milestoneId), ...cmd.remove])
  applyAmendment(new ContractWork(w.c as Contract, w.ctx), { add, edit, remove: cmd.remove })
  const id = w.ctx.newId('amd')
  w.c.amendments.push({
    id,
    proposedBy: w.actorId(),
    status: 'proposed',
    add,
    edit,
    remove: [...cmd.remove],
    createdAt: w.now,
    decidedAt: null,
  })
  w.emit('amendment.proposed', 'amendment', id)
  return w.done()
}

/** Only pending milestones may be edited or removed (a funded one is frozen). */
function checkPending(w: ContractWork, ids: readonly string[]) {
  for (const id of ids) {
    const m = w.milestone(id)
    if (m.state !== 'pending')
      fail('milestone_frozen', `Milestone ${id} is ${m.state}; only pending milestones can change.`)
  }
}

function answerAmendment(
  w: ContractWork,
  type: 'accept_amendment' | 'reject_amendment' | 'withdraw_amendment',
  id: string,
): ContractDecision {
  const role = w.actorRole()
  if (role !== 'client' && role !== 'freelancer')
    return fail('actor_not_allowed', 'Only the parties answer an amendment.')
  const a = w.c.amendments.find((x) => x.id === id)
  if (!a) return fail('resource_missing', `No such amendment: ${id}.`)
  const me = w.actorId()
  const authorOnly = type === 'withdraw_amendment'
  if (authorOnly ? a.proposedBy !== me : a.proposedBy === me) {
    fail(
      'actor_not_allowed',
      authorOnly ? 'Only the author withdraws an amendment.' : 'The other party answers an amendment.',
    )
  }
  if (a.status !== 'proposed') badState('amendment', a.status, type.replace('_amendment', ''))
  a.decidedAt = w.now
  if (type === 'accept_amendment') {
    if (w.c.status !== 'active') badState('contract', w.c.status, 'amend')
    checkPending(w, [...a.edit.map((e) => e.milestoneId), ...a.remove])
    applyAmendment(w, a)
    a.status = 'accepted'
  } else {
    a.status = type === 'reject_amendment' ? 'rejected' : 'withdrawn'
  }
  w.emit(`amendment.${a.status}`, 'amendment', a.id)
  return w.done()
}

/** Applies an amendment's changes to the working copy, then checks the deposit rule on the result. */
function applyAmendment(w: ContractWork, a: Pick<Amendment, 'add' | 'edit' | 'remove'>) {
  let position = Math.max(0, ...w.c.milestones.map((m) => m.position))
  for (const t of a.add) w.c.milestones.push(newMilestone(t, ++position, w.ctx.newId('ms'), w.now) as never)
  for (const e of a.edit) {
    const m = w.milestone(e.milestoneId)
    if (e.title !== undefined) m.title = e.title
    if (e.description !== undefined) m.description = e.description
    if (e.acceptanceCriteria !== undefined) m.acceptanceCriteria = e.acceptanceCriteria
    if (e.amount !== undefined) m.amount = e.amount
    if (e.entries !== undefined) m.entries = e.entries
    if (e.dueDate !== undefined) m.dueDate = e.dueDate
  }
  for (const rid of a.remove) {
    const removed = w.milestone(rid)
    removed.state = 'cancelled'
    removed.settledAt = w.now
  }
  // SPEC §4: a deposit is at most 50% of the total — an amendment may not break what the offer had to respect.
  const live = w.c.milestones.filter((m) => m.state !== 'cancelled')
  const deposit = live.find((m) => m.deposit)
  const total = live.reduce((s, m) => s + m.amount, 0n)
  if (deposit && deposit.amount * 2n > total) {
    fail('terms_invalid', 'After this amendment the deposit would be more than 50% of the total.', 'edit')
  }
}

/** A durable timer falls due; each checks that its condition still holds, so running it twice changes nothing. */
function fire(w: ContractWork, t: Pick<TimerSpec, 'kind' | 'payload' | 'runAt'>): ContractDecision {
  const m = t.payload.milestoneId ? w.c.milestones.find((x) => x.id === t.payload.milestoneId) : undefined
  if (!m) return w.done()
  switch (t.kind) {
    case 'auto_release':
      if (m.state === 'submitted' && m.reviewDeadline !== null && m.reviewDeadline <= w.now) {
        m.lastActivityAt = w.now
        w.release(m, m.escrow)
        w.refundRest(m)
        w.finish(m, 'milestone.auto_released', 'auto_release')
      }
      break
    case 'review_reminder':
      if (m.state === 'submitted' && m.reviewDeadline !== null && m.reviewDeadline > w.now) {
        w.emit('milestone.review_reminder', 'milestone', m.id)
      }
      break
    case 'refund_expiry': {
      const rr = w.c.refundRequests.find((x) => x.id === t.payload.refundRequestId)
      if (rr && rr.status === 'open' && m.state === 'refund_requested' && rr.expiresAt <= w.now) {
        rr.status = 'expired'
        w.emit('refund_request.expired', 'refund_request', rr.id)
        w.refundRest(m)
        w.finish(m, null)
      }
      break
    }
    case 'dispute_response': {
      const d = w.c.disputes.find((x) => x.id === t.payload.disputeId)
      if (d && d.status === 'awaiting_response' && d.responseDeadline <= w.now) {
        const filer = [...d.proposals].reverse().find((p) => p.by === d.openedBy && p.status === 'open')
        resolve(w, d.id, filer?.releaseAmount ?? d.proposals[0]!.releaseAmount, 'default', null)
      }
      break
    }
    case 'dispute_negotiation': {
      const d = w.c.disputes.find((x) => x.id === t.payload.disputeId)
      if (d && d.status === 'negotiation' && d.negotiationDeadline !== null && d.negotiationDeadline <= w.now) {
        toArbitration(w, d.id)
      }
      break
    }
    case 'dormancy':
      if ((m.state === 'funded' || m.state === 'changes_requested') && m.dueDate !== null) {
        if (dormancyAt(m) > w.now) {
          w.scheduleDormancy(m)
        } else {
          w.emit('milestone.dormant', 'milestone', m.id)
          w.openRefundRequest(m, 'dormancy', 'No activity for 90 days after the due date.')
        }
      }
      break
    case 'offer_expiry':
    case 'hold_release':
      break
    default:
      return t.kind satisfies never
  }
  return w.done()
}
