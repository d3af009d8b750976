/**
 * API shapes (SPEC §10): domain objects rendered as JSON-ready plain objects, snake_case, amounts as integers in
 * minor units, times as ISO 8601 UTC. Used by the HTTP answers and by event payloads alike.
 */
import { type Contract, type Dispute, type Milestone, type RefundRequest, totals } from '../domain/contract-model.ts'
import { currentRevision, type Offer } from '../domain/offer.ts'
import type { Terms } from '../domain/terms.ts'
import { iso } from '../domain/types.ts'

const n = (x: bigint) => Number(x)
const t = (ms: number | null) => (ms === null ? null : iso(ms))

export function presentTerms(terms: Terms) {
  return {
    title: terms.title,
    description: terms.description,
    currency: terms.currency,
    payment_mode: terms.paymentMode,
    review_days: terms.reviewDays,
    revision_limit: terms.revisionLimit,
    unit_name: terms.unitName,
    unit_price: terms.unitPrice === null ? null : n(terms.unitPrice),
    milestones: terms.milestones.map((m) => ({
      title: m.title,
      description: m.description,
      acceptance_criteria: m.acceptanceCriteria,
      amount: n(m.amount),
      due_date: m.dueDate,
      deposit: m.deposit,
      entries: m.entries,
    })),
    total: n(terms.milestones.reduce((s, m) => s + m.amount, 0n)),
  }
}

export function presentOffer(o: Offer) {
  const current = currentRevision(o)
  return {
    id: o.id,
    object: 'offer' as const,
    status: o.status,
    revision: current.revision,
    author_id: current.authorId,
    client_id: o.clientId,
    freelancer_id: o.freelancerId,
    terms: presentTerms(current.terms),
    revisions: o.revisions.map((r) => ({
      revision: r.revision,
      author_id: r.authorId,
      terms: presentTerms(r.terms),
      created_at: iso(r.createdAt),
    })),
    contract_id: o.contractId,
    expires_at: iso(o.expiresAt),
    created_at: iso(o.createdAt),
    updated_at: iso(o.updatedAt),
  }
}

export function presentMilestone(c: Contract, m: Milestone) {
  return {
    id: m.id,
    object: 'milestone' as const,
    contract_id: c.id,
    position: m.position,
    title: m.title,
    description: m.description,
    acceptance_criteria: m.acceptanceCriteria,
    amount: n(m.amount),
    currency: c.currency,
    due_date: m.dueDate,
    deposit: m.deposit,
    entries: m.entries,
    accepted_entries: m.acceptedEntries,
    state: m.state,
    escrow_amount: n(m.escrow),
    escrow_fee_amount: n(m.escrowFee),
    released_amount: n(m.released),
    refunded_amount: n(m.refunded),
    bonus_amount: n(m.bonus),
    revisions_used: m.revisionsUsed,
    revisions_left: Math.max(0, c.revisionLimit - m.revisionsUsed),
    review_deadline: t(m.reviewDeadline),
    submission: m.submission
      ? {
          message: m.submission.message,
          links: m.submission.links,
          entries: m.submission.entries,
          submitted_at: iso(m.submission.submittedAt),
        }
      : null,
    change_request: m.changeRequest
      ? { message: m.changeRequest.message, requested_at: iso(m.changeRequest.requestedAt) }
      : null,
    approval: m.approval ? { message: m.approval.message, approved_at: iso(m.approval.approvedAt) } : null,
    funded_at: t(m.fundedAt),
    refund_request_id: m.refundRequestId,
    dispute_id: m.disputeId,
  }
}

/** Named in refund requests and disputes (and so in their events), so that a reader knows which work is meant. */
const milestoneTitle = (c: Contract, id: string) => c.milestones.find((m) => m.id === id)?.title ?? null

export function presentRefundRequest(c: Contract, r: RefundRequest) {
  return {
    id: r.id,
    object: 'refund_request' as const,
    contract_id: c.id,
    milestone_id: r.milestoneId,
    milestone_title: milestoneTitle(c, r.milestoneId),
    amount: n(r.amount),
    currency: c.currency,
    reason: r.reason,
    source: r.source,
    status: r.status,
    expires_at: iso(r.expiresAt),
    created_at: iso(r.createdAt),
  }
}

export function presentDispute(c: Contract, d: Dispute) {
  return {
    id: d.id,
    object: 'dispute' as const,
    contract_id: c.id,
    milestone_id: d.milestoneId,
    milestone_title: milestoneTitle(c, d.milestoneId),
    opened_by: d.openedBy,
    opener_role: d.openerRole,
    reason: d.reason,
    status: d.status,
    currency: c.currency,
    escrow_amount: n(d.escrowAmount),
    proposals: d.proposals.map((p) => ({
      id: p.id,
      by: p.by,
      by_role: p.byRole,
      release_amount: n(p.releaseAmount),
      message: p.message,
      status: p.status,
      accepted_by: p.acceptedBy,
      created_at: iso(p.createdAt),
    })),
    response_deadline: iso(d.responseDeadline),
    negotiation_deadline: t(d.negotiationDeadline),
    resolution: d.resolution
      ? {
          release_amount: n(d.resolution.releaseAmount),
          refund_amount: n(d.resolution.refundAmount),
          by: d.resolution.by,
          note: d.resolution.note,
          resolved_at: iso(d.resolution.resolvedAt),
        }
      : null,
    created_at: iso(d.createdAt),
  }
}

export function presentAmendment(c: Contract, id: string) {
  const a = c.amendments.find((x) => x.id === id)!
  return {
    id: a.id,
    object: 'amendment' as const,
    contract_id: c.id,
    proposed_by: a.proposedBy,
    status: a.status,
    add: a.add.map((m) => ({
      title: m.title,
      description: m.description,
      acceptance_criteria: m.acceptanceCriteria,
      amount: n(m.amount),
      due_date: m.dueDate,
      entries: m.entries,
    })),
    edit: a.edit.map((e) => ({
      milestone_id: e.milestoneId,
      ...(e.title !== undefined ? { title: e.title } : {}),
      ...(e.description !== undefined ? { description: e.description } : {}),
      ...(e.acceptanceCriteria !== undefined ? { acceptance_criteria: e.acceptanceCriteria } : {}),
      ...(e.amount !== undefined ? { amount: n(e.amount) } : {}),
      ...(e.entries !== undefined ? { entries: e.entries } : {}),
      ...(e.dueDate !== undefined ? { due_date: e.dueDate } : {}),
    })),
    remove: a.remove,
    created_at: iso(a.createdAt),
    decided_at: t(a.decidedAt),
  }
}

/** What is at risk now (SPEC §8): for the freelancer, work delivered and not yet paid, and unprotected work. */
export function exposure(c: Contract) {
  const sum = (ms: readonly Milestone[], f: (m: Milestone) => bigint) => n(ms.reduce((s, m) => s + f(m), 0n))
  const submitted = c.milestones.filter((m) => m.state === 'submitted')
  const pendingMs = c.milestones.filter((m) => m.state === 'pending')
  const deadlines = submitted.map((m) => m.reviewDeadline).filter((x): x is number => x !== null)
  return {
    currency: c.currency,
    freelancer: {
      submitted_awaiting_release: sum(submitted, (m) => m.escrow),
      unfunded_pending: sum(pendingMs, (m) => m.amount),
      unfunded_milestones: pendingMs.length,
      protected_in_escrow: sum(c.milestones, (m) => m.escrow),
    },
    client: {
      escrow_awaiting_review: sum(submitted, (m) => m.escrow),
      in_escrow: sum(c.milestones, (m) => m.escrow),
      next_auto_release_at: deadlines.length ? iso(Math.min(...deadlines)) : null,
    },
  }
}

export function presentContract(c: Contract) {
  const tot = totals(c)
  return {
    id: c.id,
    object: 'contract' as const,
    status: c.status,
    offer_id: c.offerId,
    client_id: c.clientId,
    freelancer_id: c.freelancerId,
    title: c.title,
    description: c.description,
    currency: c.currency,
    payment_mode: c.paymentMode,
    review_days: c.reviewDays,
    revision_limit: c.revisionLimit,
    client_fee_bps: c.clientFeeBps,
    service_fee_bps: c.serviceFeeBps,
    unit_name: c.unitName,
    unit_price: c.unitPrice === null ? null : n(c.unitPrice),
    milestones: [...c.milestones].sort((a, b) => a.position - b.position).map((m) => presentMilestone(c, m)),
    refund_requests: c.refundRequests.map((r) => presentRefundRequest(c, r)),
    disputes: c.disputes.map((d) => presentDispute(c, d)),
    amendments: c.amendments.map((a) => presentAmendment(c, a.id)),
    totals: {
      amount: n(tot.amount),
      funded: n(tot.funded),
      in_escrow: n(tot.inEscrow),
      released: n(tot.released),
      refunded: n(tot.refunded),
      bonus: n(tot.bonus),
    },
    exposure: exposure(c),
    created_at: iso(c.createdAt),
    ended_at: t(c.endedAt),
  }
}

/** The object an event about `kind`/`id` carries, from the state saved with it. */
export function presentObjectOf(c: Contract, kind: string, id: string): Record<string, unknown> {
  switch (kind) {
    case 'milestone':
      return presentMilestone(c, c.milestones.find((m) => m.id === id)!)
    case 'refund_request':
      return presentRefundRequest(c, c.refundRequests.find((r) => r.id === id)!)
    case 'dispute':
      return presentDispute(c, c.disputes.find((d) => d.id === id)!)
    case 'amendment':
      return presentAmendment(c, id)
    default:
      return presentContract(c)
  }
}
