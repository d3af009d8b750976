/**
 * Milestone planner (SPEC §8 "start small"): a recommended schedule for a total, shaped by what is known of the
 * client, and a side-by-side comparison of by_project vs by_milestone. Pure: same input, same plan.
 *
 * Rules, for the non-deposit milestones of a schedule over an amount A (A = total, or total − deposit):
 * - every amount ≥ minimum, amounts sum exactly to A, amounts never decrease;
 * - first ≤ firstBps of A (10% new/cautious, 25% building, 50% established), each next ≤ growth × previous
 *   (2× new/cautious/building, 3× established); at most 8 milestones (in practice 1 to 5: fewer for small totals).
 * Exceptions, stated in `reasons`: when A < 2 × minimum it cannot be split (one milestone); when firstBps of A is
 * below the minimum (e.g. A < 10 × minimum for a new client) the first milestone is the minimum itself, so the
 * first-share rule cannot hold — all other rules still do.
 * Amounts are rounded down to "nice" steps (a power of ten: 1% of A rounded down to one, or one major unit if larger,
 * and at most a fifth of the first milestone) where every rule still holds; the last milestone absorbs the remainder.
 */
import { fee, formatMoney, isValidAmount, majorUnit } from './money.ts'

export type PaymentMode = 'by_project' | 'by_milestone' | 'by_entry'
/** What is known of the client's record (derived elsewhere from history). null = no history at all. */
export interface ClientRecord {
  readonly milestonesReleased: number // releases of milestones they funded (approval or auto-release)
  readonly autoReleased: number // of which released only because they stayed silent
  readonly disputesLost: number // disputes decided against them
  readonly refundRequests: number
}
export interface PlanInput {
  readonly total: bigint // minor units, 1..10^12
  readonly currency: string // supported ISO code (validated by the caller)
  readonly paymentMode: PaymentMode
  readonly minimum: bigint // minimum milestone amount in minor units (caller passes minimumMilestone(currency))
  readonly client: ClientRecord | null
  readonly upfrontBps?: number // desired deposit share 0..5000 (50% max, SPEC §4)
  readonly entries?: { readonly count: number; readonly unitPrice: bigint } // by_entry: total = count × unitPrice
}
export interface PlannedMilestone {
  readonly title: string
  readonly amount: bigint
  readonly deposit: boolean
  readonly entries?: number
}
export interface ModeComparison {
  readonly payment_mode: 'by_project' | 'by_milestone'
  readonly largest_at_risk: bigint
  readonly review_cycles: number
  readonly upfront: bigint
  readonly reasons: readonly string[]
}
export type TrustLevel = 'new' | 'building' | 'established' | 'cautious'
export interface Plan {
  readonly trust_level: TrustLevel
  readonly thresholds: readonly { level: string; rule: string }[] // plain-language statement of the thresholds used
  readonly milestones: readonly PlannedMilestone[]
  readonly deposit_advice: string
  readonly comparison: {
    readonly by_project: ModeComparison
    readonly by_milestone: ModeComparison
    readonly recommended: 'by_project' | 'by_milestone'
    readonly reasons: readonly string[]
  }
  readonly reasons: readonly string[]
}

export const MAX_MILESTONES = 8
export const MAX_DEPOSIT_BPS = 5000
/** Established clients get by_milestone recommended from this many minimum milestones (USD 1,000.00 by default). */
export const LARGE_TOTAL_MINIMUMS = 200n

interface Rules {
  readonly firstBps: number
  readonly growth: bigint
  readonly when: string
}
export const TRUST_RULES: Readonly<Record<TrustLevel, Rules>> = {
  cautious: {
    firstBps: 1000,
    growth: 2n,
    when: 'At least 1 dispute lost, or more than half of 2+ releases auto-released',
  },
  new: { firstBps: 1000, growth: 2n, when: 'No record, or no milestone released yet' },
  building: { firstBps: 2500, growth: 2n, when: '1 to 4 milestones released' },
  established: { firstBps: 5000, growth: 3n, when: '5 or more milestones released' },
}

const pct = (bps: number): string => `${bps / 100}%`
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`
const floorTo = (x: bigint, step: bigint): bigint => x - (x % step)
const larger = (a: bigint, b: bigint): bigint => {
  if (a > b) return a
  return b
}
const ruleText = (r: Rules): string =>
  `the first milestone is at most ${pct(r.firstBps)} of the total and each next one at most ${r.growth === 2n ? 'double' : 'triple'} the previous`
export const THRESHOLDS: readonly { level: string; rule: string }[] = Object.entries(TRUST_RULES).map(([level, r]) => ({
  level,
  rule: `${r.when}${level === 'cautious' ? ' (treated like new)' : ''}: ${ruleText(r)}.`,
}))

/** Trust level from the record; 'cautious' is checked first (a lost dispute counts even without releases). */
export function trustLevel(client: ClientRecord | null): TrustLevel {
  if (client === null) return 'new'
  const { milestonesReleased: released, autoReleased: auto, disputesLost, refundRequests } = client
  for (const n of [released, auto, disputesLost, refundRequests]) {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('client record counts must be integers ≥ 0')
  }
  if (auto > released) throw new RangeError('autoReleased cannot exceed milestonesReleased')
  if (disputesLost > 0 || (released >= 2 && auto * 2 > released)) return 'cautious'
  if (released === 0) return 'new'
  return released <= 4 ? 'building' : 'established'
}

interface Split {
  readonly parts: bigint[]
  readonly single: boolean
  readonly firstAtMinimum: boolean
}

/** The largest share the first part may take of `amount` (floor, so it never exceeds the rule). */
const firstCap = (amount: bigint, r: Rules): bigint => (amount * BigInt(r.firstBps)) / 10_000n

/** Grows parts from the first by `growth` until the rest fits; the tail is balanced so every rule holds. */
function grow(amount: bigint, min: bigint, cap: bigint, growth: bigint, step: bigint): bigint[] {
  const parts = [cap >= min ? larger(floorTo(cap, step), min) : min]
  let rest = amount - parts[0]!
  for (;;) {
    const last = parts[parts.length - 1]!
    if (rest > growth * last) {
      parts.push(growth * last)
      rest -= growth * last
    } else if (rest >= last) {
      parts.push(rest)
      return parts
    } else {
      // rest is too small to stand alone: split last + rest into two near-equal parts (the second absorbs the rest)
      parts.pop()
      const prev = parts[parts.length - 1] ?? min
      const both = last + rest
      const half = floorTo(both / 2n, step)
      const x = larger(half, prev)
      parts.push(x, both - x)
      return parts
    }
  }
}

function holds(parts: readonly bigint[], amount: bigint, min: bigint, cap: bigint, growth: bigint): boolean {
  if (parts.length > MAX_MILESTONES || parts.reduce((s, p) => s + p, 0n) !== amount) return false
  if (cap >= min && parts[0]! > cap) return false
  return parts.every((p, i) => p >= min && (i === 0 || (p >= parts[i - 1]! && p <= growth * parts[i - 1]!)))
}

/** Splits `amount` integer units (minor units, or entries) by the rules; `unit` is the smallest nice step. */
function split(amount: bigint, min: bigint, r: Rules, unit: bigint): Split {
  if (amount < 2n * min) return { parts: [amount], single: true, firstAtMinimum: false }
  const cap = firstCap(amount, r)
  let pow = 1n
  while (pow * 1000n <= amount) pow *= 10n // largest power of ten ≤ 1% of the amount
  // a step is nice only if it is at most a fifth of the first milestone (rounding then keeps it above 80% of its cap)
  const steps = [...new Set([larger(pow, unit), pow, 1n])].filter((step) => step * 5n <= larger(cap, min))
  // step 1 always holds (see grow); a nicer step is kept only when every rule still holds with it
  const step = steps.find((s) => holds(grow(amount, min, cap, r.growth, s), amount, min, cap, r.growth)) ?? 1n
  return { parts: grow(amount, min, cap, r.growth, step), single: false, firstAtMinimum: cap < min }
}

function splitNotes(s: Split, r: Rules, what: string, amount: string, min: string, first: string): string[] {
  if (s.single)
    return [
      `${what} (${amount}) is less than twice the minimum milestone (${min}), so it cannot be split: one milestone.`,
    ]
  if (s.firstAtMinimum) {
    return [
      `${what} (${amount}) is too small for a first milestone of at most ${pct(r.firstBps)} that still reaches the minimum (${min}): the first milestone is the minimum itself (${first}), so that rule cannot hold here; every other rule does.`,
    ]
  }
  return []
}

type Staged = ReturnType<typeof staged>

/** The by_milestone schedule: an optional deposit first, then the start-small milestones over the rest. */
function staged(total: bigint, min: bigint, currency: string, r: Rules, bps: number) {
  const fmt = (x: bigint) => formatMoney(x, currency)
  const notes: string[] = []
  let deposit = 0n
  if (bps > 0 && total < 2n * min) {
    notes.push(
      `No deposit: the total (${fmt(total)}) is less than twice the minimum milestone (${fmt(min)}), so it cannot hold a deposit and a milestone.`,
    )
  } else if (bps > 0) {
    deposit = fee(total, bps)
    if (deposit > total / 2n) deposit = total / 2n // an odd total rounded half up would pass 50%
    if (deposit < min) {
      notes.push(
        `The requested deposit (${pct(bps)}, ${fmt(deposit)}) is below the minimum milestone, so it is raised to ${fmt(min)}.`,
      )
      deposit = min
    }
  }
  const rest = total - deposit
  const s = split(rest, min, r, majorUnit(currency))
  const what = deposit > 0n ? 'What remains after the deposit' : 'The total'
  if (deposit > 0n)
    notes.push(`The deposit (${fmt(deposit)}) comes first; the rules apply to the remaining ${fmt(rest)}.`)
  notes.push(...splitNotes(s, r, what, fmt(rest), fmt(min), fmt(s.parts[0]!)))
  const milestones = s.parts.map(
    (amount, i): PlannedMilestone => ({ title: `Milestone ${i + 1}`, amount, deposit: false }),
  )
  if (deposit > 0n) milestones.unshift({ title: 'Deposit', amount: deposit, deposit: true })
  return { milestones, deposit, notes }
}

/** by_entry: whole entries per milestone, grown by the same rules as far as whole entries allow. */
function byEntry(input: PlanInput, r: Rules): { milestones: PlannedMilestone[]; notes: string[] } {
  const { entries, total, minimum } = input
  if (entries === undefined) throw new RangeError('by_entry needs entries (count and unit price)')
  const { count, unitPrice } = entries
  if (!Number.isSafeInteger(count) || count < 1 || unitPrice < 1n) {
    throw new RangeError('entries need a whole count ≥ 1 and a unit price ≥ 1')
  }
  if (BigInt(count) * unitPrice !== total) throw new RangeError('total must equal entries count × unit price')
  const minEntries = (minimum + unitPrice - 1n) / unitPrice
  const s = split(BigInt(count), minEntries, r, 1n)
  const first = `${s.parts[0]} entries`
  const notes = splitNotes(s, r, `The ${count} entries`, `${count} entries`, `${minEntries} entries`, first)
  let from = 1
  const milestones = s.parts.map((n): PlannedMilestone => {
    const k = Number(n)
    const title = k === 1 ? `Entry ${from}` : `Entries ${from}–${from + k - 1}`
    from += k
    return { title, amount: n * unitPrice, deposit: false, entries: k }
  })
  return { milestones, notes }
}

function trustReason(level: TrustLevel, client: ClientRecord | null, r: Rules): string {
  const rule = ruleText(r)
  if (client === null) return `No history with this client, so the plan starts small: ${rule}.`
  const { milestonesReleased: n, autoReleased: auto, disputesLost } = client
  if (level === 'cautious') {
    const why =
      disputesLost > 0
        ? `this client lost ${plural(disputesLost, 'dispute')}`
        : `${auto} of this client's ${n} releases happened only because they stayed silent (auto-release)`
    return `Caution: ${why}, so the plan is as careful as for a new client: ${rule}.`
  }
  if (level === 'new') return `This client has had no milestone released yet, so the plan starts small: ${rule}.`
  return `This client has had ${plural(n, 'milestone')} released (${level}): ${rule}.`
}

function depositAdvice(level: TrustLevel, input: PlanInput, plan: Staged, bps: number): string {
  const fmt = (x: bigint) => formatMoney(x, input.currency)
  const { total, paymentMode } = input
  if (bps > 0 && plan.deposit > 0n && paymentMode !== 'by_milestone') {
    return `A deposit is only possible when paying by milestone, so the requested ${pct(bps)} is not applied; by milestone it would be ${fmt(plan.deposit)}, released to the freelancer as soon as it is funded.`
  }
  if (plan.deposit > 0n) {
    return `The first milestone is a deposit of ${fmt(plan.deposit)} (${pct(Number((plan.deposit * 10_000n + total / 2n) / total))} of the total): it is released to the freelancer as soon as the client funds it, before any work is reviewed.`
  }
  if (bps > 0) return 'No deposit is possible: the total is less than twice the minimum milestone.'
  const first = plan.milestones[0]!.amount
  if (first === total) return 'No deposit: the total is too small to split into a deposit and a milestone.'
  const [lo, hi] = [larger(fee(total, 1000), input.minimum), larger(fee(total, 2000), input.minimum)]
  const range = lo === hi ? fmt(lo) : `${fmt(lo)}–${fmt(hi)}`
  if (level === 'new') {
    return `New client: ask for a 10–20% deposit (${range}), released to you when funded, or start with the small first milestone of ${fmt(first)} and continue once it is released.`
  }
  if (level === 'cautious') {
    return `This client's record calls for caution: ask for a 10–20% deposit (${range}), released to you when funded, and keep the first milestone small (${fmt(first)}).`
  }
  if (level === 'building') {
    return `A deposit of about 10% (${fmt(fee(total, 1000))}) is reasonable but optional: the first milestone (${fmt(first)}) already limits what is at risk.`
  }
  return 'No deposit needed with an established client; ask for one only if the work needs money upfront (materials, licences).'
}

function compare(input: PlanInput, level: TrustLevel, plan: Staged): Plan['comparison'] {
  const fmt = (x: bigint) => formatMoney(x, input.currency)
  const { total, minimum } = input
  const work = plan.milestones.filter((m) => !m.deposit)
  const largest = work.reduce((a, m) => larger(a, m.amount), 0n)
  const by_project: ModeComparison = {
    payment_mode: 'by_project',
    largest_at_risk: total,
    review_cycles: 1,
    upfront: 0n,
    reasons: [`All the work (${fmt(total)}) is delivered before the one payment, after 1 review.`],
  }
  const upfrontText = plan.deposit > 0n ? `; ${fmt(plan.deposit)} is paid upfront as a deposit` : ''
  const by_milestone: ModeComparison = {
    payment_mode: 'by_milestone',
    largest_at_risk: largest,
    review_cycles: work.length,
    upfront: plan.deposit,
    reasons: [
      `At most ${fmt(largest)} of work is at risk before each release, over ${plural(work.length, 'review')}${upfrontText}.`,
    ],
  }
  const large = total >= LARGE_TOTAL_MINIMUMS * minimum
  const recommended = level !== 'established' || large ? 'by_milestone' : 'by_project'
  const reasons = [
    work.length === 1 && plan.deposit === 0n
      ? `The total (${fmt(total)}) is too small to split, so both modes put ${fmt(total)} at risk at once.`
      : `Paid by project, ${fmt(total)} of work is delivered before any payment; with this schedule at most ${fmt(largest)} is at risk at a time.`,
  ]
  const who = {
    new: 'a client with no record',
    cautious: 'a client whose record calls for caution',
    building: 'a client still building a record',
    established: '',
  }[level]
  reasons.push(
    recommended === 'by_project'
      ? `Paying by project is recommended: the client is established and the total is below ${fmt(LARGE_TOTAL_MINIMUMS * minimum)}, so one review and one payment keep it simple.`
      : level === 'established'
        ? `Paying by milestone is recommended: even with an established client, ${fmt(total)} is large enough to pay in stages.`
        : `Paying by milestone is recommended: with ${who}, paying in stages limits what the freelancer risks${work.length === 1 && plan.deposit === 0n ? ' (here both are one milestone)' : ''}.`,
  )
  return { by_project, by_milestone, recommended, reasons }
}

/**
 * Plans a schedule for `input` (see the module comment for the rules and their two stated exceptions).
 * Throws RangeError on impossible input: total outside 1..10^12 or below the minimum, upfrontBps outside 0..5000,
 * by_entry without entries or with count × unit price ≠ total, a malformed client record.
 */
export function planMilestones(input: PlanInput): Plan {
  const { total, currency, paymentMode, minimum, client } = input
  if (!isValidAmount(total)) throw new RangeError('total must be 1..10^12 minor units')
  if (minimum < 1n) throw new RangeError('minimum must be at least 1 minor unit')
  if (total < minimum) {
    throw new RangeError(
      `total ${formatMoney(total, currency)} is below the minimum milestone ${formatMoney(minimum, currency)}`,
    )
  }
  const bps = input.upfrontBps ?? 0
  if (!Number.isInteger(bps) || bps < 0 || bps > MAX_DEPOSIT_BPS) throw new RangeError('upfrontBps must be 0..5000')
  if (paymentMode !== 'by_project' && paymentMode !== 'by_milestone' && paymentMode !== 'by_entry') {
    throw new RangeError(`unknown payment mode ${String(paymentMode)}`)
  }
  const level = trustLevel(client)
  const r = TRUST_RULES[level]
  const reasons = [trustReason(level, client, r)]
  if (client !== null && client.refundRequests > 0) {
    reasons.push(`For the record, this client has made ${plural(client.refundRequests, 'refund request')}.`)
  }
  const plan = staged(total, minimum, currency, r, bps) // the by_milestone schedule, also used by the comparison
  let milestones: readonly PlannedMilestone[] = plan.milestones
  if (paymentMode === 'by_milestone') {
    reasons.push(
      ...plan.notes,
      'Each milestone is funded, reviewed and released on its own; the last absorbs the remainder.',
    )
  } else if (paymentMode === 'by_project') {
    milestones = [{ title: 'Whole project', amount: total, deposit: false }]
    reasons.push('By project: one milestone for the whole total, paid once the job is done.')
  } else {
    const entries = byEntry(input, r)
    milestones = entries.milestones
    reasons.push(...entries.notes, 'By entry: each milestone covers whole entries (amount = entries × unit price).')
  }
  const deposit_advice = depositAdvice(level, input, plan, bps)
  return {
    trust_level: level,
    thresholds: THRESHOLDS,
    milestones,
    deposit_advice,
    comparison: compare(input, level, plan),
    reasons,
  }
}
