/**
 * A worker process of its own on the SQLite file of a server: its timer claims wait for the server's write lock (a
 * group-commit batch, say one whose command awaits the payment rail) for `busy_timeout`, as its other statements do.
 * A claim that read in a deferred transaction and then wrote would fail at once: SQLite does not wait for a read
 * transaction that wants to write.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Kysely } from 'kysely'
import { describe, expect, it } from 'vitest'
import { applyTimers, claimDue } from '../../src/store/repos/timer-repo.ts'
import { openSqlite } from '../../src/store/sqlite/sqlite-store.ts'

const require = createRequire(import.meta.url)

/** Another process (the server) holding the write lock for `ms`, as a batch does while a command awaits the rail. */
function holdWriteLock(path: string, ms: number) {
  const script = `
    const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))})
    const db = new Database(${JSON.stringify(path)})
    db.pragma('busy_timeout = 5000')
    db.exec('begin immediate')
    db.exec("update clock set now = now")
    process.stdout.write('locked\\n')
    setTimeout(() => { db.exec('commit'); db.close(); process.exit(0) }, ${ms})
  `
  const p = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  const locked = new Promise<void>((resolve) => p.stdout!.on('data', () => resolve()))
  const exited = new Promise<void>((resolve) => p.on('exit', () => resolve()))
  return { locked, exited }
}

describe('opening the database while another process writes', () => {
  it('waits past its busy timeout for the other process, instead of failing the start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tranche-open-'))
    const path = join(dir, 'tranche.db')
    try {
      await (await openSqlite(path)).close()
      const server = holdWriteLock(path, 500)
      await server.locked
      // a 50 ms busy timeout: the migration's BEGIN IMMEDIATE gives up long before the other process commits
      const store = await openSqlite(path, { busyTimeoutMs: 50 })
      await server.exited
      // opened, migrated (nothing left to do) and usable
      const applied = await (store.db as unknown as Kysely<{ kysely_migration: { name: string } }>)
        .selectFrom('kysely_migration')
        .select('name')
        .execute()
      expect(applied.length).toBeGreaterThan(0)
      await store.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('timer claims of a separate SQLite worker process', () => {
  it('waits for the server’s write lock (busy_timeout) instead of failing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rv-claim-'))
    const path = join(dir, 'tranche.db')
    const store = await openSqlite(path)
    try {
      await store.db.insertInto('clock').values({ id: 1, now: 0n }).execute()
      await applyTimers(
        store.db,
        { set: [{ key: 'dormancy:ms_x', kind: 'dormancy', runAt: 10, payload: {} }], cancel: [] },
        1,
      )
      const server = holdWriteLock(path, 500)
      await server.locked
      let outcome: string
      try {
        const got = await claimDue(store, { now: 1_000, limit: 10, owner: 'w', realNow: Date.now(), leaseMs: 60_000 })
        outcome = `claimed ${got.map((t) => t.key).join(',')}`
      } catch (e) {
        outcome = `failed: ${(e as { code?: string }).code} ${(e as Error).message}`
      }
      await server.exited
      // the same statement outside a read transaction waits for the lock like any other
      expect(outcome).toBe('claimed dormancy:ms_x')
    } finally {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
