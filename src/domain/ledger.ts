/**
 * The double-entry ledger (SPEC §7): account names and the postings of every money movement.
 * A journal entry is in one currency and its lines sum to zero. An account's balance is the sum of its lines, so
 * money owed to a user is positive and money that came in through the rail leaves `ext:rail` negative.
 */
import { type ReleaseSplit, releaseWithin } from './money.ts'

export const RAIL = 'ext:rail'
export const PLATFORM = 'platform:fees'
export const available = (userId: string) => `user:${userId}:available`
export const pending = (userId: string) => `user:${userId}:pending`
export const escrow = (milestoneId: string) => `escrow:${milestoneId}`

/** Accounts that may never go below zero. */
export const isUserAccount = (account: string) => account.startsWith('user:')

export interface Line {
  readonly account: string
  readonly amount: bigint
}

export type EntryKind = 'fund' | 'release' | 'refund' | 'bonus' | 'hold_release' | 'payout'

export interface JournalEntry {
  readonly id: string
  readonly kind: EntryKind
  readonly currency: string
  readonly lines: readonly Line[]
  readonly memo: string
  readonly contractId: string | null
  readonly milestoneId: string | null
}

export function isBalanced(entry: Pick<JournalEntry, 'lines'>): boolean {
  return entry.lines.reduce((s, l) => s + l.amount, 0n) === 0n
}

/** Drops zero lines and merges lines of one account, so stored entries are minimal. */
export function compact(lines: readonly Line[]): Line[] {
  const by = new Map<string, bigint>()
  for (const l of lines) by.set(l.account, (by.get(l.account) ?? 0n) + l.amount)
  return [...by].filter(([, a]) => a !== 0n).map(([account, amount]) => ({ account, amount }))
}

export interface Fees {
  readonly clientFeeBps: number
  readonly serviceFeeBps: number
}

/** How a charge is paid: the client's available credit first, the payment rail for the rest. */
export function payFromCredit(charge: bigint, credit: bigint): { fromCredit: bigint; fromRail: bigint } {
  const fromCredit = credit <= 0n ? 0n : credit < charge ? credit : charge
  return { fromCredit, fromRail: charge - fromCredit }
}

/** The lines that pay `charge` on behalf of the client (credit first, then the rail). */
export function chargeLines(clientId: string, charge: bigint, credit: bigint): { lines: Line[]; fromRail: bigint } {
  const { fromCredit, fromRail } = payFromCredit(charge, credit)
  return {
    lines: [
      { account: available(clientId), amount: -fromCredit },
      { account: RAIL, amount: -fromRail },
    ],
    fromRail,
  }
}

/** Release of r from a milestone's escrow: the freelancer's net to pending, both fees to the platform. */
export function releaseLines(
  milestoneId: string,
  freelancerId: string,
  heldFee: bigint,
  r: bigint,
  fees: Fees,
  priorReleased: bigint,
): { lines: Line[]; split: ReleaseSplit } {
  const split = releaseWithin(heldFee, r, fees, priorReleased)
  return {
    split,
    lines: [
      { account: escrow(milestoneId), amount: -(r + split.clientFee) },
      { account: pending(freelancerId), amount: split.freelancerNet },
      { account: PLATFORM, amount: split.serviceFee + split.clientFee },
    ],
  }
}

/** Refund of what is left in escrow (principal and its client fee) to the client's available balance. */
export function refundLines(milestoneId: string, clientId: string, principal: bigint, heldFee: bigint): Line[] {
  return [
    { account: escrow(milestoneId), amount: -(principal + heldFee) },
    { account: available(clientId), amount: principal + heldFee },
  ]
}

/** After the 5-day hold: pending → available. */
export function holdReleaseLines(userId: string, amount: bigint): Line[] {
  return [
    { account: pending(userId), amount: -amount },
    { account: available(userId), amount },
  ]
}

/** A payout: available money leaves through the rail. */
export function payoutLines(userId: string, amount: bigint): Line[] {
  return [
    { account: available(userId), amount: -amount },
    { account: RAIL, amount },
  ]
}
