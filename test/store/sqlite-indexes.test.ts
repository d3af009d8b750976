/**
 * The journal's account index on SQLite (migration 005): it carries each line's amount, so that `verify`'s sums per
 * account — a read of every line — come from the index alone, and it still orders an account's lines by number, so
 * that a statement's page is read in order without sorting. Checked on the query plans, not on timings.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '../../src/store/database.ts'
import { openSqlite } from '../../src/store/sqlite/sqlite-store.ts'

describe('the journal lines account index on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tranche-indexes-'))
  let store: Store
  beforeAll(async () => {
    store = await openSqlite(join(dir, 'tranche.db'))
  })
  afterAll(async () => {
    await store?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const plan = async (query: string) =>
    (await sql<{ detail: string }>`explain query plan ${sql.raw(query)}`.execute(store.db)).rows
      .map((r) => r.detail)
      .join(' | ')

  it("answers verify's sums per account from the index alone", async () => {
    const p = await plan(
      'select account, currency, sum(amount) as total, count(*) as n from journal_lines group by account, currency',
    )
    expect(p).toMatch(/USING COVERING INDEX journal_lines_account/)
    expect(p).not.toMatch(/TEMP B-TREE/)
  })

  it("reads a statement's lines in order from it", async () => {
    const p = await plan(
      "select seq, amount from journal_lines where account = 'user:usr_x:available' and currency = 'USD' and seq > 5 order by seq limit 10",
    )
    expect(p).toMatch(/USING (COVERING )?INDEX journal_lines_account/)
    expect(p).not.toMatch(/TEMP B-TREE/)
  })
})
