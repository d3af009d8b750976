/**
 * The store port: a Kysely database over one of two adapters, with the capability flags that let the rest of the
 * code stay dialect-free, and the one place where driver errors are classified.
 */
import { type Kysely, PostgresAdapter, type QueryResult, sql } from 'kysely'
import type { DB } from './schema.ts'
import type { SqliteLike } from './sqlite/statement-cache.ts'

export interface Capabilities {
  readonly dialect: 'sqlite' | 'postgres'
  /** `FOR UPDATE SKIP LOCKED` for claiming work among several processes */
  readonly skipLocked: boolean
  /** row locks (`FOR UPDATE`) exist; SQLite has one writer at a time instead */
  readonly rowLocks: boolean
}

export interface Store {
  readonly db: Kysely<DB>
  readonly caps: Capabilities
  /** SQLite: its one connection, on which a write transaction runs its statements directly (`directConnection`) */
  readonly sqlite?: SqliteLike
  /** SQLite: BEGIN IMMEDIATE on that connection without waiting for another process (see `writeTransaction`) */
  readonly writeLock?: WriteLock
  /**
   * Runs `fn` while no one else using the database runs one under the same `name`: on PostgreSQL, where several
   * servers share the database, under a session advisory lock on a connection of its own; on SQLite and PGlite,
   * which one process has to itself, in turn within the process (`inTurn`).
   */
  exclusive<T>(name: string, fn: () => Promise<T>): Promise<T>
  close(): Promise<void>
}

export interface WriteLock {
  /** BEGIN IMMEDIATE; false, with nothing begun, when another connection holds the write lock */
  tryBegin(): boolean
  /** how long a write transaction waits for the lock before failing as busy (the connection's busy timeout) */
  readonly waitMs: number
}

/** `Store.exclusive` for a database that one process has to itself: the calls under one name run in turn. */
export function inTurn(): Store['exclusive'] {
  const last = new Map<string, Promise<unknown>>()
  return (name, fn) => {
    const run = (last.get(name) ?? Promise.resolve()).then(fn)
    last.set(
      name,
      run.catch(() => undefined),
    )
    return run
  }
}

/** The closed set of storage failures the application reacts to. */
export type StorageFailure = 'unique_violation' | 'serialization' | 'connection' | 'other'

export class StoreError extends Error {
  constructor(
    readonly kind: StorageFailure,
    message: string,
    readonly detail?: unknown,
  ) {
    super(message)
    this.name = 'StoreError'
  }
}

/** Maps a driver error (better-sqlite3 or pg) to a StorageFailure. */
export function classify(error: unknown): StorageFailure {
  const e = error as { code?: string; message?: string }
  const code = e?.code ?? ''
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505')
    return 'unique_violation'
  if (
    code === 'SQLITE_BUSY' ||
    code === 'SQLITE_BUSY_SNAPSHOT' ||
    code === 'SQLITE_LOCKED' ||
    code === '40001' ||
    code === '40P01'
  ) {
    return 'serialization'
  }
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === '57P01' || code.startsWith('08')) return 'connection'
  return 'other'
}

export function isUniqueViolation(error: unknown): boolean {
  return classify(error) === 'unique_violation'
}

/**
 * Whether one statement can write several tables (PostgreSQL runs data-modifying statements inside WITH; SQLite does
 * not): a command then sends fewer statements, and on PostgreSQL each statement is a round trip.
 */
export const writesInWith = (db: Kysely<DB>): boolean => db.getExecutor().adapter instanceof PostgresAdapter

/**
 * One write transaction. On SQLite it starts with BEGIN IMMEDIATE: the write lock is taken before the command reads,
 * so another connection (a separate worker process) can never commit under it and force a retry after the command
 * already called the payment rail. While another process holds that lock, the transaction waits between turns of
 * the event loop, with the connection free for reads, for up to the busy timeout: SQLite's own busy wait sleeps
 * inside the call, and the server's one thread would stop answering anyone for as long as the other process writes.
 * On PostgreSQL, an ordinary transaction (commands lock the rows they change).
 */
export async function writeTransaction<T>(store: Store, fn: (trx: Kysely<DB>) => Promise<T>): Promise<T> {
  if (store.caps.dialect !== 'sqlite') return store.db.transaction().execute(fn)
  const lock = store.writeLock
  if (!lock) throw new Error('a SQLite store without its write lock')
  const until = Date.now() + lock.waitMs
  for (;;) {
    const done = await sqliteTransaction(store, lock, fn)
    if (done !== BUSY) return done as T
    if (Date.now() >= until) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })
    // every millisecond (a try costs ~20 µs): a longer pause leaves the lock free and unused — two servers on one
    // file, backing off up to 16 ms, made 20-35 % fewer operations than with 1 ms
    await new Promise((r) => setTimeout(r, 1))
  }
}

/**
 * A write outside any command (a sign-up, a session, a deletion): on SQLite in a write transaction of its own, so it
 * waits for another process's write lock as commands do, without stopping the thread; on PostgreSQL a statement on
 * its own (autocommit).
 */
export function writeOnce<T>(store: Store, fn: (db: Kysely<DB>) => Promise<T>): Promise<T> {
  return store.caps.dialect === 'sqlite' ? writeTransaction(store, fn) : fn(store.db)
}

const BUSY: unique symbol = Symbol('busy')

/** The transaction on the one connection, or BUSY when its BEGIN could not have the write lock at once. */
async function sqliteTransaction<T>(
  store: Store,
  lock: WriteLock,
  fn: (trx: Kysely<DB>) => Promise<T>,
): Promise<T | typeof BUSY> {
  return store.db.connection().execute(async (conn) => {
    if (store.sqlite) holders.set(conn, store.sqlite)
    try {
      if (!lock.tryBegin()) return BUSY
      try {
        const value = await fn(conn)
        await runSql(conn, 'commit')
        return value
      } catch (e) {
        await runSql(conn, 'rollback').catch(() => undefined)
        throw e
      }
    } finally {
      holders.delete(conn)
    }
  })
}

/**
 * Statements that run on the SQLite connection directly. Kysely passes each statement through its connection
 * provider, a lock that keeps other requests' statements from running inside an open transaction, and a chain of
 * promises around each. better-sqlite3 is synchronous, so a statement can run directly where that lock has nothing
 * to keep out: on the handle of a write transaction while it runs (it holds the one connection; a group commit's
 * batch runs ~40 statements a mix cycle), and on the database's own handle while no transaction is open on the
 * connection — the statement then runs and ends before anything else can (prepared.ts).
 */
const holders = new WeakMap<Kysely<DB>, SqliteLike>()
const roots = new WeakMap<Kysely<DB>, SqliteLike>()

/** Marks `db` as the handle of the SQLite database whose one connection is `connection` (see `holders`). */
export function directOnIdle(db: Kysely<DB>, connection: SqliteLike) {
  roots.set(db, connection)
}

/** The connection a statement on `db` may run on directly now, if any (see `holders`); never with plugins. */
export function directConnection(db: Kysely<DB>): SqliteLike | undefined {
  let c = holders.get(db)
  if (!c) {
    const root = roots.get(db)
    if (root && !root.inTransaction) c = root
  }
  return c && !db.getExecutor().plugins.length ? c : undefined
}

/** Runs `sql` on a connection as Kysely's SQLite driver does, and answers as it would. */
export function runOn(c: SqliteLike, text: string, parameters: readonly unknown[]): QueryResult<never> {
  const stmt = c.prepare(text)
  if (stmt.reader) return { rows: stmt.all(parameters) as never[] }
  const { changes, lastInsertRowid } = stmt.run(parameters)
  return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] }
}

/** A statement without parameters (savepoints, BEGIN, COMMIT), directly where the handle holds the connection. */
export async function runSql(db: Kysely<DB>, text: string): Promise<void> {
  const c = holders.get(db) && directConnection(db)
  if (c) runOn(c, text, [])
  else await sql.raw(text).execute(db)
}
