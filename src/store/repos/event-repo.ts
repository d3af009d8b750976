/**
 * Events (the outbox, SPEC §9): written in the command's transaction with their recipients and one pending
 * webhook delivery per matching endpoint; the worker sends deliveries later, so no endpoint slows a command.
 */
import { type Kysely, sql } from 'kysely'
import { noCursor } from '../../domain/errors.ts'
import { eventEnabled } from '../../domain/types.ts'
import { writesInWith } from '../database.ts'
import { prepared } from '../prepared.ts'
import { type DB, num } from '../schema.ts'

export type Big = bigint | number | string

export interface NewEvent {
  readonly id: string
  readonly type: string
  readonly objectId: string
  readonly contractId: string | null
  readonly body: string
  readonly createdAt: number
  readonly audience: readonly string[]
}

/** A command's events as rows: the events, who receives each, and those recipients (for their endpoints). */
export function eventRows(events: readonly NewEvent[]) {
  const rows = events.map((e) => ({
    id: e.id,
    type: e.type,
    object_id: e.objectId,
    contract_id: e.contractId,
    data: e.body,
    created_at: BigInt(e.createdAt),
  }))
  const audiences = events.flatMap((e) => [...new Set(e.audience)].map((user_id) => ({ event_id: e.id, user_id })))
  const users = [...new Set(audiences.map((r) => r.user_id))]
  return { events: rows, audiences, users }
}

/**
 * All of a command's events in a few statements: the events (their sequence numbers come back), their recipients,
 * the endpoints of those recipients, and a delivery per matching endpoint.
 */
export async function insertEvents(db: Kysely<DB>, events: readonly NewEvent[], newDeliveryId: () => string) {
  if (!events.length) return
  const { events: eventRowsOf, audiences, users } = eventRows(events)
  let seqOf: Map<string, Big>
  let endpoints: Endpoint[]
  if (writesInWith(db) && audiences.length > 0 && audiences.length <= 500) {
    const { rows } = await insertEventsWithRecipients(db, { events: eventRowsOf, audiences, users })
    seqOf = new Map(rows.filter((r) => r.endpoint === null).map((r) => [r.id!, r.seq!]))
    endpoints = rows
      .filter((r) => r.endpoint !== null)
      .map((r) => ({ id: r.endpoint!, user_id: r.user_id!, enabled_events: r.enabled_events! }))
  } else {
    const { rows } = await insertEventRows(db, { rows: eventRowsOf })
    seqOf = new Map(rows.map((r) => [r.id, r.seq]))
    const recipients = audiences.map((a) => ({ user_id: a.user_id, event_seq: seqOf.get(a.event_id)! }))
    for (let i = 0; i < recipients.length; i += 500) await insertRecipients(db, { rows: recipients.slice(i, i + 500) })
    endpoints = users.length ? (await endpointsOf(db, { users })).rows : []
  }
  await insertDeliveries(db, events, endpoints, seqOf, newDeliveryId)
}

/** A pending delivery of each event to each endpoint of its recipients that takes its type. */
export async function insertDeliveries(
  db: Kysely<DB>,
  events: readonly NewEvent[],
  endpoints: readonly Endpoint[],
  seqOf: ReadonlyMap<string, Big>,
  newDeliveryId: () => string,
) {
  if (!endpoints.length) return
  const deliveries = events.flatMap((e) => {
    const audience = new Set(e.audience)
    return endpoints
      .filter((ep) => {
        if (!audience.has(ep.user_id)) return false
        return eventEnabled(JSON.parse(ep.enabled_events) as string[], e.type)
      })
      .map((ep) => ({
        id: newDeliveryId(),
        endpoint_id: ep.id,
        user_id: ep.user_id,
        event_id: e.id,
        event_seq: seqOf.get(e.id)!,
        status: 'pending' as const,
        attempts: 0,
        next_attempt_at: BigInt(e.createdAt),
        created_at: BigInt(e.createdAt),
      }))
  })
  if (deliveries.length) await db.insertInto('webhook_deliveries').values(deliveries).execute()
}

type EventRow = {
  id: string
  type: string
  object_id: string
  contract_id: string | null
  data: string
  created_at: bigint
}
export const eventsQuery = (db: Kysely<DB>, rows: EventRow[]) =>
  db.insertInto('events').values(rows).returning(['id', 'seq'])
const insertEventRows = prepared((db, a: { rows: EventRow[] }) => eventsQuery(db, a.rows))
export type Endpoint = { id: string; user_id: string; enabled_events: string }
/**
 * PostgreSQL: the events and their recipients in one statement (one round trip). The recipients' insert is a
 * data-modifying WITH, which runs to completion whether or not the final SELECT reads it; that SELECT gives each
 * event's sequence number, followed by the recipients' webhook endpoints (rows with `endpoint` set), so that the
 * deliveries need no other read.
 */
const insertEventsWithRecipients = prepared(
  (db, a: { events: EventRow[]; audiences: { event_id: string; user_id: string }[]; users: string[] }) =>
    db
      .with('ev', (qc) => qc.insertInto('events').values(a.events).returning(['id', 'seq']))
      .with('rc', (qc) =>
        qc
          .insertInto('event_recipients')
          .columns(['user_id', 'event_seq'])
          .expression(
            qc
              .selectFrom('ev')
              .innerJoin(
                sql<{ event_id: string; user_id: string }>`(values ${sql.join(
                  a.audiences.map((r) => sql`(${r.event_id}, ${r.user_id})`),
                )})`.as<'r'>(sql`r(event_id, user_id)`),
                'r.event_id',
                'ev.id',
              )
              .select(['r.user_id', 'ev.seq']),
          ),
      )
      .selectFrom('ev')
      .select([
        sql<string | null>`ev.id`.as('id'),
        sql<Big | null>`ev.seq`.as('seq'),
        sql<string | null>`null::text`.as('endpoint'),
        sql<string | null>`null::text`.as('user_id'),
        sql<string | null>`null::text`.as('enabled_events'),
      ])
      .unionAll((eb) =>
        eb
          .selectFrom('webhook_endpoints')
          .select([
            sql<string | null>`null::text`.as('id'),
            sql<Big | null>`null::bigint`.as('seq'),
            'webhook_endpoints.id as endpoint',
            'webhook_endpoints.user_id',
            'webhook_endpoints.enabled_events',
          ])
          .where('webhook_endpoints.user_id', 'in', a.users)
          .where('webhook_endpoints.enabled', '=', 1)
          .where('webhook_endpoints.deleted_at', 'is', null),
      ),
)
type RecipientRow = { user_id: string; event_seq: Big }
const insertRecipients = prepared((db, a: { rows: RecipientRow[] }) => db.insertInto('event_recipients').values(a.rows))
/** The enabled webhook endpoints of some users. */
export const endpointsQuery = (db: Kysely<DB>, users: string[]) =>
  db
    .selectFrom('webhook_endpoints')
    .select(['id', 'user_id', 'enabled_events'])
    .where('user_id', 'in', users)
    .where('enabled', '=', 1)
    .where('deleted_at', 'is', null)
const endpointsOf = prepared((db, a: { users: string[] }) => endpointsQuery(db, a.users))

/** A user's events, newest first, by cursor (an event id), optionally by type and contract. */
/** One event the user received (as it was sent), or null: an event of others is not theirs to see. */
export async function getEvent(db: Kysely<DB>, userId: string, id: string): Promise<string | null> {
  const row = await db
    .selectFrom('event_recipients as r')
    .innerJoin('events as e', 'e.seq', 'r.event_seq')
    .select('e.data')
    .where('r.user_id', '=', userId)
    .where('e.id', '=', id)
    .executeTakeFirst()
  return row?.data ?? null
}

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
    const cursor =
      (await db
        .selectFrom('event_recipients as r')
        .innerJoin('events as e', 'e.seq', 'r.event_seq')
        .select('e.seq')
        .where('r.user_id', '=', userId)
        .where('e.id', '=', page.startingAfter)
        .executeTakeFirst()) ?? noCursor(page.startingAfter)
    q = q.where('e.seq', '<', cursor.seq)
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
