/**
 * Prepared queries on every adapter: the compiled statement is reused with new values, each shape (array lengths)
 * gets its own, values of every kind reach the database exactly, and a builder that puts an argument anywhere but
 * in a parameter is refused.
 */
import { sql } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '../../src/store/database.ts'
import { namedStatements } from '../../src/store/postgres/postgres-store.ts'
import { prepared } from '../../src/store/prepared.ts'
import { PG_URL } from '../support/harness.ts'
import { ADAPTERS, tag, UNICODE } from './store-fixtures.ts'

type Row = { account: string; currency: string; balance: bigint; user_id: string | null }

const upsert = prepared((db, a: { rows: Row[] }) =>
  db
    .insertInto('accounts')
    .values(a.rows)
    .onConflict((oc) =>
      oc
        .columns(['account', 'currency'])
        .doUpdateSet((eb) => ({ balance: eb('accounts.balance', '+', eb.ref('excluded.balance')) })),
    )
    .returning(['account', 'balance', 'user_id']),
)
const byAccounts = prepared((db, a: { accounts: string[]; currency: string }) =>
  db
    .selectFrom('accounts')
    .select(['account', 'balance'])
    .where('account', 'in', a.accounts)
    .where('currency', '=', a.currency)
    .orderBy('account'),
)

describe.each(ADAPTERS.map((make) => make()))('prepared queries on $name', (adapter) => {
  let store: Store

  beforeAll(async () => {
    store = await adapter.open()
  }, 180_000)

  afterAll(async () => {
    await store?.close()
    await adapter.cleanup()
  })

  it('runs one compiled statement with new values, per shape', async () => {
    const t = tag()
    const a = `test:${t}:a ${UNICODE.replace('\u0000', '')}` // PostgreSQL text holds no NUL (the API refuses it)
    const b = `test:${t}:b`
    const big = 9_007_199_254_740_993n
    const first = await upsert(store.db, {
      rows: [
        { account: a, currency: 'USD', balance: big, user_id: null },
        { account: b, currency: 'USD', balance: -5n, user_id: `usr_${t}` },
      ],
    })
    expect(first.rows.map((r) => [r.account, BigInt(r.balance), r.user_id]).sort()).toEqual(
      [
        [a, big, null],
        [b, -5n, `usr_${t}`],
      ].sort(),
    )
    // the same shape again, other values: added to the same rows
    await upsert(store.db, {
      rows: [
        { account: a, currency: 'USD', balance: 1n, user_id: null },
        { account: b, currency: 'USD', balance: 5n, user_id: null },
      ],
    })
    // another shape (one row), inside a transaction
    await store.db
      .transaction()
      .execute((trx) => upsert(trx, { rows: [{ account: b, currency: 'USD', balance: 10n, user_id: null }] }))
    const read = await byAccounts(store.db, { accounts: [a, b, `test:${t}:none`], currency: 'USD' })
    expect(read.rows.map((r) => [r.account, BigInt(r.balance)])).toEqual([
      [a, big + 1n],
      [b, 10n],
    ])
    const one = await byAccounts(store.db, { accounts: [b], currency: 'USD' })
    expect(one.rows.map((r) => r.account)).toEqual([b])
  })

  it('refuses a builder that puts an argument value outside the parameters', async () => {
    const inlined = prepared((db, a: { n: number }) =>
      db
        .selectFrom('accounts')
        .select('account')
        .where(sql.raw(String(a.n)), '=', 1),
    )
    await expect(inlined(store.db, { n: 1 })).rejects.toThrow(/not sent as parameters/)
  })
})

describe.skipIf(!PG_URL)('named statements on the PostgreSQL server', () => {
  it('prepares each text once per connection, up to a number of texts, then sends new ones unnamed', async () => {
    const client = new pg.Client({ connectionString: PG_URL! })
    await client.connect()
    try {
      namedStatements(client, 2)
      const add = async (k: number, n: number) =>
        (await client.query<{ v: number }>(`select $1::int + ${k} as v`, [n])).rows[0]?.v
      expect([await add(1, 10), await add(2, 10), await add(3, 10), await add(1, 20), await add(3, 20)]).toEqual([
        11, 12, 13, 21, 23,
      ])
      const { rows } = await client.query<{ statement: string }>(
        'select statement from pg_prepared_statements order by statement',
      )
      expect(rows.map((r) => r.statement)).toEqual(['select $1::int + 1 as v', 'select $1::int + 2 as v'])
    } finally {
      await client.end()
    }
  })
})
