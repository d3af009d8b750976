/**
 * The milestone process as data (SPEC §5), like a transaction-process file: each command with its actor, the
 * states it leaves from, where it goes and the timers it starts or cancels. The deciders check actor and from-state
 * against this table; the web app and the docs read it to know which commands a viewer may take now.
 */
import type { MilestoneState, Role } from './contract-model.ts'

export type ProcessActor = Role | 'party' | 'system'

export interface Transition {
  readonly actor: ProcessActor
  readonly from: readonly MilestoneState[]
  readonly to: readonly MilestoneState[]
  readonly starts: readonly string[]
  readonly cancels: readonly string[]
  readonly doc: string
}

export const MILESTONE_PROCESS = {
  fund: {
    actor: 'client',
    from: ['pending'],
    to: ['funded', 'released'],
    starts: ['dormancy'],
    cancels: [],
    doc: 'Charges principal + client fee (credit first, then the rail); a deposit milestone is released at once.',
  },
  submit: {
    actor: 'freelancer',
    from: ['funded', 'changes_requested'],
    to: ['submitted'],
    starts: ['auto_release', 'review_reminder'],
    cancels: ['dormancy'],
    doc: 'Starts the review window: review_deadline = now + review_days (a resubmission restarts it).',
  },
  request_changes: {
    actor: 'client',
    from: ['submitted'],
    to: ['changes_requested'],
    starts: ['dormancy'],
    cancels: ['auto_release', 'review_reminder'],
    doc: 'Stops the review clock; uses one revision (409 revision_limit_reached at the limit).',
  },
  approve: {
    actor: 'client',
    from: ['funded', 'submitted', 'changes_requested'],
    to: ['released', 'refund_requested', 'changes_requested'],
    starts: ['hold_release', 'refund_expiry'],
    cancels: ['auto_release', 'review_reminder', 'dormancy'],
    doc: 'Releases all, part (the rest becomes a refund request, or by_entry rework) and an optional bonus.',
  },
  auto_release: {
    actor: 'system',
    from: ['submitted'],
    to: ['released'],
    starts: ['hold_release'],
    cancels: [],
    doc: 'At review_deadline the whole escrow is released: Fixed-Price Protection.',
  },
  request_refund: {
    actor: 'client',
    from: ['funded', 'changes_requested'],
    to: ['refund_requested'],
    starts: ['refund_expiry'],
    cancels: ['dormancy'],
    doc: 'Asks for all remaining escrow back; the freelancer has 7 days (silence = refund).',
  },
  accept_refund: {
    actor: 'freelancer',
    from: ['refund_requested'],
    to: ['refunded', 'released'],
    starts: [],
    cancels: ['refund_expiry'],
    doc: 'Refunds the remaining escrow (released when part was released before).',
  },
  decline_refund: {
    actor: 'freelancer',
    from: ['refund_requested'],
    to: ['disputed'],
    starts: ['dispute_response'],
    cancels: ['refund_expiry'],
    doc: 'Opens a dispute by the freelancer proposing the full release of the remaining escrow.',
  },
  expire_refund: {
    actor: 'system',
    from: ['refund_requested'],
    to: ['refunded', 'released'],
    starts: [],
    cancels: [],
    doc: 'Seven silent days after a refund request: as accept_refund.',
  },
  refund: {
    actor: 'freelancer',
    from: ['funded', 'submitted', 'changes_requested'],
    to: ['refunded', 'released'],
    starts: [],
    cancels: ['auto_release', 'review_reminder', 'dormancy'],
    doc: 'The freelancer refunds all remaining escrow of their own accord.',
  },
  open_dispute: {
    actor: 'party',
    from: ['funded', 'submitted', 'changes_requested', 'refund_requested'],
    to: ['disputed'],
    starts: ['dispute_response'],
    cancels: ['auto_release', 'review_reminder', 'dormancy', 'refund_expiry'],
    doc: 'A dispute over the remaining escrow (SPEC §6); the other party has 5 days to answer.',
  },
  resolve_dispute: {
    actor: 'system',
    from: ['disputed'],
    to: ['released', 'refunded'],
    starts: ['hold_release'],
    cancels: ['dispute_response', 'dispute_negotiation'],
    doc: 'Agreement, default or arbitration: release r, refund the rest.',
  },
  cancel: {
    actor: 'party',
    from: ['pending'],
    to: ['cancelled'],
    starts: [],
    cancels: [],
    doc: 'A pending milestone removed by an amendment or by ending the contract.',
  },
  dormancy: {
    actor: 'system',
    from: ['funded', 'changes_requested'],
    to: ['refund_requested'],
    starts: ['refund_expiry'],
    cancels: [],
    doc: 'Due date passed and 90 days without activity: the system opens a refund request.',
  },
} as const satisfies Record<string, Transition>

export type MilestoneCommandName = keyof typeof MILESTONE_PROCESS

/** The commands a viewer in `role` may take on a milestone in `state` now (for the web app and docs). */
export function availableCommands(state: MilestoneState, role: Role): MilestoneCommandName[] {
  return (Object.keys(MILESTONE_PROCESS) as MilestoneCommandName[]).filter((name) => {
    const t: Transition = MILESTONE_PROCESS[name]
    const byRole = t.actor === role || (t.actor === 'party' && name !== 'cancel')
    return byRole && t.from.includes(state)
  })
}
