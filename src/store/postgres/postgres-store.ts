/** PostgreSQL adapter: node-postgres pool; int8 read as bigint. Any number of servers share one database. */
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import type { Store } from '../database.ts'
import { migrateToLatest } from '../migrations.ts'
import type { DB } from '../schema.ts'

pg.types.setTypeParser(20, (v) => BigInt(v))

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
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) })
  if (opts.migrate !== false) await migrateToLatest(db as Kysely<unknown>, 'postgres')
  return {
    db,
    caps: { dialect: 'postgres', skipLocked: true, rowLocks: true },
    close: () => db.destroy(),
  }
}
