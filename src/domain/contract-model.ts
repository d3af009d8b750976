/**
 * The contract aggregate (SPEC §5–6): the contract, its milestones, refund requests, disputes and amendments, kept
 * together so that one command is decided against one consistent state and saved with one version check.
 */
import type { Fees } from './ledger.ts'
import type { MilestoneTerms, PaymentMode, Terms } from './terms.ts'
import { type DecisionContext, type Effects, noEffects } from './types.ts'

export const MILESTONE_STATES = [
  'pending',
  'funded',
  'submitted',
  'changes_requested',
  'refund_requested',
  'disputed',
  'released',
  'refunded',
  'cancelled',
] as const
export type MilestoneState = (typeof MILESTONE_STATES)[number]

export const TERMINAL_STATES: readonly MilestoneState[] = ['released', 'refunded', 'cancelled']
export const isTerminal = (s: MilestoneState) => TERMINAL_STATES.includes(s)

export interface Submission {
  readonly message: string
  readonly links: readonly string[]
  readonly entries: readonly number[] | null
  readonly submittedAt: number
}

/** The client's latest request for changes (SPEC §5), kept until the next one replaces it. */
export interface ChangeRequest {
  readonly message: string
  readonly requestedAt: number
}

/** The client's message with an approval that released the milestone in full (SPEC §5 approve `message`). */
export interface Approval {
  readonly message: string
  readonly approvedAt: number
}

export interface Milestone {
  readonly id: string
  readonly position: number
  readonly title: string
  readonly description: string
  readonly acceptanceCriteria: string
  readonly amount: bigint
  readonly dueDate: string | null
  readonly deposit: boolean
  readonly entries: number | null
  readonly state: MilestoneState
  /** principal held in escrow */
  readonly escrow: bigint
  /** client fee held in escrow with it */
  readonly escrowFee: bigint
  readonly released: bigint
  readonly refunded: bigint
  readonly bonus: bigint
  readonly acceptedEntries: readonly number[]
  readonly revisionsUsed: number
  readonly reviewDeadline: number | null
  readonly submission: Submission | null
  /** absent until changes are first requested (and on milestones saved before it was kept) */
  readonly changeRequest?: ChangeRequest
  /**
   * absent unless a full approval came with a message (a partial approval's message is its refund request's reason,
   * a by_entry rework's the change request's)
   */
  readonly approval?: Approval
  readonly refundRequestId: string | null
  readonly disputeId: string | null
  readonly fundedAt: number | null
  /** when it reached a terminal state */
  readonly settledAt: number | null
  /**
   * when money was last released from it (absent until then, and on milestones saved before it was kept): the end
   * of a review, which a partial approval's refund request may settle much later
   */
  readonly releasedAt?: number
  /** how it was released: by the client's approval, the review window lapsing, or a dispute */
  readonly releasedVia: 'approval' | 'auto_release' | 'dispute' | 'refund' | null
  readonly lastActivityAt: number
}

export type RefundRequestStatus = 'open' | 'accepted' | 'declined' | 'expired'

export interface RefundRequest {
  readonly id: string
  readonly milestoneId: string
  readonly amount: bigint
  readonly reason: string
  readonly status: RefundRequestStatus
  readonly source: 'client' | 'partial_approve' | 'contract_end' | 'dormancy'
  readonly expiresAt: number
  readonly createdAt: number
}

export type DisputeStatus = 'awaiting_response' | 'negotiation' | 'arbitration' | 'resolved'

export interface Proposal {
  readonly id: string
  /** a user id, or 'admin' */
  readonly by: string
  readonly byRole: 'client' | 'freelancer' | 'admin'
  readonly releaseAmount: bigint
  readonly message: string
  readonly status: 'open' | 'accepted' | 'superseded'
  readonly acceptedBy: readonly string[]
  readonly createdAt: number
}

export interface Dispute {
  readonly id: string
  readonly milestoneId: string
  readonly openedBy: string
  readonly openerRole: 'client' | 'freelancer'
  readonly reason: string
  readonly status: DisputeStatus
  readonly escrowAmount: bigint
  readonly proposals: readonly Proposal[]
  readonly responseDeadline: number
  readonly negotiationDeadline: number | null
  readonly resolution: {
    readonly releaseAmount: bigint
    readonly refundAmount: bigint
    readonly by: 'agreement' | 'default' | 'arbitration'
    readonly note: string | null
    readonly resolvedAt: number
  } | null
  readonly createdAt: number
}

export interface MilestoneEdit {
  readonly milestoneId: string
  readonly title?: string
  readonly description?: string
  readonly acceptanceCriteria?: string
  readonly amount?: bigint
  readonly entries?: number
  readonly dueDate?: string | null
}

export interface Amendment {
  readonly id: string
  readonly proposedBy: string
  readonly status: 'proposed' | 'accepted' | 'rejected' | 'withdrawn'
  readonly add: readonly MilestoneTerms[]
  readonly edit: readonly MilestoneEdit[]
  readonly remove: readonly string[]
  readonly createdAt: number
  readonly decidedAt: number | null
}

export type ContractStatus = 'active' | 'completed' | 'ended'

export interface Contract extends Fees {
  readonly id: string
  readonly offerId: string
  readonly clientId: string
  readonly freelancerId: string
  readonly title: string
  readonly description: string
  readonly currency: string
  readonly paymentMode: PaymentMode
  readonly reviewDays: number
  readonly revisionLimit: number
  readonly unitName: string | null
  readonly unitPrice: bigint | null
  readonly status: ContractStatus
  readonly milestones: readonly Milestone[]
  readonly refundRequests: readonly RefundRequest[]
  readonly disputes: readonly Dispute[]
  readonly amendments: readonly Amendment[]
  readonly createdAt: number
  readonly endedAt: number | null
}

export type Role = 'client' | 'freelancer'

export function roleOf(c: Pick<Contract, 'clientId' | 'freelancerId'>, userId: string): Role | null {
  if (userId === c.clientId) return 'client'
  if (userId === c.freelancerId) return 'freelancer'
  return null
}

export function newMilestone(t: MilestoneTerms, position: number, id: string, now: number): Milestone {
  return {
    id,
    position,
    title: t.title,
    description: t.description,
    acceptanceCriteria: t.acceptanceCriteria,
    amount: t.amount,
    dueDate: t.dueDate,
    deposit: t.deposit,
    entries: t.entries,
    state: 'pending',
    escrow: 0n,
    escrowFee: 0n,
    released: 0n,
    refunded: 0n,
    bonus: 0n,
    acceptedEntries: [],
    revisionsUsed: 0,
    reviewDeadline: null,
    submission: null,
    refundRequestId: null,
    disputeId: null,
    fundedAt: null,
    settledAt: null,
    releasedVia: null,
    lastActivityAt: now,
  }
}

/** The contract created from exactly the accepted revision, with the fees in force snapshotted into it. */
export function createContract(
  input: { id: string; offerId: string; clientId: string; freelancerId: string; terms: Terms; fees: Fees },
  ctx: DecisionContext,
): { contract: Contract } & Effects {
  const t = input.terms
  const contract: Contract = {
    id: input.id,
    offerId: input.offerId,
    clientId: input.clientId,
    freelancerId: input.freelancerId,
    title: t.title,
    description: t.description,
    currency: t.currency,
    paymentMode: t.paymentMode,
    reviewDays: t.reviewDays,
    revisionLimit: t.revisionLimit,
    unitName: t.unitName,
    unitPrice: t.unitPrice,
    clientFeeBps: input.fees.clientFeeBps,
    serviceFeeBps: input.fees.serviceFeeBps,
    status: 'active',
    milestones: t.milestones.map((m, i) => newMilestone(m, i + 1, ctx.newId('ms'), ctx.now)),
    refundRequests: [],
    disputes: [],
    amendments: [],
    createdAt: ctx.now,
    endedAt: null,
  }
  const fx = noEffects()
  fx.events.push({
    type: 'contract.created',
    object: 'contract',
    objectId: contract.id,
    audience: [contract.clientId, contract.freelancerId],
  })
  return { contract, ...fx }
}

/** Totals shown with the contract (SPEC §10). */
export function totals(c: Contract) {
  const live = c.milestones.filter((m) => m.state !== 'cancelled')
  const sum = (f: (m: Milestone) => bigint) => c.milestones.reduce((s, m) => s + f(m), 0n)
  return {
    amount: live.reduce((s, m) => s + m.amount, 0n),
    funded: sum((m) => (m.fundedAt === null ? 0n : m.amount)),
    inEscrow: sum((m) => m.escrow),
    released: sum((m) => m.released),
    refunded: sum((m) => m.refunded),
    bonus: sum((m) => m.bonus),
  }
}
