/**
 * Idempotency keys (SPEC §10), per user: a key is claimed (`in_flight`) before the command runs, and its response
 * is stored in the command's own transaction. A claim whose command never committed (a crash) goes stale and can
 * be taken over.
 */
import type { Kysely } from 'kysely'
import { isUniqueViolation } from '../database.ts'
import { type DB, num } from '../schema.ts'

export const STALE_CLAIM_MS = 60_000

export type Claim =
  | { readonly kind: 'claimed' }
  | { readonly kind: 'replay'; readonly status: number; readonly body: string }
  | { readonly kind: 'reused' }
  | { readonly kind: 'in_use' }

export async function claimKey(
  db: Kysely<DB>,
  userId: string,
  key: string,
  hash: string,
  realNow: number,
): Promise<Claim> {
  try {
    await db
      .insertInto('idempotency_keys')
      .values({ user_id: userId, key, request_hash: hash, status: 'in_flight', created_at: BigInt(realNow) })
      .execute()
    return { kind: 'claimed' }
  } catch (e) {
    if (!isUniqueViolation(e)) throw e
  }
  const row = await db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('user_id', '=', userId)
    .where('key', '=', key)
    .executeTakeFirst()
  if (!row) return claimKey(db, userId, key, hash, realNow)
  if (row.request_hash !== hash) return { kind: 'reused' }
  if (row.status === 'done') return { kind: 'replay', status: num(row.response_status), body: row.response_body ?? '' }
  if (realNow - num(row.created_at) > STALE_CLAIM_MS) {
    const res = await db
      .updateTable('idempotency_keys')
      .set({ created_at: BigInt(realNow) })
      .where('user_id', '=', userId)
      .where('key', '=', key)
      .where('status', '=', 'in_flight')
      .where('created_at', '=', row.created_at)
      .executeTakeFirst()
    if (Number(res.numUpdatedRows) === 1) return { kind: 'claimed' }
  }
  return { kind: 'in_use' }
}

/** Stores the response; runs inside the command's transaction. */
export async function completeKey(db: Kysely<DB>, userId: string, key: string, status: number, body: string) {
  await db
    .updateTable('idempotency_keys')
    .set({ status: 'done', response_status: status, response_body: body })
    .where('user_id', '=', userId)
    .where('key', '=', key)
    .execute()
}

/** Frees a claim whose command failed, so the key may be used again. */
export async function releaseKey(db: Kysely<DB>, userId: string, key: string) {
  await db
    .deleteFrom('idempotency_keys')
    .where('user_id', '=', userId)
    .where('key', '=', key)
    .where('status', '=', 'in_flight')
    .execute()
}

/** Keys are kept at least 24 hours (SPEC §10); older ones are removed. */
export async function pruneKeys(db: Kysely<DB>, olderThanReal: number) {
  await db.deleteFrom('idempotency_keys').where('created_at', '<', BigInt(olderThanReal)).execute()
}
