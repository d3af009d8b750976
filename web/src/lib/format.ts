/** Money and time for people: amounts through the domain's own formatter, times in the viewer's time zone. */
import { CURRENCIES, exponentOf, formatMajor, formatMoney, parseMajor } from '../../../src/domain/money.ts'
import { serverNow } from '../api/client'

export { CURRENCIES }
export const CURRENCY_CODES = Object.keys(CURRENCIES).sort()

/** Minor units (a JSON number) → "USD 1,234.56". */
export const money = (minor: number | bigint, currency: string) => formatMoney(BigInt(minor), currency)
/** Minor units → "1234.56" for an input field. */
export const toMajorInput = (minor: number | bigint, currency: string) => formatMajor(BigInt(minor), currency)

/** "1,234.56" (major units) → minor units, or null when it is not an exact amount of the currency. */
export function parseMoney(text: string, currency: string): number | null {
  const cleaned = text.replace(/[,\s]/g, '')
  if (!cleaned) return null
  const v = parseMajor(cleaned, currency)
  return v === null ? null : Number(v)
}

/** Error codes whose messages carry amounts, and the params that are amounts (`milestones[0].amount`, `bonus`). */
const AMOUNT_CODES = new Set(['amount_invalid', 'insufficient_funds'])
const AMOUNT_PARAM = /(^|\.)(amount|release_amount|bonus|unit_price|total)$/
/**
 * A whole number of minor units, maybe followed by its currency code or "minor unit(s)"; not a part of 10^12, of a
 * decimal, of an index (`milestones[0]`), of a percentage, or of money already written ("JPY 500").
 */
const MINOR_UNITS = /(?<![\d.,^[])(?<![A-Z]{3} )(\d+)(?: ([A-Z]{3}))?(?: minor units?)?(?![\d^%\]]|[.,]\d)/g

/** The minor units after an amount the server has already written as money: "USD 1.50 (150 minor units)". */
const SPELLED_OUT = / \(\d+ minor units?\)/g

/**
 * A server message with its amounts as money. The API speaks minor units ("Approve at least 1 minor
 * unit."), or gives both ("Only USD 450.00 (45000 minor units) is available."); people read "USD 450.00". Only
 * messages about amounts (by their code, or the field they name) are rewritten, so an entry number or a revision
 * count stays a number.
 */
export function moneyText(
  message: string,
  currency: string | null | undefined,
  about: { code?: string | undefined; param?: string | null | undefined } = {},
): string {
  if (!currency || !(currency in CURRENCIES)) return message
  if (!AMOUNT_CODES.has(about.code ?? '') && !AMOUNT_PARAM.test(about.param ?? '')) return message
  return message
    .replace(SPELLED_OUT, '')
    .replace('integers from 1 to 10^12 minor units', `from ${money(1, currency)} to ${money(10 ** 12, currency)}`)
    .replace(MINOR_UNITS, (_all, n: string, code: string | undefined) =>
      money(BigInt(n), code && code in CURRENCIES ? code : currency),
    )
}

export const step = (currency: string) =>
  exponentOf(currency) === 0 ? '1' : `0.${'0'.repeat(exponentOf(currency) - 1)}1`

export function dateTime(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return '—'
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(new Date(iso))
}

export function date(iso: string | null | undefined, timeZone: string): string {
  if (!iso) return '—'
  const d = /^\d{4}-\d{2}-\d{2}$/.test(iso) ? new Date(`${iso}T12:00:00Z`) : new Date(iso)
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: /^\d{4}-\d{2}-\d{2}$/.test(iso) ? 'UTC' : timeZone,
    day: 'numeric',
    month: 'short',
    year: 'numeric',
  }).format(d)
}

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`

/** "3 days 4 hours", "5 hours 12 minutes", "in under a minute"-style duration to a deadline, from the API's now. */
export function until(iso: string | null | undefined): { text: string; past: boolean; ms: number } {
  if (!iso) return { text: '—', past: false, ms: 0 }
  const ms = Date.parse(iso) - serverNow()
  const past = ms <= 0
  let s = Math.floor(Math.abs(ms) / 1000)
  const d = Math.floor(s / 86400)
  s -= d * 86400
  const h = Math.floor(s / 3600)
  s -= h * 3600
  const m = Math.floor(s / 60)
  const text =
    d > 0
      ? `${plural(d, 'day')} ${plural(h, 'hour')}`
      : h > 0
        ? `${plural(h, 'hour')} ${plural(m, 'minute')}`
        : m > 0
          ? plural(m, 'minute')
          : 'less than a minute'
  return { text, past, ms }
}

export function ago(iso: string): string {
  const u = until(iso)
  return u.past ? `${u.text} ago` : `in ${u.text}`
}

export const shortId = (id: string) => `${id.slice(0, 4)}…${id.slice(-4)}`

export const MODE_LABEL = { by_project: 'By project', by_milestone: 'By milestone', by_entry: 'By entry' } as const

export const STATE_LABEL: Record<string, string> = {
  pending: 'Not funded',
  funded: 'Funded — in escrow',
  submitted: 'Submitted — in review',
  changes_requested: 'Changes requested',
  refund_requested: 'Refund requested',
  disputed: 'Disputed',
  released: 'Released',
  refunded: 'Refunded',
  cancelled: 'Cancelled',
  open: 'Open',
  accepted: 'Accepted',
  declined: 'Declined',
  withdrawn: 'Withdrawn',
  expired: 'Expired',
  active: 'Active',
  completed: 'Completed',
  ended: 'Ended',
  awaiting_response: 'Awaiting response',
  negotiation: 'Negotiation',
  arbitration: 'Arbitration',
  resolved: 'Resolved',
  proposed: 'Proposed',
  rejected: 'Rejected',
}
export const label = (state: string) => STATE_LABEL[state] ?? state.replaceAll('_', ' ')

export function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] }
  const list = intl.supportedValuesOf?.('timeZone') ?? []
  return list.includes('UTC') ? list : ['UTC', ...list]
}
export const browserTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'

/** How far `timeZone` is ahead of UTC at the instant `ms` (ms; negative west of Greenwich). */
function offsetAt(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(ms))
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value)
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - (ms - (ms % 1000))
}

/**
 * The instant a day (`YYYY-MM-DD`, plus `days`) begins in `timeZone`, as an ISO timestamp: a statement's days are
 * the user's days, as its lines are shown in the user's time zone.
 */
export function startOfDay(day: string, timeZone: string, days = 0): string {
  const midnightUtc = Date.parse(`${day}T00:00:00Z`) + days * 86_400_000
  let t = midnightUtc - offsetAt(midnightUtc, timeZone)
  t = midnightUtc - offsetAt(t, timeZone) // again, in case the offset changes between the two instants
  return new Date(t).toISOString()
}

/** The month (`YYYY-MM`) an instant falls in, in `timeZone`: a chart's months are the user's months. */
export function monthOf(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit' }).formatToParts(
    new Date(iso),
  )
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? ''
  return `${part('year')}-${part('month')}`
}

/** Entry numbers, runs shortened: [1, 2, 3, 5] → "#1–#3, #5". */
export function entryList(numbers: readonly number[]): string {
  const sorted = [...new Set(numbers)].sort((a, b) => a - b)
  const runs: string[] = []
  for (let i = 0; i < sorted.length; ) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++
    runs.push(
      j - i >= 2
        ? `#${sorted[i]}–#${sorted[j]}`
        : sorted
            .slice(i, j + 1)
            .map((n) => `#${n}`)
            .join(', '),
    )
    i = j + 1
  }
  return runs.join(', ')
}
