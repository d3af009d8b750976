/**
 * SQLite statements that bypass Kysely's connection lock (store/database.ts, `directConnection`): a write
 * transaction's handle runs its statements on the connection directly, and so does the database's own handle while
 * no transaction is open — never inside one, where a request's read would see a command's uncommitted work.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { directConnection, type Store, writeTransaction } from '../../src/store/database.ts'
import { prepared } from '../../src/store/prepared.ts'
import { openSqlite } from '../../src/store/sqlite/sqlite-store.ts'

const clockRow = prepared((db, a: { id: number }) =>
  db.selectFrom('clock').select(['id', 'now']).where('id', '=', a.id),
)
const insertClock = prepared((db, a: { id: number; now: bigint }) => db.insertInto('clock').values(a))

/** Lets every pending promise continuation and I/O callback run a few times over. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
}

describe('direct SQLite statements', () => {
  let dir: string
  let store: Store

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tranche-direct-'))
    store = await openSqlite(join(dir, 'tranche.db'))
  })

  afterAll(async () => {
    await store?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it("runs a write transaction's statements directly, and the database's own only outside a transaction", async () => {
    expect(directConnection(store.db)).toBeDefined()
    let inside: ReturnType<typeof directConnection>
    await writeTransaction(store, async (trx) => {
      inside = directConnection(trx)
      // the connection is in a transaction now: the database's own handle must wait for it, through Kysely
      expect(directConnection(store.db)).toBeUndefined()
    })
    expect(inside).toBeDefined()
    expect(directConnection(store.db)).toBeDefined()
    // a handle with plugins (tests that watch queries) always goes through Kysely
    const watched = store.db.withPlugin({ transformQuery: (a) => a.node, transformResult: async (a) => a.result })
    expect(directConnection(watched)).toBeUndefined()
  })

  it('keeps a read outside a transaction from seeing it, while it waits (for the payment rail) and after it rolls back', async () => {
    let release = () => {}
    let written = () => {}
    const wrote = new Promise<void>((r) => (written = r))
    const command = writeTransaction(store, async (trx) => {
      await insertClock(trx, { id: 7, now: 123n })
      expect((await clockRow(trx, { id: 7 })).rows).toHaveLength(1) // the transaction sees its own write
      written()
      await new Promise<void>((r) => (release = r)) // an awaited call outside the database, as a rail charge
      throw new Error('the rail declined')
    })
    await wrote
    let answer: unknown[] | null = null
    const read = clockRow(store.db, { id: 7 }).then((r) => (answer = r.rows))
    await settle()
    expect(answer).toBeNull() // it waits for the transaction: it did not run inside it
    release()
    await expect(command).rejects.toThrow('the rail declined')
    await read
    expect(answer).toEqual([]) // and the rolled-back row was never there for it
    expect((await clockRow(store.db, { id: 7 })).rows).toEqual([])
  })

  it('answers a direct statement as Kysely would', async () => {
    const res = await insertClock(store.db, { id: 8, now: 2n ** 60n })
    expect(res.numAffectedRows).toBe(1n)
    expect(typeof res.insertId).toBe('bigint')
    expect((await clockRow(store.db, { id: 8 })).rows).toEqual([{ id: 8n, now: 2n ** 60n }])
  })
})
