/** Shared shapes of the domain: who acts, when, and what a decision produces. */
import type { JournalEntry } from './ledger.ts'

export type Actor =
  | { readonly kind: 'user'; readonly id: string }
  | { readonly kind: 'admin'; readonly id: string }
  | { readonly kind: 'system' }

/** What a decider may ask of the world: the time, fresh ids, the config it runs under. */
export interface DecisionContext {
  /** ms since the epoch, from the injected clock */
  readonly now: number
  readonly actor: Actor
  readonly newId: (prefix: string) => string
}

export type ObjectKind =
  | 'offer'
  | 'contract'
  | 'milestone'
  | 'amendment'
  | 'refund_request'
  | 'dispute'
  | 'payout'
  | 'balance'

/** Every type of event (SPEC §9): what a webhook endpoint may ask for, besides `*`. */
export const EVENT_TYPES = [
  ...['created', 'countered', 'accepted', 'declined', 'withdrawn', 'expired'].map((t) => `offer.${t}`),
  ...['created', 'ended', 'completed'].map((t) => `contract.${t}`),
  ...['proposed', 'accepted', 'rejected', 'withdrawn'].map((t) => `amendment.${t}`),
  ...[
    'funded',
    'submitted',
    'changes_requested',
    'released',
    'auto_released',
    'refunded',
    'review_reminder',
    'dormant',
  ].map((t) => `milestone.${t}`),
  ...['created', 'accepted', 'declined', 'expired'].map((t) => `refund_request.${t}`),
  ...['opened', 'responded', 'proposal_made', 'escalated', 'resolved'].map((t) => `dispute.${t}`),
  'payout.paid',
  'balance.available',
] as const

/** Every type of an object at once (`milestone.*`), for webhook endpoints and the events list's filter. */
export const EVENT_GROUPS = [...new Set(EVENT_TYPES.map((t) => `${t.slice(0, t.indexOf('.'))}.*`))]

/** Whether an endpoint that asked for `enabled` (types, groups or `*`) gets an event of `type`. */
export function eventEnabled(enabled: readonly string[], type: string): boolean {
  return enabled.some((x) => x === '*' || x === type || (x.endsWith('.*') && type.startsWith(x.slice(0, -1))))
}

/**
 * What became of a webhook delivery: waiting for its next attempt, answered with a 2xx, given up on after the last
 * retry, or never sent because its endpoint was disabled.
 */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'skipped'

/** A payout's status: the sandbox rail pays at once or refuses (and then nothing is recorded). */
export type PayoutStatus = 'paid'

/** An event to record (outbox); the application renders `data.object` from the saved state. */
export interface DomainEvent {
  readonly type: string
  readonly object: ObjectKind
  readonly objectId: string
  /** users who see it; contract events go to both parties */
  readonly audience?: readonly string[]
  /** extra data when the object is not a stored one (balance.available) */
  readonly data?: Readonly<Record<string, unknown>>
}

export type TimerKind =
  | 'auto_release'
  | 'review_reminder'
  | 'refund_expiry'
  | 'dispute_response'
  | 'dispute_negotiation'
  | 'offer_expiry'
  | 'hold_release'
  | 'dormancy'

/** A durable timer: one per key; setting a key again replaces it. */
export interface TimerSpec {
  readonly key: string
  readonly kind: TimerKind
  readonly runAt: number
  readonly payload: Readonly<Record<string, string>>
}

export interface TimerChanges {
  readonly set: readonly TimerSpec[]
  readonly cancel: readonly string[]
}

/** What a decision produces besides the new state. */
export interface Effects {
  readonly events: DomainEvent[]
  readonly entries: JournalEntry[]
  readonly timers: { set: TimerSpec[]; cancel: string[] }
  /** what must be charged through the payment rail (the app charges it before committing) */
  readonly railCharges: { currency: string; amount: bigint }[]
}

export function noEffects(): Effects {
  return { events: [], entries: [], timers: { set: [], cancel: [] }, railCharges: [] }
}

export const DAY_MS = 86_400_000
export const HOUR_MS = 3_600_000
export const iso = (ms: number) => new Date(ms).toISOString()

/** Freezes plain data and everything in it, so a value shared between readers cannot be changed by one of them. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value
  Object.freeze(value)
  for (const k in value) deepFreeze((value as Record<string, unknown>)[k])
  return value
}
