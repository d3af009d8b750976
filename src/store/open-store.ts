/** The one switch point that picks the adapter: DATABASE_URL (PostgreSQL) wins over the SQLite path. */
import type { Store } from './database.ts'

export async function openStore(cfg: {
  databaseUrl: string | null
  sqlitePath: string
  schema?: string
}): Promise<Store> {
  if (cfg.databaseUrl) {
    const { openPostgres } = await import('./postgres/postgres-store.ts')
    return openPostgres(cfg.databaseUrl, cfg.schema ? { schema: cfg.schema } : {})
  }
  const { openSqlite } = await import('./sqlite/sqlite-store.ts')
  return openSqlite(cfg.sqlitePath)
}
