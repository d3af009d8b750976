/**
 * The store conformance suite, ledger and balances: the same checks, through the real repos and `run()`, on every
 * adapter — SQLite (a temp file), PostgreSQL in process (PGlite) and the real PostgreSQL server when
 * TRANCHE_TEST_DATABASE_URL is set (a fresh schema, dropped after). Here: accounts equal to the sum of their lines, no
 * negative user balance, and shared accounts kept in several balance rows. Each adapter gets one store for the whole
 * block; every test uses its own ids. The rest of the suite is in the other `store-*.test.ts` files.
 */
import type { Kysely } from 'kysely'
import { beforeAll, describe, expect, it } from 'vitest'
import { type App, run } from '../../src/app/app.ts'
import { newId } from '../../src/app/ids.ts'
import { verify } from '../../src/app/verify.ts'
import type { Store } from '../../src/store/database.ts'
import {
  allBalances,
  BALANCE_SHARDS,
  balanceOf,
  NegativeBalance,
  postEntries,
  sharedBalance,
} from '../../src/store/repos/ledger-repo.ts'
import type { DB } from '../../src/store/schema.ts'
import { ADAPTERS, rowCounts, storeBed, tag } from './store-fixtures.ts'

describe.each(ADAPTERS.map((make) => make()))('store conformance on $name', (adapter) => {
  const bed = storeBed(adapter)
  let store: Store
  let app: App
  let db: Kysely<DB>
  beforeAll(() => {
    ;({ store, app, db } = bed)
  })

  it('keeps accounts equal to the sum of their lines and refuses a negative user balance, leaving nothing behind', async () => {
    const user = `usr_${tag()}`
    const avail = `user:${user}:available`
    const big = 2n ** 60n + 7n // beyond 2^53: must come back exact
    await run(app, { actor: { kind: 'system' } }, (tx) =>
      tx.entries([
        {
          id: newId('je'),
          kind: 'fund',
          currency: 'EUR',
          lines: [
            { account: 'ext:rail', amount: -big },
            { account: avail, amount: big },
          ],
          memo: 'in ✓',
          contractId: null,
          milestoneId: null,
        },
      ]),
    )
    const balance = await balanceOf(db, avail, 'EUR')
    expect(balance).toBe(big)
    const acct = await db
      .selectFrom('accounts')
      .select(['balance', 'user_id'])
      .where('account', '=', avail)
      .executeTakeFirstOrThrow()
    expect(typeof acct.balance).toBe('bigint')
    expect(acct.user_id).toBe(user)

    const before = await rowCounts(db)
    const okEntry = {
      id: newId('je'),
      kind: 'fund' as const,
      currency: 'EUR',
      lines: [
        { account: 'ext:rail', amount: -5n },
        { account: avail, amount: 5n },
      ],
      memo: 'ok',
      contractId: null,
      milestoneId: null,
    }
    const overdraw = {
      id: newId('je'),
      kind: 'payout' as const,
      currency: 'EUR',
      lines: [
        { account: avail, amount: -(big + 10n) },
        { account: 'ext:rail', amount: big + 10n },
      ],
      memo: 'too much',
      contractId: null,
      milestoneId: null,
    }
    await expect(
      run(app, { actor: { kind: 'system' } }, (tx) => tx.entries([okEntry, overdraw])),
    ).rejects.toBeInstanceOf(NegativeBalance)
    expect(await rowCounts(db)).toEqual(before)
    expect(await balanceOf(db, avail, 'EUR')).toBe(big)

    await expect(
      db
        .transaction()
        .execute((trx) =>
          postEntries(trx, [{ ...okEntry, id: newId('je'), lines: [{ account: avail, amount: 1n }] }], 0),
        ),
    ).rejects.toThrow(/unbalanced/)

    const sums = await db
      .selectFrom('journal_lines')
      .select(['account', (eb) => eb.fn.sum<bigint | string>('amount').as('total')])
      .where('currency', '=', 'EUR')
      .groupBy('account')
      .execute()
    const accounts = (await allBalances(db)).filter((a) => a.currency === 'EUR')
    expect(new Map(accounts.map((a) => [a.account, a.balance]))).toEqual(
      new Map(sums.map((s) => [s.account, BigInt(s.total)])),
    )
    const report = await verify(store)
    expect(report.problems).toEqual([])
  })

  it('keeps a shared account in several balance rows whose sum is its balance', async () => {
    const user = `usr_${tag()}`
    const avail = `user:${user}:available`
    const amounts = Array.from({ length: 24 }, (_, i) => BigInt(100 + i))
    for (const amount of amounts)
      await run(app, { actor: { kind: 'system' } }, (tx) =>
        tx.entries([
          {
            id: newId('je'),
            kind: 'fund',
            currency: 'CHF',
            lines: [
              { account: 'ext:rail', amount: -amount },
              { account: avail, amount },
            ],
            memo: 'in',
            contractId: null,
            milestoneId: null,
          },
        ]),
      )
    const total = amounts.reduce((a, b) => a + b, 0n)
    const rows = await db
      .selectFrom('accounts')
      .select('account')
      .where('currency', '=', 'CHF')
      .where('account', 'like', 'ext:rail%')
      .execute()
    // 24 postings over 8 rows: all in one row would be a 1-in-8^23 draw
    expect(rows.length).toBeGreaterThan(1)
    expect(rows.length).toBeLessThanOrEqual(BALANCE_SHARDS)
    expect(rows.every((r) => /^ext:rail~[0-7]$/.test(r.account))).toBe(true)
    expect(await sharedBalance(db, 'ext:rail')).toContainEqual({ currency: 'CHF', balance: -total })
    expect((await allBalances(db)).filter((b) => b.currency === 'CHF')).toEqual(
      expect.arrayContaining([
        { account: 'ext:rail', currency: 'CHF', balance: -total },
        { account: avail, currency: 'CHF', balance: total },
      ]),
    )
    expect(await balanceOf(db, avail, 'CHF')).toBe(total)
    expect((await verify(store)).problems).toEqual([])
  })
})
