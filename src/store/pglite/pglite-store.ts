/**
 * PostgreSQL in process: PGlite (PostgreSQL compiled to WebAssembly) behind a small pool-shaped adapter for Kysely's
 * `PostgresDialect`, so the same SQL, migrations and capability flags as the server adapter run without a server
 * (tests, demos). PGlite is one connection: a FIFO mutex hands it to one Kysely connection at a time, from
 * `connect()` to `release()`, so a transaction's BEGIN … COMMIT never interleaves with another command's queries.
 */
import { PGlite } from '@electric-sql/pglite'
import {
  Kysely,
  type PostgresCursor,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  type PostgresQueryResult,
} from 'kysely'
import { inTurn, type Store } from '../database.ts'
import { migrateToLatest } from '../migrations.ts'
import type { DB } from '../schema.ts'

const INT8 = 20

/** A FIFO lock: `acquire` resolves with the function that hands the lock to the next waiter. */
class Mutex {
  private tail: Promise<void> = Promise.resolve()

  acquire(): Promise<() => void> {
    let unlock!: () => void
    const held = new Promise<void>((resolve) => {
      unlock = resolve
    })
    const turn = this.tail.then(() => unlock)
    this.tail = this.tail.then(() => held)
    return turn
  }
}

/** One lease of the single PGlite connection; unusable after `release`. */
class PgliteClient implements PostgresPoolClient {
  private released = false

  constructor(
    private readonly pg: PGlite,
    private readonly unlock: () => void,
  ) {}

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>
  query<R>(
    sql: string | PostgresCursor<R>,
    parameters?: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    if (typeof sql !== 'string') throw new Error('the PGlite adapter does not stream (no cursor support)')
    return this.run<R>(sql, parameters ?? [])
  }

  private async run<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
    if (this.released) throw new Error('query on a released PGlite connection')
    const r = await this.pg.query<R>(sql, [...parameters])
    // Kysely reads `command` (COMMIT answered by ROLLBACK means an aborted transaction) and `rowCount` (affected rows).
    return {
      command: (r.command ?? 'SELECT') as PostgresQueryResult<R>['command'],
      rowCount: r.rowCount ?? r.affectedRows ?? 0,
      rows: r.rows,
    }
  }

  release(destroy?: boolean): void {
    if (this.released) return
    this.released = true
    // pg would close a connection that is discarded or left inside a transaction, and the server would roll it back;
    // with one shared connection we roll back ourselves before the next lease.
    if (destroy || this.pg.isInTransaction()) {
      this.pg.query('rollback').then(this.unlock, this.unlock)
      return
    }
    this.unlock()
  }
}

function pglitePool(pg: PGlite): PostgresPool {
  const mutex = new Mutex()
  let ended = false
  return {
    async connect() {
      if (ended) throw new Error('the PGlite database is closed')
      const unlock = await mutex.acquire()
      if (ended) {
        unlock()
        throw new Error('the PGlite database is closed')
      }
      return new PgliteClient(pg, unlock)
    },
    async end() {
      if (ended) return
      ended = true
      const unlock = await mutex.acquire()
      try {
        await pg.close()
      } finally {
        unlock()
      }
    },
  }
}

/** Opens a fresh in-memory PostgreSQL (PGlite); int8 reads back as `bigint`, as with the server adapter. */
export async function openPglite(opts: { migrate?: boolean } = {}): Promise<Store> {
  const pg = await PGlite.create({ parsers: { [INT8]: (v: string) => BigInt(v) } })
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: pglitePool(pg) }) })
  if (opts.migrate !== false) {
    try {
      await migrateToLatest(db as Kysely<unknown>, 'postgres')
    } catch (e) {
      await db.destroy()
      throw e
    }
  }
  return {
    db,
    caps: { dialect: 'postgres', skipLocked: true, rowLocks: true },
    exclusive: inTurn(), // one connection, in this process only
    close: () => db.destroy(),
  }
}
