/**
 * Offers and contracts are stored as versioned JSON documents; every save is guarded by the version it was read at
 * (`UPDATE … WHERE version = ?`), so of two concurrent commands on one contract exactly one commits.
 */
import type { Kysely } from 'kysely'
import { decode, encodeAggregate } from '../../app/json-codec.ts'
import type { Contract } from '../../domain/contract-model.ts'
import { noCursor } from '../../domain/errors.ts'
import type { Offer } from '../../domain/offer.ts'
import { deepFreeze } from '../../domain/types.ts'
import { afterCursor } from '../paging.ts'
import { prepared } from '../prepared.ts'
import { type DB, num } from '../schema.ts'

/** Thrown when the version read is no longer current; the command is retried from a fresh read. */
export class VersionConflict extends Error {
  constructor(id: string) {
    super(`${id} changed concurrently`)
    this.name = 'VersionConflict'
  }
}

export interface Versioned<T> {
  readonly value: T
  readonly version: number
}

type Table = 'offers' | 'contracts'

/**
 * Decoded aggregates by id, each with the exact text it was decoded from or encoded to. A load whose row holds the
 * same text returns the same value instead of parsing 6–7 KB of JSON again (every command reads its contract, and
 * the next command on it reads what the last one wrote). Keyed on the text, not the version: a save undone with its
 * savepoint or transaction can never be served, since its text is not what the row holds. The values are shared,
 * so they are deep-frozen (the domain decides on a copy, `ContractWork`). Bounded: the least recently used go first.
 */
class DecodedMemo {
  private readonly entries = new Map<string, { text: string; value: unknown }>()

  constructor(
    private readonly size: number,
    /** called with each value that enters the memo (decoded or saved) */
    private readonly entered: (value: unknown) => void = () => {},
  ) {}

  get<T>(id: string, text: string): T {
    const hit = this.entries.get(id)
    if (hit?.text === text) {
      this.entries.delete(id) // most recently used last
      this.entries.set(id, hit)
      return hit.value as T
    }
    return this.put(id, text, decode<T>(text))
  }

  put<T>(id: string, text: string, value: T): T {
    this.entries.delete(id)
    this.entries.set(id, { text, value: deepFreeze(value) })
    this.entered(value)
    if (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value!)
    return value
  }
}

const memo: Record<Table, DecodedMemo> = {
  offers: new DecodedMemo(256),
  contracts: new DecodedMemo(512, (c) => rememberHolder(c as Contract)),
}

/**
 * `lock` (databases with row locks): the row stays locked until the transaction ends, so a second command on the
 * same contract waits and then decides on the state the first one left — before it can touch the payment rail.
 */
type Row = { id: string }
const loads = {
  offers: prepared((db, a: Row) => db.selectFrom('offers').select(['data', 'version']).where('id', '=', a.id)),
  contracts: prepared((db, a: Row) => db.selectFrom('contracts').select(['data', 'version']).where('id', '=', a.id)),
}
const locks = {
  offers: prepared((db, a: Row) =>
    db.selectFrom('offers').select(['data', 'version']).where('id', '=', a.id).forUpdate(),
  ),
  contracts: prepared((db, a: Row) =>
    db.selectFrom('contracts').select(['data', 'version']).where('id', '=', a.id).forUpdate(),
  ),
}
type Update = { data: string; status: string; version: number; id: string; was: number }
const updateQuery = (db: Kysely<DB>, table: Table, a: Update) =>
  db
    .updateTable(table)
    .set({ data: a.data, status: a.status, version: a.version })
    .where('id', '=', a.id)
    .where('version', '=', a.was)
const updates = {
  offers: prepared((db, a: Update) => updateQuery(db, 'offers', a)),
  contracts: prepared((db, a: Update) => updateQuery(db, 'contracts', a)),
}

/**
 * `lock` (databases with row locks): the row stays locked until the transaction ends, so a second command on the
 * same contract waits and then decides on the state the first one left — before it can touch the payment rail.
 */
async function load<T>(db: Kysely<DB>, table: Table, id: string, lock = false): Promise<Versioned<T> | null> {
  const { rows } = await (lock ? locks : loads)[table](db, { id })
  const row = rows[0]
  return row ? { value: memo[table].get<T>(id, row.data), version: num(row.version) } : null
}

/** The text a value is saved as; the memo keeps the value with it (see `DecodedMemo`). */
function encoded(table: Table, v: { id: string }): string {
  const data = encodeAggregate(deepFreeze(v))
  memo[table].put(v.id, data, v)
  return data
}

async function save(
  db: Kysely<DB>,
  table: Table,
  v: { id: string; clientId: string; freelancerId: string; status: string; createdAt: number },
  version: number | null,
) {
  const data = encoded(table, v)
  if (version === null) {
    await db
      .insertInto(table)
      .values({
        id: v.id,
        client_id: v.clientId,
        freelancer_id: v.freelancerId,
        status: v.status,
        data,
        version: 1,
        created_at: BigInt(v.createdAt),
      })
      .execute()
    return
  }
  const res = await updates[table](db, { data, status: v.status, version: version + 1, id: v.id, was: version })
  if (Number(res.numAffectedRows) !== 1) throw new VersionConflict(v.id)
}

export const loadOffer = (db: Kysely<DB>, id: string, lock = false) => load<Offer>(db, 'offers', id, lock)
export const loadContract = (db: Kysely<DB>, id: string, lock = false) => load<Contract>(db, 'contracts', id, lock)
export const saveOffer = (db: Kysely<DB>, o: Offer, version: number | null) => save(db, 'offers', o, version)

export const indexQuery = (db: Kysely<DB>, rows: IndexRow[]) =>
  db
    .insertInto('object_index')
    .values(rows)
    .onConflict((oc) => oc.column('id').doNothing())
const indexObjects = prepared((db, a: { rows: IndexRow[] }) => indexQuery(db, a.rows))
type IndexRow = { id: string; contract_id: string }

/** `before`: the contract as read, so only objects new since then are added to the index. */
export async function saveContract(db: Kysely<DB>, c: Contract, version: number | null, before?: Contract) {
  await save(db, 'contracts', c, version)
  const rows = newObjects(c, before)
  if (rows.length) await indexObjects(db, { rows })
}

function newObjects(c: Contract, before: Contract | undefined): IndexRow[] {
  const known = new Set(before ? objectIds(before) : [])
  return objectIds(c)
    .filter((id) => !known.has(id))
    .map((id) => ({ id, contract_id: c.id }))
}

/**
 * A contract's next version as the arguments of its row's update (`contractUpdateQuery`, which returns the row's id
 * only when the version read is still the row's) and the index rows of its new objects — for a statement that
 * writes it with other rows (`command-write.ts`).
 */
export function contractUpdate(c: Contract, version: number, before: Contract) {
  const update = { data: encoded('contracts', c), status: c.status, version: version + 1, id: c.id, was: version }
  return { update, index: newObjects(c, before) }
}
export const contractUpdateQuery = (db: Kysely<DB>, a: Update) => updateQuery(db, 'contracts', a).returning('id')

const objectIds = (c: Contract) => [
  ...c.milestones.map((m) => m.id),
  ...c.refundRequests.map((r) => r.id),
  ...c.disputes.map((d) => d.id),
  ...c.amendments.map((a) => a.id),
]

/**
 * Which contract holds an object never changes (ids are never reused), so the answers found are kept (bounded,
 * oldest first out). One read in a transaction that is later rolled back can only name a contract that then does
 * not exist, which loads as missing: the same 404 the object's own absence gives.
 */
const holders = new Map<string, string>()
const HOLDERS_KEPT = 20_000

function remember(objectId: string, contractId: string) {
  if (holders.has(objectId)) return
  if (holders.size >= HOLDERS_KEPT) holders.delete(holders.keys().next().value!)
  holders.set(objectId, contractId)
}

/**
 * A contract read or saved names the contract of each of its objects too: the next command on one of its milestones
 * (the fund of a fresh one) then finds its contract without reading the index.
 */
function rememberHolder(c: Contract) {
  for (const id of objectIds(c)) remember(id, c.id)
}

/** The contract that holds a milestone, refund request, dispute or amendment. */
export async function contractIdOf(db: Kysely<DB>, objectId: string): Promise<string | null> {
  const known = holders.get(objectId)
  if (known !== undefined) return known
  const { rows } = await holderOf(db, { id: objectId })
  const id = rows[0]?.contract_id ?? null
  if (id !== null) remember(objectId, id)
  return id
}

const holderOf = prepared((db, a: Row) => db.selectFrom('object_index').select('contract_id').where('id', '=', a.id))

/** A page of a user's offers or contracts, newest first, by id cursor. */
export async function listFor<T>(
  db: Kysely<DB>,
  table: Table,
  userId: string | null,
  page: { limit: number; startingAfter: string | null; status?: string | null },
): Promise<{ data: T[]; hasMore: boolean }> {
  let q = db.selectFrom(table).select(['id', 'data', 'created_at'])
  if (userId) q = q.where((eb) => eb.or([eb('client_id', '=', userId), eb('freelancer_id', '=', userId)]))
  if (page.status) q = q.where('status', '=', page.status)
  if (page.startingAfter) {
    let c = db.selectFrom(table).select(['created_at', 'id']).where('id', '=', page.startingAfter)
    if (userId) c = c.where((eb) => eb.or([eb('client_id', '=', userId), eb('freelancer_id', '=', userId)]))
    const cursor = (await c.executeTakeFirst()) ?? noCursor(page.startingAfter)
    q = q.where(afterCursor(cursor))
  }
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit + 1)
    .execute()
  return { data: rows.slice(0, page.limit).map((r) => decode<T>(r.data)), hasMore: rows.length > page.limit }
}
