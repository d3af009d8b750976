/**
 * Events (the outbox, SPEC §9): written in the command's transaction with their recipients and one pending
 * webhook delivery per matching endpoint; the worker sends deliveries later, so no endpoint slows a command.
 */
import type { Kysely } from 'kysely'
import { type DB, num } from '../schema.ts'

export interface NewEvent {
  readonly id: string
  readonly type: string
  readonly objectId: string
  readonly contractId: string | null
  readonly body: string
  readonly createdAt: number
  readonly audience: readonly string[]
}

export async function insertEvents(db: Kysely<DB>, events: readonly NewEvent[], newDeliveryId: () => string) {
  for (const e of events) {
    const row = await db
      .insertInto('events')
      .values({
        id: e.id,
        type: e.type,
        object_id: e.objectId,
        contract_id: e.contractId,
        data: e.body,
        created_at: BigInt(e.createdAt),
      })
      .returning('seq')
      .executeTakeFirstOrThrow()
    const audience = [...new Set(e.audience)]
    if (!audience.length) continue
    await db
      .insertInto('event_recipients')
      .values(audience.map((user_id) => ({ user_id, event_seq: row.seq })))
      .execute()
    const endpoints = await db
      .selectFrom('webhook_endpoints')
      .select(['id', 'user_id', 'enabled_events'])
      .where('user_id', 'in', audience)
      .where('enabled', '=', 1)
      .where('deleted_at', 'is', null)
      .execute()
    const matching = endpoints.filter((ep) => {
      const types = JSON.parse(ep.enabled_events) as string[]
      return types.includes('*') || types.includes(e.type)
    })
    if (matching.length) {
      await db
        .insertInto('webhook_deliveries')
        .values(
          matching.map((ep) => ({
            id: newDeliveryId(),
            endpoint_id: ep.id,
            user_id: ep.user_id,
            event_id: e.id,
            event_seq: row.seq,
            status: 'pending',
            attempts: 0,
            next_attempt_at: BigInt(e.createdAt),
            created_at: BigInt(e.createdAt),
          })),
        )
        .execute()
    }
  }
}

/** A user's events, newest first, by cursor (an event id), optionally by type and contract. */
export async function listEvents(
  db: Kysely<DB>,
  userId: string,
  page: { limit: number; startingAfter: string | null; type: string | null; contractId: string | null },
) {
  let q = db
    .selectFrom('event_recipients as r')
    .innerJoin('events as e', 'e.seq', 'r.event_seq')
    .select(['e.seq', 'e.id', 'e.data'])
    .where('r.user_id', '=', userId)
  if (page.type)
    q = page.type.endsWith('.*')
      ? q.where('e.type', 'like', `${page.type.slice(0, -1)}%`)
      : q.where('e.type', '=', page.type)
  if (page.contractId) q = q.where('e.contract_id', '=', page.contractId)
  if (page.startingAfter) {
    const cursor = await db.selectFrom('events').select('seq').where('id', '=', page.startingAfter).executeTakeFirst()
    if (cursor) q = q.where('e.seq', '<', cursor.seq)
  }
  const rows = await q
    .orderBy('e.seq', 'desc')
    .limit(page.limit + 1)
    .execute()
  return {
    data: rows.slice(0, page.limit).map((r) => ({ seq: num(r.seq), body: r.data })),
    hasMore: rows.length > page.limit,
  }
}
