/**
 * Kysely's SQLite driver prepares every statement it runs. Preparing costs more than running most of Tranche's
 * statements, and a server runs the same few hundred SQL texts all day, so the database handed to Kysely keeps the
 * prepared statements it made, by SQL text, the least recently used dropped past `max`.
 */
import type BetterSqlite3 from 'better-sqlite3'

type Statement = BetterSqlite3.Statement<unknown[]>

/** The part of a better-sqlite3 database that Kysely's SqliteDialect uses. */
export interface SqliteLike {
  prepare(sql: string): Statement
  close(): unknown
  /** whether a transaction is open on the connection */
  readonly inTransaction: boolean
}

export function withStatementCache(db: BetterSqlite3.Database, max = 1_000): SqliteLike {
  const cache = new Map<string, Statement>()
  return {
    prepare(sql: string): Statement {
      let stmt = cache.get(sql)
      if (stmt) {
        // a statement still being iterated (a streamed query) cannot run twice at once: use a fresh one
        if (stmt.busy) return db.prepare(sql)
        cache.delete(sql) // re-inserted below: Map order is the recency order
      } else {
        stmt = db.prepare(sql)
        if (cache.size >= max) cache.delete(cache.keys().next().value as string)
      }
      cache.set(sql, stmt)
      return stmt
    },
    close: () => db.close(),
    get inTransaction() {
      return db.inTransaction
    },
  }
}
