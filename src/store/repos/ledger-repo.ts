/** Journal entries, their lines and the account balances they maintain (SPEC §7). */
import type { Kysely } from 'kysely'
import { isBalanced, isUserAccount, type JournalEntry } from '../../domain/ledger.ts'
import { big, type DB } from '../schema.ts'

/** A user account would go below zero: a concurrent command spent the same money; the command is retried. */
export class NegativeBalance extends Error {
  constructor(readonly account: string) {
    super(`${account} would go below zero`)
    this.name = 'NegativeBalance'
  }
}

const userOf = (account: string) => (isUserAccount(account) ? account.split(':')[1]! : null)

export async function postEntries(db: Kysely<DB>, entries: readonly JournalEntry[], now: number) {
  for (const e of entries) {
    if (!isBalanced(e)) throw new Error(`unbalanced journal entry ${e.id}`)
    if (e.lines.length === 0) continue
    await db
      .insertInto('journal_entries')
      .values({
        id: e.id,
        kind: e.kind,
        currency: e.currency,
        memo: e.memo,
        contract_id: e.contractId,
        milestone_id: e.milestoneId,
        created_at: BigInt(now),
      })
      .execute()
    await db
      .insertInto('journal_lines')
      .values(
        e.lines.map((l) => ({
          entry_id: e.id,
          account: l.account,
          currency: e.currency,
          amount: l.amount,
          created_at: BigInt(now),
        })),
      )
      .execute()
    for (const l of e.lines) {
      const row = await db
        .insertInto('accounts')
        .values({ account: l.account, currency: e.currency, balance: l.amount, user_id: userOf(l.account) })
        .onConflict((oc) =>
          oc
            .columns(['account', 'currency'])
            .doUpdateSet((eb) => ({ balance: eb('accounts.balance', '+', eb.ref('excluded.balance')) })),
        )
        .returning('balance')
        .executeTakeFirstOrThrow()
      if (isUserAccount(l.account) && big(row.balance) < 0n) throw new NegativeBalance(l.account)
    }
  }
}

/** An account's balance; with `lock` (row-lock databases) it stays locked until the transaction ends. */
export async function balanceOf(db: Kysely<DB>, account: string, currency: string, lock = false): Promise<bigint> {
  const q = db.selectFrom('accounts').select('balance').where('account', '=', account).where('currency', '=', currency)
  const row = await (lock ? q.forUpdate() : q).executeTakeFirst()
  return big(row?.balance)
}

/** A user's balances per currency: available and pending. */
export async function userBalances(db: Kysely<DB>, userId: string) {
  const rows = await db
    .selectFrom('accounts')
    .select(['account', 'currency', 'balance'])
    .where('user_id', '=', userId)
    .execute()
  const by = new Map<string, { currency: string; available: bigint; pending: bigint }>()
  for (const r of rows) {
    const b = by.get(r.currency) ?? { currency: r.currency, available: 0n, pending: 0n }
    if (r.account.endsWith(':available')) b.available = big(r.balance)
    else if (r.account.endsWith(':pending')) b.pending = big(r.balance)
    by.set(r.currency, b)
  }
  return [...by.values()].sort((a, b) => a.currency.localeCompare(b.currency))
}
