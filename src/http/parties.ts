/**
 * Who the two sides of an offer or a contract are, by name: the read endpoints (GET of offers and contracts, one or
 * a list) add `parties: {client, freelancer}`, each `{id, name, email}`, read with one query per answer. The
 * presenters stay pure and the stored answers of commands (idempotent replays, event payloads) stay as they were:
 * a name is live profile data, not part of the contract's state.
 */
import type { Kysely } from 'kysely'
import { prepared } from '../store/prepared.ts'
import type { DB } from '../store/schema.ts'

const usersByIds = prepared((db, a: { ids: string[] }) =>
  db.selectFrom('users').select(['id', 'name', 'email']).where('id', 'in', a.ids),
)

export interface Party {
  readonly id: string
  readonly name: string
  readonly email: string
}

export interface Parties {
  readonly client: Party
  readonly freelancer: Party
}

export type WithParties<T> = T & { readonly parties: Parties }

/** `items` with their parties added, in the same order. */
export async function withParties<T extends { client_id: string; freelancer_id: string }>(
  db: Kysely<DB>,
  items: readonly T[],
): Promise<WithParties<T>[]> {
  const ids = [...new Set(items.flatMap((x) => [x.client_id, x.freelancer_id]))]
  const rows = ids.length ? (await usersByIds(db, { ids })).rows : []
  const byId = new Map(rows.map((r) => [r.id, { id: r.id, name: r.name, email: r.email }]))
  // Users are never deleted; the fallback only keeps an answer whole if one ever were.
  const party = (id: string): Party => byId.get(id) ?? { id, name: '', email: '' }
  return items.map((x) => ({ ...x, parties: { client: party(x.client_id), freelancer: party(x.freelancer_id) } }))
}

export async function withPartiesOne<T extends { client_id: string; freelancer_id: string }>(
  db: Kysely<DB>,
  item: T,
): Promise<WithParties<T>> {
  return (await withParties(db, [item]))[0]!
}
