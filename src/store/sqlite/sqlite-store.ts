/** SQLite adapter: better-sqlite3, WAL with synchronous=FULL (a 2xx answer means the change is on disk). */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { directOnIdle, inTurn, type Store, type WriteLock } from '../database.ts'
import { migrateToLatest } from '../migrations.ts'
import type { DB } from '../schema.ts'
import { restartWal, startCheckpointer } from './checkpointer.ts'
import { withStatementCache } from './statement-cache.ts'

const BUSY_TIMEOUT_MS = 5000

/**
 * `busyTimeoutMs`: how long a statement waits for another connection's lock before SQLITE_BUSY (the command is then
 * retried). The wait blocks the thread, so two connections in one process (tests) want it short.
 */
export async function openSqlite(
  path: string,
  opts: { migrate?: boolean; busyTimeoutMs?: number } = {},
): Promise<Store> {
  const busyTimeoutMs = opts.busyTimeoutMs ?? BUSY_TIMEOUT_MS
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const raw = new Database(path)
  raw.defaultSafeIntegers(true)
  raw.pragma(`busy_timeout = ${busyTimeoutMs}`) // first: switching to WAL waits for another process opening it too
  await whileBusy(() => raw.pragma('journal_mode = WAL'))
  raw.pragma('synchronous = FULL')
  raw.pragma('foreign_keys = ON')
  // Savepoints (one per command of a group commit) keep their undo pages in a statement journal: in memory, not a
  // temp file. A 16 MiB page cache (default 2 MiB) keeps the indexes' hot pages of a growing database.
  raw.pragma('temp_store = MEMORY')
  raw.pragma('cache_size = -16384')
  const connection = withStatementCache(raw)
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: connection }) })
  directOnIdle(db, connection)
  if (opts.migrate !== false) await whileBusy(() => migrateToLatest(db as Kysely<unknown>, 'sqlite'))
  // checkpoints in a worker thread, not inside a request's COMMIT (checkpointer.ts)
  const checkpointer = path === ':memory:' ? null : await startCheckpointer(path, restartWal(raw, busyTimeoutMs))
  if (checkpointer) raw.pragma('wal_autocheckpoint = 0')
  return {
    db,
    caps: { dialect: 'sqlite', skipLocked: false, rowLocks: false },
    exclusive: inTurn(),
    sqlite: connection,
    writeLock: writeLock(raw, busyTimeoutMs),
    async close() {
      await checkpointer?.stop()
      await db.destroy() // the last connection to close checkpoints what is left
    },
  }
}

/** BEGIN IMMEDIATE without SQLite's busy wait, which would sleep inside the call (`writeTransaction`). */
function writeLock(raw: Database.Database, waitMs: number): WriteLock {
  const begin = raw.prepare('begin immediate')
  return {
    waitMs,
    tryBegin() {
      // `raw.pragma()` compiles the statement on every call, and must: SQLite applies `busy_timeout = n` when the
      // statement is compiled, so a statement prepared once does not set it again when run
      // (test/store/sqlite-write-lock.test.ts)
      raw.pragma('busy_timeout = 0')
      try {
        begin.run()
        return true
      } catch (e) {
        if (String((e as { code?: unknown }).code ?? '').startsWith('SQLITE_BUSY')) return false
        throw e
      } finally {
        raw.pragma(`busy_timeout = ${waitMs}`)
      }
    },
  }
}

/**
 * Runs a step of opening the database again while another process holds it (SQLITE_BUSY), for up to 30 s. Two
 * processes opening one file together (a server and its worker) meet where SQLite does not wait on its own: a
 * connection that read and then wants to write gets SQLITE_BUSY at once, whatever its busy timeout.
 */
async function whileBusy<T>(step: () => T | Promise<T>, forMs = 30_000): Promise<T> {
  const until = Date.now() + forMs
  for (let wait = 10; ; wait = Math.min(wait * 2, 500)) {
    try {
      return await step()
    } catch (e) {
      const code = String((e as { code?: unknown }).code ?? '')
      if (!/^SQLITE_(BUSY|LOCKED)/.test(code) || Date.now() + wait > until) throw e
      await new Promise((r) => setTimeout(r, wait))
    }
  }
}
