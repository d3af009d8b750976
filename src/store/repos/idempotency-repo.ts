/**
 * Idempotency keys (SPEC §10), per user: a key is claimed (`in_flight`) before the command runs, and its response
 * is stored in the command's own transaction. A claim whose command never committed (a crash) goes stale and can
 * be taken over.
 */
import { type Kysely, sql } from 'kysely'
import { DomainError } from '../../domain/errors.ts'
import { isUniqueViolation } from '../database.ts'
import { type DB, num } from '../schema.ts'

export const STALE_CLAIM_MS = 60_000

export type Claim =
  | { readonly kind: 'claimed'; readonly release?: () => void }
  | { readonly kind: 'replay'; readonly status: number; readonly body: string }
  | { readonly kind: 'reused' }
  | { readonly kind: 'in_use' }

export async function claimKey(
  db: Kysely<DB>,
  userId: string,
  key: string,
  hash: string,
  realNow: number,
  rowLocks = false,
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
  if (!row) return claimKey(db, userId, key, hash, realNow, rowLocks)
  if (row.request_hash !== hash) return { kind: 'reused' }
  if (row.status === 'done') return { kind: 'replay', status: num(row.response_status), body: row.response_body ?? '' }
  if (realNow - num(row.created_at) > STALE_CLAIM_MS) {
    // On PostgreSQL a command holds an advisory lock on its key for its whole transaction (lockKey): a claim is
    // taken over only when no transaction holds it — the command died — however long a live one takes.
    const takeOver = async (trx: Kysely<DB>) => {
      if (rowLocks && !(await tryLockKey(trx, userId, key))) return false
      const res = await trx
        .updateTable('idempotency_keys')
        .set({ created_at: BigInt(realNow) })
        .where('user_id', '=', userId)
        .where('key', '=', key)
        .where('status', '=', 'in_flight')
        .where('created_at', '=', row.created_at)
        .executeTakeFirst()
      return Number(res.numUpdatedRows) === 1
    }
    if (await db.transaction().execute(takeOver)) return { kind: 'claimed' }
  }
  return { kind: 'in_use' }
}

const lockId = (userId: string, key: string) => sql`hashtextextended(${`idem:${userId}:${key}`}, 0)`

/** Holds the key's advisory lock until the command's transaction ends (PostgreSQL). */
export async function lockKey(db: Kysely<DB>, userId: string, key: string) {
  await sql`select pg_advisory_xact_lock(${lockId(userId, key)})`.execute(db)
}

/** Takes the key's advisory lock for this transaction if no other transaction holds it (PostgreSQL). */
export async function tryLockKey(db: Kysely<DB>, userId: string, key: string): Promise<boolean> {
  const r = await sql<{ ok: boolean }>`select pg_try_advisory_xact_lock(${lockId(userId, key)}) as ok`.execute(db)
  return r.rows[0]?.ok === true
}

/** Stores the response; runs inside the command's transaction (the claim row may or may not exist yet). */
export async function completeKey(
  db: Kysely<DB>,
  userId: string,
  key: string,
  status: number,
  body: string,
  hash = '',
) {
  const res = await db
    .insertInto('idempotency_keys')
    .values({
      user_id: userId,
      key,
      request_hash: hash,
      status: 'done',
      response_status: status,
      response_body: body,
      created_at: BigInt(Date.now()),
    })
    .onConflict((oc) =>
      oc
        .columns(['user_id', 'key'])
        .doUpdateSet({ status: 'done', response_status: status, response_body: body })
        .where('idempotency_keys.status', '=', 'in_flight'),
    )
    .executeTakeFirst()
  // Another server finished this key first (two processes on one SQLite file): undo this run of the command.
  if (Number(res.numInsertedOrUpdatedRows ?? 0n) !== 1) {
    throw new DomainError(
      'idempotency_key_in_use',
      'A request with this Idempotency-Key was completed by another server.',
    )
  }
}
/** How a server claims keys in flight. */
export interface KeyClaims {
  claim(userId: string, key: string, hash: string, realNow: number): Promise<Claim>
  release(userId: string, key: string): Promise<void>
}

/** Claims as rows (PostgreSQL): visible to every server sharing the database. */
export const rowClaims = (db: Kysely<DB>): KeyClaims => ({
  claim: (userId, key, hash, realNow) => claimKey(db, userId, key, hash, realNow, true),
  release: (userId, key) => releaseKey(db, userId, key),
})

/**
 * Claims in memory (SQLite, one server process per database file): a key in flight is known to this process only,
 * and the finished answer is stored by the command's own transaction — so a keyed request costs no commit of its
 * own, and group commit keeps its single fsync.
 */
export function localClaims(db: Kysely<DB>): KeyClaims {
  const inFlight = new Map<string, string>()
  return {
    async claim(userId, key, hash) {
      const id = `${userId}\u0000${key}`
      const busy = inFlight.get(id)
      if (busy !== undefined) return busy === hash ? { kind: 'in_use' } : { kind: 'reused' }
      inFlight.set(id, hash)
      const row = await db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('user_id', '=', userId)
        .where('key', '=', key)
        .executeTakeFirst()
      if (!row) return { kind: 'claimed', release: () => inFlight.delete(id) }
      inFlight.delete(id)
      if (row.request_hash !== hash) return { kind: 'reused' }
      return { kind: 'replay', status: num(row.response_status), body: row.response_body ?? '' }
    },
    async release(userId, key) {
      inFlight.delete(`${userId}\u0000${key}`)
    },
  }
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
