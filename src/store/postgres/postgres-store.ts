/** PostgreSQL adapter: node-postgres pool; int8 read as bigint. Any number of servers share one database. */
import { createHash } from 'node:crypto'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { Store } from '../database.ts'
import { migrateToLatest } from '../migrations.ts'
import type { DB } from '../schema.ts'

pg.types.setTypeParser(20, (v) => BigInt(v))

/**
 * Server-side prepared statements: node-postgres sends every query to be parsed and planned again unless it has a
 * name. A connection runs the same few hundred statements all day (prepared.ts compiles each once), so each
 * parameterized one is named after its text: PostgreSQL parses it once per connection and then only binds values.
 * A statement's text depends on the lengths of its lists (a command's one write has a dozen), so the texts are not
 * a fixed set: past `max` of them a connection sends new texts unnamed, and its backend's memory stays bounded.
 */
export function namedStatements(client: pg.ClientBase, max = MAX_NAMED_STATEMENTS) {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  const names = new Map<string, string>()
  ;(client as unknown as { query: (...args: unknown[]) => unknown }).query = (text: unknown, values?: unknown) => {
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0) return query(text, values)
    let name = names.get(text)
    if (!name) {
      if (names.size >= max) return query(text, values)
      name = `t${createHash('sha1').update(text).digest('base64url')}`
      names.set(text, name)
    }
    return query({ name, text, values })
  }
}

const MAX_NAMED_STATEMENTS = 1_000

export async function openPostgres(
  url: string,
  opts: { migrate?: boolean; poolSize?: number; schema?: string } = {},
): Promise<Store> {
  if (opts.schema) {
    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    try {
      await admin.query(`create schema if not exists "${opts.schema}"`)
    } finally {
      await admin.end()
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    ...(opts.schema ? { options: `-c search_path="${opts.schema}"` } : {}),
  })
  pool.on('connect', (client) => namedStatements(client))
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) })
  if (opts.migrate !== false) await migrateToLatest(db as Kysely<unknown>, 'postgres')
  return {
    db,
    caps: { dialect: 'postgres', skipLocked: true, rowLocks: true },
    async exclusive(name, fn) {
      const client = await pool.connect()
      try {
        await client.query('select pg_advisory_lock(hashtextextended($1, 0))', [name])
        try {
          return await fn()
        } finally {
          await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [name])
        }
      } finally {
        client.release()
      }
    },
    close: () => db.destroy(),
  }
}
