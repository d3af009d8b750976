/** Paging of lists newest first, by (created_at, id): the order of every list of objects (offers, payouts, keys…). */
import { type SqlBool, sql } from 'kysely'

/** The rows that come after `cursor` in that order (the caller looked the cursor up among the caller's own). */
export const afterCursor = (cursor: { created_at: unknown; id: string }) =>
  sql<SqlBool>`(created_at < ${cursor.created_at} or (created_at = ${cursor.created_at} and id < ${cursor.id}))`
