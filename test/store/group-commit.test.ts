import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run } from '../../src/app/app.ts'
import type { Actor } from '../../src/domain/types.ts'
import { startEnv, type TestEnv } from '../support/harness.ts'

const system: Actor = { kind: 'system' }

describe('group commit (SQLite)', () => {
  let env: TestEnv
  beforeAll(async () => {
    env = await startEnv('sqlite')
  })
  afterAll(async () => env.close())

  const payoutRows = async () => (await env.rt.store.db.selectFrom('payouts').select('id').execute()).map((r) => r.id)
  const insertPayout = (id: string, fail = false) =>
    run(env.rt.app, { actor: system }, async (tx) => {
      await tx.db
        .insertInto('payouts')
        .values({ id, user_id: 'usr_x', currency: 'USD', amount: 1n, status: 'paid', created_at: 0n })
        .execute()
      if (fail) throw new Error(`command ${id} fails after writing`)
      return id
    })

  it('applies commands that arrive together in one transaction, each in its own savepoint', async () => {
    const batcher = env.rt.app.batcher!
    expect(batcher).toBeDefined()
    const before = { ...batcher.stats }
    const results = await Promise.allSettled([
      insertPayout('pay_a'),
      insertPayout('pay_b', true),
      insertPayout('pay_c'),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('command pay_b fails after writing')
    expect((await payoutRows()).sort()).toEqual(['pay_a', 'pay_c'])
    expect(batcher.stats.batches - before.batches).toBe(1)
    expect(batcher.stats.commands - before.commands).toBe(3)
  })

  it('answers a caller only after its batch committed: the change is readable on a fresh connection', async () => {
    const { openSqlite } = await import('../../src/store/sqlite/sqlite-store.ts')
    await Promise.all(Array.from({ length: 20 }, (_, i) => insertPayout(`pay_n${i}`)))
    const other = await openSqlite(env.config.sqlitePath, { migrate: false })
    try {
      const rows = await other.db.selectFrom('payouts').select('id').where('id', 'like', 'pay_n%').execute()
      expect(rows).toHaveLength(20)
    } finally {
      await other.close()
    }
  })
})
