/**
 * WAL checkpoints in a worker thread (src/store/sqlite/checkpointer.ts): the main connection never checkpoints, yet
 * under a stream of commits the WAL is copied back and restarted, so it stays short, and nothing is lost.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { restartWal, startCheckpointer } from '../../src/store/sqlite/checkpointer.ts'
import { openSqlite } from '../../src/store/sqlite/sqlite-store.ts'

const dirs: string[] = []
const tempDb = () => {
  const dir = mkdtempSync(join(tmpdir(), 'tranche-ckpt-'))
  dirs.push(dir)
  return join(dir, 'test.db')
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

const walBytes = (path: string) => statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0

describe('the WAL checkpointer', () => {
  it('keeps the WAL short while commits come with pauses between them (as a server does)', async () => {
    const path = tempDb()
    const db = new Database(path)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.pragma('wal_autocheckpoint = 0')
    db.exec('create table t (id integer primary key, v text not null)')
    let asked = 0
    const restart = restartWal(db, 5000)
    const checkpointer = await startCheckpointer(
      path,
      (tried) => {
        asked++
        restart(tried)
      },
      5,
      64,
    ) // restart past 64 pages
    const insert = db.prepare('insert into t (v) values (?)')
    const payload = 'x'.repeat(4000) // about a page a row
    let largest = 0
    for (let i = 0; i < 3000; i++) {
      insert.run(payload)
      if (i % 10 === 0) {
        largest = Math.max(largest, walBytes(path))
        await new Promise((r) => setTimeout(r, 1))
      }
    }
    await checkpointer.stop()
    expect(asked).toBeGreaterThan(0)
    // 3,000 commits of a page or more: without checkpoints the WAL would hold them all (over 12 MB)
    expect(largest).toBeGreaterThan(0)
    expect(largest).toBeLessThan(4_000_000)
    expect((db.prepare('select count(*) as n from t').get() as { n: number }).n).toBe(3000)
    db.close()
    const again = new Database(path, { readonly: true })
    expect((again.prepare('select count(*) as n from t').get() as { n: number }).n).toBe(3000)
    again.close()
  })

  it('waits for an open transaction without spinning, then restarts the WAL', async () => {
    const db = new Database(tempDb())
    db.pragma('journal_mode = WAL')
    let looks = 0
    const pragmas: string[] = []
    const restart = restartWal(
      {
        get inTransaction() {
          looks++
          return db.inTransaction
        },
        get open() {
          return db.open
        },
        pragma: (source: string) => {
          pragmas.push(source)
          return db.pragma(source)
        },
      },
      5000,
    )
    db.exec('begin immediate')
    restart()
    await new Promise((r) => setTimeout(r, 100)) // a command waiting on a slow answer inside its transaction
    expect(pragmas).toEqual([])
    // a few looks a millisecond at most (setImmediate would look tens of thousands of times in 100 ms)
    expect(looks).toBeGreaterThan(0)
    expect(looks).toBeLessThan(300)
    db.exec('commit')
    await new Promise((r) => setTimeout(r, 20))
    expect(pragmas).toContain('wal_checkpoint(RESTART)')
    db.close()
  })

  it('keeps the WAL bounded when commits come back to back, with only rare turns of the event loop', async () => {
    const path = tempDb()
    const db = new Database(path)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.pragma('wal_autocheckpoint = 0')
    db.exec('create table t (id integer primary key, v text not null)')
    const busy: number[] = [] // each RESTART's answer: 1 when it found another checkpoint running
    const connection = {
      get inTransaction() {
        return db.inTransaction
      },
      get open() {
        return db.open
      },
      pragma: (source: string) => {
        const r = db.pragma(source)
        if (source === 'wal_checkpoint(RESTART)') busy.push((r as { busy: number }[])[0]!.busy)
        return r
      },
    }
    const checkpointer = await startCheckpointer(path, restartWal(connection, 5000), 5, 64)
    const insert = db.prepare('insert into t (v) values (?)')
    const payload = 'x'.repeat(4000)
    let largest = 0
    for (let i = 0; i < 6000; i++) {
      insert.run(payload) // back to back: a RESTART rarely finds the writer between two commits
      if (i % 200 === 0) {
        largest = Math.max(largest, walBytes(path))
        await new Promise((r) => setImmediate(r)) // lets the worker's messages in, as the event loop would
      }
    }
    await checkpointer.stop()
    // without a restart the WAL would hold all 6,000 commits (over 24 MB)
    expect(largest).toBeLessThan(8_000_000)
    // the worker waits while the main thread restarts the WAL: no RESTART meets its PASSIVE checkpoint (before it
    // waited, one in four or five did, and the WAL grew past 8 MB in one run of three)
    expect(busy.length).toBeGreaterThan(5)
    expect(busy.filter((b) => b !== 0)).toEqual([])
    expect((db.prepare('select count(*) as n from t').get() as { n: number }).n).toBe(6000)
    db.close()
  })

  it('runs beside every file store and stops with it; the last close leaves no WAL behind', async () => {
    const path = tempDb()
    const store = await openSqlite(path)
    const raw = new Database(path)
    expect(raw.pragma('wal_autocheckpoint', { simple: true })).toBe(1000) // another connection: SQLite's default
    raw.close()
    await store.db.insertInto('clock').values({ id: 7, now: 1n }).execute()
    await store.close()
    expect(walBytes(path)).toBe(0)
  })
})
