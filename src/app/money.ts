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
      status: 'paid',
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

/** The lines of one of the user's accounts with running balances, oldest first, from an opening balance. */
export async function statement(app: App, userId: string, q: StatementQuery) {
  if (q.from !== null && q.to !== null && q.to <= q.from)
    throw new DomainError('parameter_invalid', 'to must be after from: the statement would cover no time.', 'to')
  const account = `user:${userId}:${q.account}`
  const db = app.store.db
  let opening = 0n
  if (q.from !== null) {
    const row = await db
      .selectFrom('journal_lines')
      .select((eb) => eb.fn.sum<bigint>('amount').as('s'))
      .where('account', '=', account)
      .where('currency', '=', q.currency)
      .where('created_at', '<', BigInt(q.from))
      .executeTakeFirst()
    opening = big(row?.s)
  }
  let lq = db
    .selectFrom('journal_lines as l')
    .innerJoin('journal_entries as e', 'e.id', 'l.entry_id')
    .select(['l.seq', 'l.entry_id', 'l.amount', 'l.created_at', 'e.kind', 'e.memo', 'e.contract_id', 'e.milestone_id'])
    .where('l.account', '=', account)
    .where('l.currency', '=', q.currency)
  if (q.from !== null) lq = lq.where('l.created_at', '>=', BigInt(q.from))
  if (q.to !== null) lq = lq.where('l.created_at', '<', BigInt(q.to))
  const rows = await lq.orderBy('l.seq').execute()
  let running = opening
  const lines = rows.map((r) => {
    running += big(r.amount)
    return {
      entry_id: r.entry_id,
      date: iso(num(r.created_at)),
      kind: r.kind,
      description: r.memo,
      contract_id: r.contract_id,
      milestone_id: r.milestone_id,
      amount: Number(big(r.amount)),
      balance: Number(running),
    }
  })
  return {
    object: 'statement' as const,
    account: q.account,
    currency: q.currency,
    from: q.from === null ? null : iso(q.from),
    to: q.to === null ? null : iso(q.to),
    opening_balance: Number(opening),
    closing_balance: Number(running),
    data: lines,
    has_more: false,
  }
}

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v)
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

/** The statement as CSV: a header row, amounts in minor units, and the running balance. */
export function statementCsv(s: Awaited<ReturnType<typeof statement>>): string {
  const header = [
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
  const rows = s.data.map((l) => [
    l.date,
    l.entry_id,
    l.kind,
    l.description,
    l.contract_id,
    l.milestone_id,
    s.currency,
    l.amount,
    l.balance,
  ])
  return `${[header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n')}\r\n`
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
