/**
 * Durable timers: one row per key, written in the command's transaction. Workers claim due rows with a lease
 * (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer at a time), run them, and delete them.
 */
import type { Kysely, OnConflictBuilder } from 'kysely'
import type { TimerChanges, TimerKind, TimerSpec } from '../../domain/types.ts'
import { type Store, writesInWith, writeTransaction } from '../database.ts'
import { prepared } from '../prepared.ts'
import { type DB, num } from '../schema.ts'

export interface DueTimer extends TimerSpec {
  readonly attempts: number
}

/** A command's timer changes as rows to set and keys to delete. */
export function timerRows(changes: TimerChanges, now: number): { keys: string[]; rows: TimerRow[] } {
  // one row per key (a statement may not update a row twice on PostgreSQL): the last setting wins
  const rows = [...new Map(changes.set.map((t) => [t.key, t])).values()].map((t) => ({
    key: t.key,
    kind: t.kind,
    run_at: BigInt(t.runAt),
    payload: JSON.stringify(t.payload),
    attempts: 0,
    created_at: BigInt(now),
  }))
  // a timer cancelled and set again is only set: one statement then never deletes a row it also writes
  const setKeys = new Set(rows.map((r) => r.key))
  return { keys: changes.cancel.filter((k) => !setKeys.has(k)), rows }
}

export async function applyTimers(db: Kysely<DB>, changes: TimerChanges, now: number) {
  const { keys, rows } = timerRows(changes, now)
  if (writesInWith(db) && keys.length && rows.length && keys.length <= 500 && rows.length <= 500) {
    await cancelAndSetTimers(db, { keys, rows })
    return
  }
  if (keys.length) await deleteTimers(db, { keys })
  for (let i = 0; i < rows.length; i += 500) await setTimers(db, { rows: rows.slice(i, i + 500) })
}

export const deleteTimersQuery = (db: Kysely<DB>, keys: string[]) => db.deleteFrom('timers').where('key', 'in', keys)
const deleteTimers = prepared((db, a: { keys: string[] }) => deleteTimersQuery(db, a.keys))
export type TimerRow = {
  key: string
  kind: string
  run_at: bigint
  payload: string
  attempts: number
  created_at: bigint
}
/** A timer set again replaces the row of its key, lease and last error included. */
const replace = (oc: OnConflictBuilder<DB, 'timers'>) =>
  oc.column('key').doUpdateSet((eb) => ({
    kind: eb.ref('excluded.kind'),
    run_at: eb.ref('excluded.run_at'),
    payload: eb.ref('excluded.payload'),
    attempts: eb.ref('excluded.attempts'),
    lease_until: null,
    lease_owner: null,
    last_error: null,
  }))
export const setTimersQuery = (db: Kysely<DB>, rows: TimerRow[]) =>
  db.insertInto('timers').values(rows).onConflict(replace)
const setTimers = prepared((db, a: { rows: TimerRow[] }) => setTimersQuery(db, a.rows))
/** PostgreSQL: the cancelled timers deleted and the new ones set in one statement (one round trip). */
const cancelAndSetTimers = prepared((db, a: { keys: string[]; rows: TimerRow[] }) =>
  db
    .with('cancelled', (qc) => qc.deleteFrom('timers').where('key', 'in', a.keys))
    .insertInto('timers')
    .values(a.rows)
    .onConflict(replace),
)

/**
 * Claims up to `limit` timers due by `now` (in deadline order) whose lease is free, leasing them until
 * `leaseUntil` (real time, ms) for `owner`. A write transaction from its start (`writeTransaction`): on SQLite a
 * transaction that read first and then writes fails at once, without waiting, while another process writes.
 */
export async function claimDue(
  store: Store,
  opts: { now: number; limit: number; owner: string; realNow: number; leaseMs: number },
): Promise<DueTimer[]> {
  const caps = store.caps
  return writeTransaction(store, async (trx) => {
    let q = trx
      .selectFrom('timers')
      .select(['key', 'kind', 'run_at', 'payload', 'attempts'])
      .where('run_at', '<=', BigInt(opts.now))
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', BigInt(opts.realNow))]))
      .orderBy('run_at')
      .orderBy('key')
      .limit(opts.limit)
    if (caps.skipLocked) q = q.forUpdate().skipLocked()
    const rows = await q.execute()
    if (!rows.length) return []
    await trx
      .updateTable('timers')
      .set({ lease_until: BigInt(opts.realNow + opts.leaseMs), lease_owner: opts.owner })
      .where(
        'key',
        'in',
        rows.map((r) => r.key),
      )
      .execute()
    return rows.map((r) => ({
      key: r.key,
      kind: r.kind as TimerKind,
      runAt: num(r.run_at),
      payload: JSON.parse(r.payload) as Record<string, string>,
      attempts: num(r.attempts),
    }))
  })
}

/** Removes a timer that ran, unless it was re-set (same key, new deadline) while it ran. */
export async function completeTimer(db: Kysely<DB>, t: DueTimer) {
  await db.deleteFrom('timers').where('key', '=', t.key).where('run_at', '=', BigInt(t.runAt)).execute()
}

/** Records a failure and retries later with exponential backoff (real time). */
export async function failTimer(db: Kysely<DB>, t: DueTimer, error: string, retryAtReal: number) {
  await db
    .updateTable('timers')
    .set({
      attempts: t.attempts + 1,
      last_error: error.slice(0, 2000),
      lease_until: BigInt(retryAtReal),
      lease_owner: null,
    })
    .where('key', '=', t.key)
    .execute()
}

/** Releases this owner's leases (graceful shutdown). */
export async function releaseLeases(db: Kysely<DB>, owner: string) {
  await db
    .updateTable('timers')
    .set({ lease_until: null, lease_owner: null })
    .where('lease_owner', '=', owner)
    .execute()
}

/** The earliest deadline among timers, to know when to look again. */
export async function nextDue(db: Kysely<DB>): Promise<number | null> {
  const row = await db
    .selectFrom('timers')
    .select((eb) => eb.fn.min('run_at').as('next'))
    .executeTakeFirst()
  return row?.next === null || row?.next === undefined ? null : num(row.next as bigint)
}

/** Timers that failed repeatedly (stuck), for /metrics and the admin. */
export async function stuckTimers(db: Kysely<DB>, minAttempts = 5) {
  return db
    .selectFrom('timers')
    .select(['key', 'kind', 'attempts', 'last_error'])
    .where('attempts', '>=', minAttempts)
    .execute()
}
