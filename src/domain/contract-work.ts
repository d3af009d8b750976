/**
 * A working copy of a contract while one command is decided: the mechanics every command shares (guards from the
 * process table, release, refund, refund requests, timers, completion). The input contract is never touched.
 */
import {
  type Contract,
  type Dispute,
  isTerminal,
  type Milestone,
  type MilestoneState,
  type RefundRequest,
  type Role,
  roleOf,
} from './contract-model.ts'
import { badState, DomainError, fail } from './errors.ts'
import { compact, type EntryKind, type Line, refundLines, releaseLines } from './ledger.ts'
import { MILESTONE_PROCESS, type MilestoneCommandName, type Transition } from './milestone-process.ts'
import { amountText } from './money.ts'
import { DAY_MS, type DecisionContext, type Effects, HOUR_MS, noEffects, type TimerKind } from './types.ts'

/** An object whose own fields may be set; what they hold (a submission, a list of proposals) stays read-only. */
type Writable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * The working copy: the contract's fields, its lists, and the fields of the objects in those lists are writable;
 * anything deeper is shared with the input contract and is replaced, never edited (`d.proposals = [...]`).
 */
export type MContract = {
  -readonly [K in keyof Contract]: Contract[K] extends readonly (infer U extends object)[] ? Writable<U>[] : Contract[K]
}
export type MMilestone = Writable<Milestone>

/**
 * Copies what a command may change — the contract's fields, its lists and the objects in them — and shares the rest
 * with the input: far cheaper than a deep copy of every milestone's submission, entries and history, and the shared
 * parts of a stored contract are frozen, so an edit to them fails loudly.
 */
function workingCopy(c: Contract): MContract {
  return {
    ...c,
    milestones: c.milestones.map((m) => ({ ...m })),
    refundRequests: c.refundRequests.map((r) => ({ ...r })),
    disputes: c.disputes.map((d) => ({ ...d })),
    amendments: c.amendments.map((a) => ({ ...a })),
  }
}

export const HOLD_MS = 5 * DAY_MS
export const REFUND_REQUEST_MS = 7 * DAY_MS
export const DISPUTE_RESPONSE_MS = 5 * DAY_MS
export const NEGOTIATION_MS = 14 * DAY_MS
export const DORMANCY_MS = 90 * DAY_MS

export interface ContractDecision extends Effects {
  readonly contract: Contract
}

export class ContractWork {
  readonly c: MContract
  readonly fx: Effects = noEffects()

  constructor(
    private readonly input: Contract,
    readonly ctx: DecisionContext,
  ) {
    this.c = workingCopy(input)
  }

  get now() {
    return this.ctx.now
  }

  /** The acting party's role; non-parties are told the object does not exist (SPEC §2). */
  actorRole(): Role | 'admin' | 'system' {
    const a = this.ctx.actor
    if (a.kind === 'system') return 'system'
    const role = roleOf(this.c, a.id)
    if (role) return role
    if (a.kind === 'admin') return 'admin'
    return fail('resource_missing', 'No such contract.')
  }

  actorId(): string {
    const a = this.ctx.actor
    return a.kind === 'system' ? 'system' : a.id
  }

  milestone(id: string): MMilestone {
    const m = this.c.milestones.find((x) => x.id === id)
    if (!m) return fail('resource_missing', `No such milestone: ${id}.`)
    return m
  }

  /**
   * Checks the actor (403) then the from-state (409) of a command in the process table. Commands that validate
   * their own fields call `guardActor` first and `guardState` after the validation (SPEC §5: 403, 400, 409).
   */
  guard(m: MMilestone, name: MilestoneCommandName): Role | 'system' | 'admin' {
    const role = this.guardActor(name)
    this.guardState(m, name)
    return role
  }

  guardActor(name: MilestoneCommandName): Role | 'system' | 'admin' {
    const t: Transition = MILESTONE_PROCESS[name]
    const role = this.actorRole()
    const allowed = t.actor === 'party' ? role === 'client' || role === 'freelancer' : t.actor === role
    if (!allowed) {
      fail(
        'actor_not_allowed',
        `Only the ${t.actor === 'party' ? 'parties' : t.actor} may ${name.replaceAll('_', ' ')}.`,
      )
    }
    return role
  }

  guardState(m: MMilestone, name: MilestoneCommandName) {
    const t: Transition = MILESTONE_PROCESS[name]
    if (!t.from.includes(m.state)) badState('milestone', m.state, name)
    m.lastActivityAt = this.now
  }

  /**
   * Past its review deadline a submitted milestone belongs to Fixed-Price Protection: the auto-release may not have
   * run yet, but the client can no longer stop the clock, ask for money back or pay less.
   */
  reviewLapsed(m: MMilestone): boolean {
    return m.state === 'submitted' && m.reviewDeadline !== null && m.reviewDeadline <= this.now
  }

  refuseAfterReview(m: MMilestone, command: string) {
    if (this.reviewLapsed(m)) {
      fail(
        'invalid_state_transition',
        `Cannot ${command.replaceAll('_', ' ')}: the review window of this submitted milestone has closed and it is being released.`,
      )
    }
  }

  emit(type: string, object: Effects['events'][number]['object'], objectId: string) {
    this.fx.events.push({ type, object, objectId, audience: [this.c.clientId, this.c.freelancerId] })
  }

  post(kind: EntryKind, lines: Line[], milestoneId: string | null, memo: string) {
    const id = this.ctx.newId('je')
    this.fx.entries.push({
      id,
      kind,
      currency: this.c.currency,
      lines: compact(lines),
      memo,
      contractId: this.c.id,
      milestoneId,
    })
    return id
  }

  setTimer(kind: TimerKind, key: string, runAt: number, payload: Record<string, string>) {
    this.fx.timers.cancel = this.fx.timers.cancel.filter((k) => k !== key)
    this.fx.timers.set = this.fx.timers.set.filter((t) => t.key !== key)
    this.fx.timers.set.push({ key, kind, runAt, payload: { contractId: this.c.id, ...payload } })
  }

  cancelTimer(key: string) {
    this.fx.timers.set = this.fx.timers.set.filter((t) => t.key !== key)
    if (!this.fx.timers.cancel.includes(key)) this.fx.timers.cancel.push(key)
  }

  cancelReviewTimers(m: MMilestone) {
    this.cancelTimer(`auto_release:${m.id}`)
    this.cancelTimer(`review_reminder:${m.id}:72h`)
    this.cancelTimer(`review_reminder:${m.id}:24h`)
    m.reviewDeadline = null
  }

  startReviewWindow(m: MMilestone) {
    const deadline = this.now + this.c.reviewDays * DAY_MS
    m.reviewDeadline = deadline
    this.setTimer('auto_release', `auto_release:${m.id}`, deadline, { milestoneId: m.id })
    for (const hours of [72, 24]) {
      const at = deadline - hours * HOUR_MS
      const key = `review_reminder:${m.id}:${hours}h`
      // A reminder that would fall before the submission (a short window) is skipped.
      if (at > this.now) this.setTimer('review_reminder', key, at, { milestoneId: m.id, hours: String(hours) })
      else this.cancelTimer(key)
    }
  }

  /** Dormancy (SPEC §5): due date passed and 90 days without activity, for funded or changes_requested. */
  scheduleDormancy(m: MMilestone) {
    if (m.dueDate === null || (m.state !== 'funded' && m.state !== 'changes_requested')) {
      this.cancelTimer(`dormancy:${m.id}`)
      return
    }
    this.setTimer('dormancy', `dormancy:${m.id}`, dormancyAt(m), { milestoneId: m.id })
  }

  /** Releases r of the milestone's escrow to the freelancer (pending for 5 days). */
  release(m: MMilestone, r: bigint) {
    if (r <= 0n) return
    if (r > m.escrow)
      fail('amount_invalid', `Only ${amountText(m.escrow, this.c.currency)} is held in escrow.`, 'amount')
    const { lines, split } = releaseLines(m.id, this.c.freelancerId, m.escrowFee, r, this.c, m.released)
    const entryId = this.post('release', lines, m.id, `Release of ${r} from ${m.id}`)
    m.escrow -= r
    m.escrowFee -= split.clientFee
    m.released += r
    m.releasedAt = this.now
    this.hold(entryId, split.freelancerNet)
  }

  /** Earnings stay pending for 5 days, then become available (a timer per release). */
  hold(entryId: string, net: bigint) {
    if (net <= 0n) return
    this.setTimer('hold_release', `hold_release:${entryId}`, this.now + HOLD_MS, {
      userId: this.c.freelancerId,
      currency: this.c.currency,
      amount: net.toString(),
      entryId,
    })
  }

  /** Returns everything left in escrow (principal and its client fee) to the client. */
  refundRest(m: MMilestone) {
    if (m.escrow === 0n && m.escrowFee === 0n) return
    this.post(
      'refund',
      refundLines(m.id, this.c.clientId, m.escrow, m.escrowFee),
      m.id,
      `Refund of ${m.escrow} from ${m.id}`,
    )
    m.refunded += m.escrow
    m.escrow = 0n
    m.escrowFee = 0n
    this.emit('milestone.refunded', 'milestone', m.id)
  }

  /** A milestone with nothing left in escrow ends released (something was released) or refunded. */
  finish(
    m: MMilestone,
    releasedEvent: string | null = 'milestone.released',
    via: Milestone['releasedVia'] = 'approval',
  ) {
    if (m.escrow !== 0n || m.escrowFee !== 0n) throw new Error(`finish with escrow left on ${m.id}`)
    m.state = m.released > 0n ? 'released' : 'refunded'
    m.settledAt = this.now
    if (m.released > 0n && m.releasedVia === null) m.releasedVia = via
    this.cancelReviewTimers(m)
    this.cancelTimer(`dormancy:${m.id}`)
    if (m.released > 0n && releasedEvent) this.emit(releasedEvent, 'milestone', m.id)
  }

  openRefundRequest(m: MMilestone, source: RefundRequest['source'], reason: string): Writable<RefundRequest> {
    const rr: Writable<RefundRequest> = {
      id: this.ctx.newId('rfr'),
      milestoneId: m.id,
      amount: m.escrow,
      reason,
      status: 'open',
      source,
      expiresAt: this.now + REFUND_REQUEST_MS,
      createdAt: this.now,
    }
    this.c.refundRequests.push(rr)
    m.state = 'refund_requested'
    m.refundRequestId = rr.id
    this.cancelReviewTimers(m)
    this.cancelTimer(`dormancy:${m.id}`)
    this.setTimer('refund_expiry', `refund_expiry:${rr.id}`, rr.expiresAt, {
      milestoneId: m.id,
      refundRequestId: rr.id,
    })
    this.emit('refund_request.created', 'refund_request', rr.id)
    return rr
  }

  refundRequest(id: string): Writable<RefundRequest> {
    const rr = this.c.refundRequests.find((x) => x.id === id)
    if (!rr) return fail('resource_missing', `No such refund request: ${id}.`)
    return rr
  }

  dispute(id: string): Writable<Dispute> {
    const d = this.c.disputes.find((x) => x.id === id)
    if (!d) return fail('resource_missing', `No such dispute: ${id}.`)
    return d
  }

  setState(m: MMilestone, state: MilestoneState) {
    m.state = state
  }

  /** Every milestone terminal → the contract is completed (an ended contract stays ended). */
  done(): ContractDecision {
    if (
      this.c.status === 'active' &&
      this.c.milestones.length > 0 &&
      this.c.milestones.every((m) => isTerminal(m.state))
    ) {
      this.c.status = 'completed'
      this.emit('contract.completed', 'contract', this.c.id)
    }
    const c = this.c
    c.milestones = reshare(c.milestones, this.input.milestones)
    c.refundRequests = reshare(c.refundRequests, this.input.refundRequests)
    c.disputes = reshare(c.disputes, this.input.disputes)
    c.amendments = reshare(c.amendments, this.input.amendments)
    return { contract: c as Contract, ...this.fx }
  }
}

/**
 * Each element the command left as it was (the same fields, the same values) is the input's own object again, so
 * the new contract shares it: a stored contract is frozen and the text of its elements is kept (`encodeAggregate`),
 * so saving a contract re-encodes only what changed.
 */
function reshare<T extends object>(now: T[], before: readonly T[]): T[] {
  return now.map((x, i) => {
    const b = before[i]
    return b !== undefined && sameFields(x, b) ? b : x
  })
}

function sameFields(a: object, b: object): boolean {
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  for (const k of keys) if ((a as Record<string, unknown>)[k] !== (b as Record<string, unknown>)[k]) return false
  return true
}

/**
 * Dormant: the due date (its end, UTC) has passed and nothing happened for 90 days (SPEC §5). A due date that is no
 * day of the calendar (stored before terms checked it) counts from the last activity alone, never as no time.
 */
export function dormancyAt(m: Pick<Milestone, 'dueDate' | 'lastActivityAt'>): number {
  const dueEnd = Date.parse(`${m.dueDate}T00:00:00Z`) + DAY_MS
  const quiet = m.lastActivityAt + DORMANCY_MS
  return Number.isFinite(dueEnd) ? Math.max(dueEnd, quiet) : quiet
}

/** An amount out of the escrow held (`max`): from 0 to all of it. */
export const requireAmount = (x: bigint, max: bigint, currency: string, param: string) => {
  if (x < 0n || x > max)
    throw new DomainError(
      'amount_invalid',
      `The amount must be between 0 and the ${amountText(max, currency)} held in escrow.`,
      param,
    )
  return x
}
