/**
 * Statements page through one account's journal lines by their numbers (`starting_after` a line, SPEC §7). On
 * PostgreSQL a line's number is taken when it is inserted, not when its transaction commits, so a reader that has
 * seen line n must be sure that no line below n of the same account can still commit — or the line is never shown
 * to a reader paging on from n, and its statement's lines stop adding up to its closing balance. Every posting
 * therefore takes the account's balance row (locked to its commit) before its lines are numbered: the postings to
 * one account commit in the order of their lines' numbers.
 */
import { sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { newId } from '../../src/app/ids.ts'
import type { Line } from '../../src/domain/ledger.ts'
import { BALANCE_SHARDS, CHUNK, postEntries } from '../../src/store/repos/ledger-repo.ts'
import { ADAPTERS, storeBed, tag } from './store-fixtures.ts'

// row locks and concurrent transactions: the real server (PGlite has one connection)
const postgres = ADAPTERS.map((make) => make()).find((a) => a.name === 'postgres')

const entry = (lines: Line[]) => ({
  id: newId('je'),
  kind: 'fund' as const,
  currency: 'USD',
  lines,
  memo: 'statement order',
  contractId: null,
  milestoneId: null,
})

describe.skipIf(!postgres)('journal lines of one account on PostgreSQL', () => {
  const bed = storeBed(postgres!)

  it.each([
    ['in one statement', 1],
    ['too large for one statement', CHUNK + 1],
  ])('a posting %s numbers its lines only once it holds its balance rows', async (_, count) => {
    const { db } = bed
    const account = `user:usr_${tag()}:available`
    const payer = `user:usr_${tag()}:available`
    await db.transaction().execute((trx) =>
      postEntries(
        trx,
        [
          entry([
            { account: 'ext:rail', amount: -100n },
            { account: payer, amount: 100n },
          ]),
        ],
        0,
      ),
    )
    // every balance row of the rail exists, so that one transaction can hold them all
    for (let i = 0; i < BALANCE_SHARDS; i++)
      await db
        .insertInto('accounts')
        .values({ account: `ext:rail~${i}`, currency: 'USD', balance: 0n, user_id: null })
        .onConflict((oc) => oc.columns(['account', 'currency']).doNothing())
        .execute()

    // a transaction holds the rail's balance rows until it is told to end
    let release!: () => void
    const released = new Promise<void>((r) => {
      release = r
    })
    let holder = 0
    let holds!: () => void
    const holding = new Promise<void>((r) => {
      holds = r
    })
    const held = db.transaction().execute(async (trx) => {
      await sql`select 1 from accounts where account like 'ext:rail~%' and currency = 'USD' for update`.execute(trx)
      holder = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0]!.pid
      holds()
      await released
    })
    await Promise.race([holding, held])

    // a posting of `count` lines to the account (one, or more than one statement takes) waits for a rail row
    const waiting = entry([
      { account: 'ext:rail', amount: -BigInt(count) },
      ...Array.from({ length: count }, () => ({ account, amount: 1n })),
    ])
    const posting = db.transaction().execute((trx) => postEntries(trx, [waiting], 0))
    // meanwhile a small posting to the same account, which needs nothing the holder holds, commits
    const small = entry([
      { account: payer, amount: -1n },
      { account, amount: 1n },
    ])
    // the holder lets go whatever happens here, so that a failure cannot leave both transactions waiting
    try {
      const deadline = Date.now() + 10_000
      for (;;) {
        const { rows } = await sql<{ n: number }>`
          select count(*)::int as n from pg_stat_activity where ${holder}::int = any(pg_blocking_pids(pid))`.execute(db)
        if (rows[0]!.n > 0) break
        if (Date.now() > deadline) throw new Error('the posting never waited for the rail')
        await new Promise((r) => setTimeout(r, 20))
      }
      await db.transaction().execute((trx) => postEntries(trx, [small], 0))
    } finally {
      release()
    }
    await held
    await posting

    const lines = await db
      .selectFrom('journal_lines')
      .select(['seq', 'entry_id'])
      .where('account', '=', account)
      .orderBy('seq')
      .execute()
    expect(lines).toHaveLength(count + 1)
    // the line that committed first comes first: a reader who saw it and paged on will see the others
    expect(lines[0]!.entry_id).toBe(small.id)
    expect(lines.slice(1).every((l) => l.entry_id === waiting.id)).toBe(true)
  })
})
