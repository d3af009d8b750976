/** Balances, payouts, statements and ledger reads (SPEC §7). */
import { DomainError, fail, noCursor } from '../domain/errors.ts'
import { available, holdReleaseLines, payoutLines } from '../domain/ledger.ts'
import { amountText, isSupportedCurrency } from '../domain/money.ts'
import { isCalendarDate } from '../domain/terms.ts'
import type { Actor } from '../domain/types.ts'
import { iso } from '../domain/types.ts'
import { balanceOf, spendableBalance, userBalances } from '../store/repos/ledger-repo.ts'
import { big, num } from '../store/schema.ts'
import { type App, type IdempotentResponse, run, type Tx } from './app.ts'
import { newId } from './ids.ts'

export async function balances(app: App, userId: string) {
  const list = await userBalances(app.store.db, userId)
  return list.map((b) => ({
    object: 'balance' as const,
    currency: b.currency,
    available: Number(b.available),
    pending: Number(b.pending),
  }))
}

export function presentPayout(p: {
  id: string
  user_id: string
  currency: string
  amount: bigint | number | string
  status: string
  created_at: bigint | number | string
}) {
  return {
    id: p.id,
    object: 'payout' as const,
    user_id: p.user_id,
    currency: p.currency,
    amount: num(p.amount),
    status: p.status,
    created_at: iso(num(p.created_at)),
  }
}

export async function createPayout(
  app: App,
  actor: Actor & { id: string },
  input: { amount: bigint; currency: string },
  idem?: IdempotentResponse,
) {
  if (!isSupportedCurrency(input.currency))
    fail('currency_unsupported', `Currency ${input.currency} is not supported.`, 'currency')
  return run(app, { actor, idem }, async (tx) => {
    const have = await spendableBalance(tx.db, available(actor.id), input.currency, tx.locks)
    if (input.amount > have)
      fail('insufficient_funds', `Only ${amountText(have, input.currency)} is available.`, 'amount')
    const id = newId('pay')
    await tx.entries([
      {
        id: newId('je'),
        kind: 'payout',
        currency: input.currency,
        lines: payoutLines(actor.id, input.amount),
        memo: `Payout ${id}`,
        contractId: null,
        milestoneId: null,
      },
    ])
    const row = {
      id,
      user_id: actor.id,
      currency: input.currency,
      amount: input.amount,
      status: 'paid' as const,
      created_at: BigInt(tx.now),
    }
    await tx.db.insertInto('payouts').values(row).execute()
    await app.rail.payout({ userId: actor.id, currency: input.currency, amount: input.amount, reference: id })
    const payout = presentPayout(row)
    await tx.events([
      {
        event: { type: 'payout.paid', object: 'payout', objectId: id, audience: [actor.id] },
        object: payout,
        contractId: null,
      },
    ])
    tx.audit('payout.create', id, { amount: input.amount.toString(), currency: input.currency })
    return payout
  })
}

/** After the 5-day hold: pending → available, and a `balance.available` event. Runs inside a timer's transaction. */
export async function releaseHold(tx: Tx, payload: Record<string, string>) {
  const userId = payload.userId!
  const currency = payload.currency!
  const amount = BigInt(payload.amount!)
  await tx.entries([
    {
      id: newId('je'),
      kind: 'hold_release',
      currency,
      lines: holdReleaseLines(userId, amount),
      memo: `Hold over for ${payload.entryId}`,
      contractId: payload.contractId ?? null,
      milestoneId: null,
    },
  ])
  await tx.writePending() // the event tells the balances with this release in them
  const avail = await balanceOf(tx.db, available(userId), currency)
  const pend = await balanceOf(tx.db, `user:${userId}:pending`, currency)
  const object = {
    object: 'balance',
    currency,
    available: Number(avail),
    pending: Number(pend),
    amount: Number(amount),
    source_entry: payload.entryId ?? null,
  }
  await tx.events([
    {
      event: { type: 'balance.available', object: 'balance', objectId: userId, audience: [userId] },
      object,
      contractId: payload.contractId ?? null,
    },
  ])
  tx.audit('balance.hold_release', userId, { amount: amount.toString(), currency })
}

export interface StatementQuery {
  readonly currency: string
  readonly from: number | null
  readonly to: number | null
  readonly account: 'available' | 'pending'
}

/**
 * A statement's bound (`from`, `to`) as given to the API or the CLI: an ISO date (a day of the calendar; with
 * `endOfDay`, the whole day counts) or timestamp, in ms.
 */
export function timeParam(v: string | undefined, name: string, endOfDay = false): number | null {
  if (v === undefined || v === '') return null
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(v)
  const ms = Date.parse(dateOnly ? `${v}T00:00:00Z` : v)
  // Date.parse takes 2024-02-30 for March 1st: the day must be one of the calendar
  const day = /^\d{4}-\d{2}-\d{2}/.exec(v)?.[0]
  if (Number.isNaN(ms) || (day !== undefined && !isCalendarDate(day)))
    throw new DomainError('parameter_invalid', `${name} must be an ISO date or timestamp.`, name)
  return dateOnly && endOfDay ? ms + 86_400_000 : ms
}

/** The most lines one page of a statement holds (and the default): a statement is read whole when it fits. */
export const STATEMENT_PAGE_MAX = 1000

/** Where a page of a statement starts: after this line (`null`: at the start), with the balance there. */
interface StatementCursor {
  readonly seq: bigint | null
  readonly balance: bigint
}

/**
 * The lines of one of the user's accounts with running balances, oldest first, from an opening balance — one page
 * of at most `page.limit` lines, after the line `page.startingAfter` (a `jel_` id from an earlier page). The
 * opening and closing balances are the statement's (at `from` and at `to`) on every page; each line's `balance`
 * is the running balance after it.
 */
export async function statement(
  app: App,
  userId: string,
  q: StatementQuery,
  page: { limit: number; startingAfter: string | null } = { limit: STATEMENT_PAGE_MAX, startingAfter: null },
) {
  if (q.from !== null && q.to !== null && q.to <= q.from)
    throw new DomainError('parameter_invalid', 'to must be after from: the statement would cover no time.', 'to')
  const opening = q.from === null ? 0n : await sumOf(app, userId, q, { before: q.from })
  let at: StatementCursor = { seq: null, balance: opening }
  if (page.startingAfter !== null) {
    // the cursor is a line of this statement: of this account and currency, within from and to
    const seq = /^jel_\d{1,15}$/.test(page.startingAfter) ? BigInt(page.startingAfter.slice(4)) : null
    const found = seq === null ? undefined : await statementLines(app, userId, q, seq - 1n, 1)
    if (seq === null || found?.[0]?.seq !== seq) return noCursor(page.startingAfter)
    at = { seq, balance: opening + (await sumOf(app, userId, q, { throughSeq: seq })) }
  }
  const { lines, hasMore, running } = await linesPage(app, userId, q, at, page.limit)
  // the closing balance is the last line's when this page ends the statement, else every line's within `to`
  const closing = hasMore ? opening + (await sumOf(app, userId, q, {})) : running
  return {
    object: 'statement' as const,
    account: q.account,
    currency: q.currency,
    from: q.from === null ? null : iso(q.from),
    to: q.to === null ? null : iso(q.to),
    opening_balance: Number(opening),
    closing_balance: Number(closing),
    data: lines,
    has_more: hasMore,
  }
}

export type Statement = Awaited<ReturnType<typeof statement>>

const accountOf = (userId: string, q: StatementQuery) => `user:${userId}:${q.account}`

/**
 * The sum of the account's lines in the currency: those before `before` (the opening balance), or those within the
 * statement's bounds, up to line `throughSeq` when given.
 */
async function sumOf(app: App, userId: string, q: StatementQuery, at: { before?: number; throughSeq?: bigint }) {
  let sq = app.store.db
    .selectFrom('journal_lines')
    .select((eb) => eb.fn.sum<bigint>('amount').as('s'))
    .where('account', '=', accountOf(userId, q))
    .where('currency', '=', q.currency)
  if (at.before !== undefined) sq = sq.where('created_at', '<', BigInt(at.before))
  else {
    if (q.from !== null) sq = sq.where('created_at', '>=', BigInt(q.from))
    if (q.to !== null) sq = sq.where('created_at', '<', BigInt(q.to))
    if (at.throughSeq !== undefined) sq = sq.where('seq', '<=', at.throughSeq)
  }
  return big((await sq.executeTakeFirst())?.s)
}

/** A page of up to `limit` lines after `at`, each with the running balance after it, and the balance at its end. */
async function linesPage(app: App, userId: string, q: StatementQuery, at: StatementCursor, limit: number) {
  const rows = await statementLines(app, userId, q, at.seq, limit + 1)
  let running = at.balance
  const lines = rows.slice(0, limit).map((r) => {
    running += r.amount
    return { ...r.line, balance: Number(running) }
  })
  return { lines, hasMore: rows.length > limit, running }
}

/** Up to `limit` lines of the statement after line `afterSeq` (null: from its first), oldest first. */
async function statementLines(app: App, userId: string, q: StatementQuery, afterSeq: bigint | null, limit: number) {
  let lq = app.store.db
    .selectFrom('journal_lines as l')
    .innerJoin('journal_entries as e', 'e.id', 'l.entry_id')
    .select(['l.seq', 'l.entry_id', 'l.amount', 'l.created_at', 'e.kind', 'e.memo', 'e.contract_id', 'e.milestone_id'])
    .where('l.account', '=', accountOf(userId, q))
    .where('l.currency', '=', q.currency)
  if (q.from !== null) lq = lq.where('l.created_at', '>=', BigInt(q.from))
  if (q.to !== null) lq = lq.where('l.created_at', '<', BigInt(q.to))
  if (afterSeq !== null) lq = lq.where('l.seq', '>', afterSeq)
  const rows = await lq.orderBy('l.seq').limit(limit).execute()
  return rows.map((r) => ({
    seq: big(r.seq),
    amount: big(r.amount),
    line: {
      id: `jel_${num(r.seq)}`,
      entry_id: r.entry_id,
      date: iso(num(r.created_at)),
      kind: r.kind,
      description: r.memo,
      contract_id: r.contract_id,
      milestone_id: r.milestone_id,
      amount: Number(big(r.amount)),
    },
  }))
}

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v)
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

const CSV_HEADER = [
  'date',
  'entry_id',
  'kind',
  'description',
  'contract_id',
  'milestone_id',
  'currency',
  'amount',
  'balance',
]

/** Lines of a statement as rows of CSV (amounts in minor units, and the running balance), each ending in CRLF. */
const csvRows = (s: Statement) =>
  s.data
    .map((l) =>
      [l.date, l.entry_id, l.kind, l.description, l.contract_id, l.milestone_id, s.currency, l.amount, l.balance]
        .map(csvCell)
        .join(','),
    )
    .map((row) => `${row}\r\n`)
    .join('')

/**
 * The whole statement as CSV — a header row, then every line, read a page at a time so that a statement of years
 * is never held at once. `first` is its first page (`statement` with no cursor), read before an answer starts, so
 * that a mistake in the query is an error and not a broken file.
 */
export async function* statementCsv(
  app: App,
  userId: string,
  q: StatementQuery,
  first: Statement,
  pageSize = STATEMENT_PAGE_MAX,
) {
  yield `${CSV_HEADER.join(',')}\r\n`
  let page = first
  for (;;) {
    yield csvRows(page)
    const last = page.data.at(-1)
    if (!page.has_more || !last) return
    const at = { seq: BigInt(last.id.slice(4)), balance: BigInt(last.balance) }
    const next = await linesPage(app, userId, q, at, pageSize)
    page = { ...page, data: next.lines, has_more: next.hasMore }
  }
}

/** The journal lines that touch the user's accounts, newest first. */
export async function myLedgerEntries(app: App, userId: string, page: { limit: number; startingAfter: string | null }) {
  let q = app.store.db
    .selectFrom('journal_lines as l')
    .innerJoin('journal_entries as e', 'e.id', 'l.entry_id')
    .innerJoin('accounts as a', (j) => j.onRef('a.account', '=', 'l.account').onRef('a.currency', '=', 'l.currency'))
    .select([
      'l.seq',
      'l.entry_id',
      'l.account',
      'l.currency',
      'l.amount',
      'l.created_at',
      'e.kind',
      'e.memo',
      'e.contract_id',
      'e.milestone_id',
    ])
    .where('a.user_id', '=', userId)
  if (page.startingAfter) {
    // the cursor is a line on one of the user's accounts
    const seq = /^jel_\d{1,15}$/.test(page.startingAfter) ? BigInt(page.startingAfter.slice(4)) : null
    const cursor =
      seq === null
        ? null
        : await app.store.db
            .selectFrom('journal_lines as l')
            .innerJoin('accounts as a', (j) =>
              j.onRef('a.account', '=', 'l.account').onRef('a.currency', '=', 'l.currency'),
            )
            .select('l.seq')
            .where('l.seq', '=', seq)
            .where('a.user_id', '=', userId)
            .executeTakeFirst()
    q = q.where('l.seq', '<', (cursor ?? noCursor(page.startingAfter)).seq)
  }
  const rows = await q
    .orderBy('l.seq', 'desc')
    .limit(page.limit + 1)
    .execute()
  return {
    object: 'list' as const,
    data: rows.slice(0, page.limit).map((r) => ({
      id: `jel_${num(r.seq)}`,
      object: 'ledger_line' as const,
      entry_id: r.entry_id,
      account: r.account.split(':').pop(),
      currency: r.currency,
      amount: Number(big(r.amount)),
      kind: r.kind,
      description: r.memo,
      contract_id: r.contract_id,
      milestone_id: r.milestone_id,
      created_at: iso(num(r.created_at)),
    })),
    has_more: rows.length > page.limit,
  }
}
