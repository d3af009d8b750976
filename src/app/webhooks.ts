/** Webhook endpoints and their delivery log (SPEC §9). The secret is shown once, at creation. */
import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import { fail, noCursor } from '../domain/errors.ts'
import { type DeliveryStatus, iso } from '../domain/types.ts'
import { refuseUrl } from '../jobs/url-guard.ts'
import { writeOnce } from '../store/database.ts'
import { afterCursor } from '../store/paging.ts'
import { type DB, num } from '../store/schema.ts'
import { type App, type IdempotentResponse, run } from './app.ts'
import { newId } from './ids.ts'

type EndpointRow = {
  id: string
  url: string
  enabled_events: string
  enabled: number | bigint
  created_at: number | bigint | string
  previous_secret_until: number | bigint | string | null
}

const presentEndpoint = (e: EndpointRow) => ({
  id: e.id,
  object: 'webhook_endpoint' as const,
  url: e.url,
  enabled_events: JSON.parse(e.enabled_events) as string[],
  enabled: num(e.enabled) === 1,
  created_at: iso(num(e.created_at)),
  // after a roll, until when the secret before it signs too (a time in the past: it no longer does)
  previous_secret_expires_at: e.previous_secret_until === null ? null : iso(num(e.previous_secret_until)),
})

export async function createEndpoint(
  app: App,
  userId: string,
  input: { url: string; enabledEvents: string[] },
  idem?: IdempotentResponse,
) {
  const why = await refuseUrl(input.url, app.config.webhookAllowPrivate)
  if (why) fail('parameter_invalid', `The webhook URL ${why}.`, 'url')
  const secret = newSecret()
  const row = {
    id: newId('whe'),
    user_id: userId,
    url: input.url,
    secret,
    enabled_events: JSON.stringify([...new Set(input.enabledEvents)]),
    enabled: 1,
    created_at: BigInt(app.clock.now()),
  }
  return run(app, { actor: { kind: 'user', id: userId }, idem }, async (tx) => {
    await tx.db.insertInto('webhook_endpoints').values(row).execute()
    tx.audit('webhook_endpoint.create', row.id, { url: input.url })
    return { ...presentEndpoint({ ...row, previous_secret_until: null }), secret }
  })
}

export async function listEndpoints(app: App, userId: string, page: { limit: number; startingAfter: string | null }) {
  const mine = () =>
    app.store.db.selectFrom('webhook_endpoints').where('user_id', '=', userId).where('deleted_at', 'is', null)
  let q = mine().selectAll()
  if (page.startingAfter) {
    const cursor =
      (await mine().select(['created_at', 'id']).where('id', '=', page.startingAfter).executeTakeFirst()) ??
      noCursor(page.startingAfter)
    q = q.where(afterCursor(cursor))
  }
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit + 1)
    .execute()
  return { data: rows.slice(0, page.limit).map(presentEndpoint), hasMore: rows.length > page.limit }
}

const newSecret = () => `whsec_${randomBytes(24).toString('base64url')}`

async function ownEndpoint(db: Kysely<DB>, userId: string, id: string) {
  const row = await db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst()
  return row ?? fail('resource_missing', `No such webhook endpoint: ${id}.`)
}

/** One of the user's endpoints (its secret was shown once, at creation). */
export async function getEndpoint(app: App, userId: string, id: string) {
  return presentEndpoint(await ownEndpoint(app.store.db, userId, id))
}

/**
 * Changes an endpoint's URL (checked like a new one), the events it gets, or whether it is enabled. A disabled
 * endpoint gets no new deliveries, and the worker skips the ones still pending; enabling it again sends what comes
 * next. A body that changes nothing writes nothing.
 */
export async function updateEndpoint(
  app: App,
  userId: string,
  id: string,
  input: { url?: string; enabledEvents?: string[]; enabled?: boolean },
) {
  if (input.url !== undefined) {
    const why = await refuseUrl(input.url, app.config.webhookAllowPrivate)
    if (why) fail('parameter_invalid', `The webhook URL ${why}.`, 'url')
  }
  return run(app, { actor: { kind: 'user', id: userId } }, async (tx) => {
    const before = await ownEndpoint(tx.db, userId, id)
    const changes: { url?: string; enabled_events?: string; enabled?: number } = {}
    if (input.url !== undefined && input.url !== before.url) changes.url = input.url
    const events = input.enabledEvents && JSON.stringify([...new Set(input.enabledEvents)])
    if (events !== undefined && events !== before.enabled_events) changes.enabled_events = events
    const enabled = input.enabled === undefined ? undefined : input.enabled ? 1 : 0
    if (enabled !== undefined && enabled !== num(before.enabled)) changes.enabled = enabled
    if (!Object.keys(changes).length) return presentEndpoint(before)
    await tx.db.updateTable('webhook_endpoints').set(changes).where('id', '=', id).execute()
    tx.audit('webhook_endpoint.update', id, changes)
    return presentEndpoint({ ...before, ...changes })
  })
}

/**
 * A new signing secret, shown once in this answer. The one it replaces keeps signing beside it for `keepHours`
 * (0: not at all), so that the receiver can switch without rejecting a delivery on the way.
 */
export async function rollSecret(app: App, userId: string, id: string, keepHours: number, idem?: IdempotentResponse) {
  return run(app, { actor: { kind: 'user', id: userId }, idem }, async (tx) => {
    const before = await ownEndpoint(tx.db, userId, id)
    const secret = newSecret()
    const changes = {
      secret,
      previous_secret: keepHours > 0 ? before.secret : null,
      previous_secret_until: keepHours > 0 ? BigInt(app.clock.now() + keepHours * 3_600_000) : null,
    }
    await tx.db.updateTable('webhook_endpoints').set(changes).where('id', '=', id).execute()
    tx.audit('webhook_endpoint.roll_secret', id, { keep_hours: keepHours })
    return { ...presentEndpoint({ ...before, ...changes }), secret }
  })
}

export async function deleteEndpoint(app: App, userId: string, id: string) {
  await ownEndpoint(app.store.db, userId, id)
  await writeOnce(app.store, (db) =>
    db
      .updateTable('webhook_endpoints')
      .set({ deleted_at: BigInt(app.clock.now()), enabled: 0 })
      .where('id', '=', id)
      .execute(),
  )
  return { id, object: 'webhook_endpoint' as const, deleted: true }
}

type DeliveryRow = {
  id: string
  endpoint_id: string
  event_id: string
  status: DeliveryStatus
  attempts: number | bigint
  next_attempt_at: number | bigint | string | null
  last_status: number | bigint | null
  last_error: string | null
  created_at: number | bigint | string
  delivered_at: number | bigint | string | null
}

export const presentDelivery = (d: DeliveryRow) => ({
  id: d.id,
  object: 'webhook_delivery' as const,
  endpoint_id: d.endpoint_id,
  event_id: d.event_id,
  status: d.status,
  attempts: num(d.attempts),
  next_attempt_at: d.next_attempt_at === null || d.status !== 'pending' ? null : iso(num(d.next_attempt_at)),
  last_response_status: d.last_status === null ? null : num(d.last_status),
  last_error: d.last_error,
  created_at: iso(num(d.created_at)),
  delivered_at: d.delivered_at === null ? null : iso(num(d.delivered_at)),
})

export async function listDeliveries(
  app: App,
  userId: string,
  endpointId: string,
  page: { limit: number; startingAfter: string | null },
) {
  await ownEndpoint(app.store.db, userId, endpointId)
  let q = app.store.db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId)
  if (page.startingAfter) {
    const cursor = await app.store.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('id', '=', page.startingAfter)
      .where('endpoint_id', '=', endpointId)
      .executeTakeFirst()
    q = q.where('id', '<', (cursor ?? noCursor(page.startingAfter)).id)
  }
  const rows = await q
    .orderBy('id', 'desc')
    .limit(page.limit + 1)
    .execute()
  return { data: rows.slice(0, page.limit).map(presentDelivery), hasMore: rows.length > page.limit }
}

/**
 * Manual redelivery: the delivery is due again now, its attempt count going on. An attempt in flight is superseded:
 * its lease is cleared, so its outcome is not written over the retry (the worker writes only under its own lease).
 */
export async function retryDelivery(app: App, userId: string, id: string, idem?: IdempotentResponse) {
  return run(app, { actor: { kind: 'user', id: userId }, idem }, async (tx) => {
    // a delivery of a deleted endpoint is gone with it, as its log is
    const row = await tx.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
      .selectAll('d')
      .where('d.id', '=', id)
      .where('d.user_id', '=', userId)
      .where('e.deleted_at', 'is', null)
      .executeTakeFirst()
    if (!row) return fail('resource_missing', `No such webhook delivery: ${id}.`)
    const now = BigInt(tx.now)
    await tx.db
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', next_attempt_at: now, lease_until: null })
      .where('id', '=', id)
      .execute()
    tx.touchEvents()
    return presentDelivery({ ...row, status: 'pending', next_attempt_at: now })
  })
}
