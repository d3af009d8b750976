/** Journal entries, their lines and the account balances they maintain (SPEC §7). */
import { type Kysely, sql } from 'kysely'
import { isBalanced, isUserAccount, type JournalEntry } from '../../domain/ledger.ts'
import { writesInWith } from '../database.ts'
import { prepared, rawQuery } from '../prepared.ts'
import { big, type DB } from '../schema.ts'

/** A user account would go below zero: a concurrent command spent the same money; the command is retried. */
export class NegativeBalance extends Error {
  constructor(readonly account: string) {
    super(`${account} would go below zero`)
    this.name = 'NegativeBalance'
  }
}

const userOf = (account: string) => (isUserAccount(account) ? account.split(':')[1]! : null)

/**
 * The accounts that nearly every payment moves — the rail and the platform's fees — would be one balance row that
 * every command locks from its posting until it commits (PostgreSQL): all commands would queue on it. Their balance
 * is kept in BALANCE_SHARDS rows instead (`platform:fees~3`), one picked at random per posting, and is the sum of
 * the account's rows. User and escrow accounts keep one row: only their own commands touch them, and a user's balance
 * is checked inside the transaction. Account names never contain `~` (ids are base-62).
 */
export const BALANCE_SHARDS = 8
const isShared = (account: string) => !isUserAccount(account) && !account.startsWith('escrow:')
const rowFor = (account: string) =>
  isShared(account) ? `${account}~${Math.floor(Math.random() * BALANCE_SHARDS)}` : account
/** The account a balance row belongs to (`platform:fees~3` → `platform:fees`). */
export const accountOfRow = (row: string) => {
  const i = row.indexOf('~')
  return i < 0 ? row : row.slice(0, i)
}

/**
 * A command's entries as rows: the entries, their lines, and the balance changes summed per account (one row per
 * account: a statement may not update a row twice on PostgreSQL), or null when nothing moves.
 */
export function postingRows(entries: readonly JournalEntry[], now: number): Postings | null {
  const posted = entries.filter((e) => {
    if (!isBalanced(e)) throw new Error(`unbalanced journal entry ${e.id}`)
    return e.lines.length > 0
  })
  if (!posted.length) return null
  const at = BigInt(now)
  const entryRows = posted.map((e) => ({
    id: e.id,
    kind: e.kind,
    currency: e.currency,
    memo: e.memo,
    contract_id: e.contractId,
    milestone_id: e.milestoneId,
    created_at: at,
  }))
  const lines = posted.flatMap((e) =>
    e.lines.map((l) => ({
      entry_id: e.id,
      account: l.account,
      currency: e.currency,
      amount: l.amount,
      created_at: at,
    })),
  )
  const delta = new Map<string, Delta>()
  for (const l of lines) {
    const key = `${l.currency} ${l.account}`
    const d = delta.get(key)
    if (d) d.balance += l.amount
    else
      delta.set(key, {
        account: rowFor(l.account),
        currency: l.currency,
        balance: l.amount,
        user_id: userOf(l.account),
      })
  }
  // in one order for every command: two commands that lock the same balance rows cannot deadlock (PostgreSQL); no
  // command locks one earlier (spenders take turns on another lock: `spendableBalance`)
  const deltas = [...delta.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d)
  return { entries: entryRows, lines, deltas }
}

export type Postings = { entries: EntryRow[]; lines: LineRow[]; deltas: Delta[] }

/** Throws `NegativeBalance` when a balance row written by a posting left a user account below zero. */
export function refuseNegative(balances: readonly { account: string; balance: Parameters<typeof big>[0] }[]) {
  for (const b of balances) if (isUserAccount(b.account) && big(b.balance) < 0n) throw new NegativeBalance(b.account)
}

/**
 * Writes a command's entries with a few statements whatever their number (`postingRows`). A user account left below
 * zero by the whole command means a concurrent command spent the same money.
 *
 * The balance rows are written before the lines are numbered (in one statement, a data-modifying WITH that nothing
 * reads runs after the main query). On PostgreSQL a balance row stays locked until its transaction commits, so the
 * postings to one account commit in the order of their lines' numbers, and a statement paged by line numbers
 * (`starting_after`) never passes over a line that commits later below its cursor.
 */
export async function postEntries(db: Kysely<DB>, entries: readonly JournalEntry[], now: number) {
  const p = postingRows(entries, now)
  if (!p) return
  const { entries: entryRows, lines, deltas: rows } = p
  if (writesInWith(db) && entryRows.length <= CHUNK && lines.length <= CHUNK && rows.length <= CHUNK) {
    refuseNegative((await postAll(db, { entries: entryRows, lines, deltas: rows })).rows)
    return
  }
  for (let i = 0; i < rows.length; i += CHUNK)
    refuseNegative((await addToBalances(db, { rows: rows.slice(i, i + CHUNK) })).rows)
  for (let i = 0; i < entryRows.length; i += CHUNK) await insertEntries(db, { rows: entryRows.slice(i, i + CHUNK) })
  for (let i = 0; i < lines.length; i += CHUNK) await insertLines(db, { rows: lines.slice(i, i + CHUNK) })
}

/** rows per multi-row statement: far below both databases' limits on parameters per statement */
export const CHUNK = 500

type EntryRow = {
  id: string
  kind: string
  currency: string
  memo: string
  contract_id: string | null
  milestone_id: string | null
  created_at: bigint
}
export const entriesQuery = (db: Kysely<DB>, rows: EntryRow[]) => db.insertInto('journal_entries').values(rows)
const insertEntries = prepared((db, a: { rows: EntryRow[] }) => entriesQuery(db, a.rows))
type LineRow = { entry_id: string; account: string; currency: string; amount: bigint; created_at: bigint }
export const linesQuery = (db: Kysely<DB>, rows: LineRow[]) => db.insertInto('journal_lines').values(rows)
const insertLines = prepared((db, a: { rows: LineRow[] }) => linesQuery(db, a.rows))
type Delta = { account: string; currency: string; balance: bigint; user_id: string | null }
/** The balance changes added to their rows (created at the first posting), with the balances they leave. */
export const balancesQuery = (db: Kysely<DB>, rows: Delta[]) =>
  db
    .insertInto('accounts')
    .values(rows)
    .onConflict((oc) =>
      oc
        .columns(['account', 'currency'])
        .doUpdateSet((eb) => ({ balance: eb('accounts.balance', '+', eb.ref('excluded.balance')) })),
    )
    .returning(['account', 'balance'])
const addToBalances = prepared((db, a: { rows: Delta[] }) => balancesQuery(db, a.rows))
/** PostgreSQL: the entries, their lines and the balance changes (as `addToBalances`) in one statement. */
const postAll = prepared((db, a: { entries: EntryRow[]; lines: LineRow[]; deltas: Delta[] }) =>
  db
    .with('new_entries', (qc) => qc.insertInto('journal_entries').values(a.entries))
    .with('new_lines', (qc) => qc.insertInto('journal_lines').values(a.lines))
    .insertInto('accounts')
    .values(a.deltas)
    .onConflict((oc) =>
      oc
        .columns(['account', 'currency'])
        .doUpdateSet((eb) => ({ balance: eb('accounts.balance', '+', eb.ref('excluded.balance')) })),
    )
    .returning(['account', 'balance']),
)

/** The balance of every account, summed over its rows, by currency and account. */
export async function allBalances(db: Kysely<DB>) {
  const rows = await db.selectFrom('accounts').select(['account', 'currency', 'balance']).execute()
  const out = new Map<string, { account: string; currency: string; balance: bigint }>()
  for (const r of rows) {
    const account = accountOfRow(r.account)
    const key = `${account}|${r.currency}`
    const b = out.get(key) ?? { account, currency: r.currency, balance: 0n }
    b.balance += big(r.balance)
    out.set(key, b)
  }
  return [...out.values()]
}

/** A shared account's balance (see BALANCE_SHARDS) per currency. */
export async function sharedBalance(db: Kysely<DB>, account: string) {
  const rows = await db
    .selectFrom('accounts')
    .select(['currency', (eb) => eb.fn.sum<bigint | string>('balance').as('balance')])
    .where((eb) => eb.or([eb('account', '=', account), eb('account', 'like', `${account}~%`)]))
    .groupBy('currency')
    .orderBy('currency')
    .execute()
  return rows.map((r) => ({ currency: r.currency, balance: big(r.balance) }))
}

/** A user or escrow account's balance. */
export async function balanceOf(db: Kysely<DB>, account: string, currency: string): Promise<bigint> {
  const { rows } = await balance(db, { account, currency })
  return big(rows[0]?.balance)
}

/**
 * The balance of a user's account that a command may spend. With `lock` (row-lock databases), the spenders of one
 * account take turns: when there is something to spend, the command takes a lock on spending from the account (a
 * transaction-scoped advisory lock) and reads the balance again. Only spenders lower an available balance, so what
 * it reads stays spendable until it commits. The balance row itself is locked only when the command posts to it,
 * in the one order of all postings (`postEntries`): locked here, ahead of the rows the command posts to that sort
 * before it, it could deadlock with a command on another of the user's contracts that posts to it without spending
 * (a settlement refunding the client). An empty balance needs no lock — the command spends none of it, and money
 * arriving meanwhile only stays unspent.
 */
export async function spendableBalance(db: Kysely<DB>, account: string, currency: string, lock: boolean) {
  const seen = await balanceOf(db, account, currency)
  if (!lock || seen <= 0n) return seen
  await spendLock(db, { key: `spend ${account} ${currency}` })
  return balanceOf(db, account, currency)
}

const spendLock = prepared((db, a: { key: string }) =>
  rawQuery(db, sql`select pg_advisory_xact_lock(hashtextextended(${a.key}, 0))`),
)

type AccountKey = { account: string; currency: string }
const balanceQuery = (db: Kysely<DB>, a: AccountKey) =>
  db.selectFrom('accounts').select('balance').where('account', '=', a.account).where('currency', '=', a.currency)
const balance = prepared(balanceQuery)

/** A user's balances per currency: available and pending. */
export async function userBalances(db: Kysely<DB>, userId: string) {
  const { rows } = await accountsOf(db, { userId })
  const by = new Map<string, { currency: string; available: bigint; pending: bigint }>()
  for (const r of rows) {
    const b = by.get(r.currency) ?? { currency: r.currency, available: 0n, pending: 0n }
    if (r.account.endsWith(':available')) b.available = big(r.balance)
    else if (r.account.endsWith(':pending')) b.pending = big(r.balance)
    by.set(r.currency, b)
  }
  return [...by.values()].sort((a, b) => a.currency.localeCompare(b.currency))
}

const accountsOf = prepared((db, a: { userId: string }) =>
  db.selectFrom('accounts').select(['account', 'currency', 'balance']).where('user_id', '=', a.userId),
)
