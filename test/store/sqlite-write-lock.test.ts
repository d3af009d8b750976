/**
 * The SQLite write lock (`Store.writeLock`): BEGIN IMMEDIATE without SQLite's busy wait, which would stop the event
 * loop inside the call. It answers at once, and the connection keeps its busy timeout for every other statement.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Store } from '../../src/store/database.ts'
import { openSqlite } from '../../src/store/sqlite/sqlite-store.ts'

const WAIT_MS = 1_234

describe('SQLite write lock', () => {
  let dir: string
  let path: string
  let store: Store
  let busyTimeout: () => unknown
  let run: (sql: string) => void

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tranche-write-lock-'))
    path = join(dir, 'tranche.db')
    store = await openSqlite(path, { busyTimeoutMs: WAIT_MS })
    const sqlite = store.sqlite!
    // SQLite reads (and sets) the busy timeout when a PRAGMA is compiled, not when it runs: a fresh text each time
    // keeps the statement cache from answering with the value of an earlier compilation
    let reads = 0
    busyTimeout = () => (sqlite.prepare(`PRAGMA busy_timeout -- ${reads++}`).get() as Record<string, unknown>).timeout
    run = (sql) => sqlite.prepare(sql).run()
  })

  afterAll(async () => {
    await store?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('begins a write transaction and leaves the busy timeout as configured', () => {
    const lock = store.writeLock!
    expect(lock.waitMs).toBe(WAIT_MS)
    expect(store.sqlite!.inTransaction).toBe(false)
    expect(lock.tryBegin()).toBe(true)
    try {
      expect(store.sqlite!.inTransaction).toBe(true)
      expect(busyTimeout()).toBe(BigInt(WAIT_MS))
    } finally {
      run('rollback')
    }
  })

  it('answers false at once while another connection holds the lock, and the busy timeout is restored', () => {
    const other = new Database(path)
    try {
      other.prepare('begin immediate').run()
      const start = performance.now()
      expect(store.writeLock!.tryBegin()).toBe(false)
      expect(performance.now() - start).toBeLessThan(WAIT_MS / 2) // did not sleep in SQLite's busy handler
      expect(store.sqlite!.inTransaction).toBe(false)
      expect(busyTimeout()).toBe(BigInt(WAIT_MS))
      other.prepare('commit').run()
      expect(store.writeLock!.tryBegin()).toBe(true)
      run('rollback')
    } finally {
      other.close()
    }
  })
})
