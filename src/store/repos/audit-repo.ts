/**
 * The audit log: one record per accepted command, hash-chained — each stores sha256(previous hash + canonical
 * record). The head row is locked by each writer, so the chain stays a line even with many servers.
 */
import { createHash } from 'node:crypto'
import { type Kysely, sql } from 'kysely'
import { type Capabilities, writesInWith } from '../database.ts'
import { AUDIT_CHAINS } from '../migrations.ts'
import { prepared, rawQuery } from '../prepared.ts'
import type { DB } from '../schema.ts'

/** JSON with sorted keys: the same record always hashes the same. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`
  }
  if (typeof v === 'bigint') return JSON.stringify(v.toString())
  return JSON.stringify(v) ?? 'null'
}

export const chainHash = (prev: string, record: string) =>
  createHash('sha256').update(prev).update(record).digest('hex')

export interface AuditInput {
  readonly id: string
  readonly at: number
  readonly actor: string
  readonly action: string
  readonly target: string
  readonly data: Record<string, unknown>
}

/**
 * Appends records to one audit chain, in order. There are AUDIT_CHAINS chains, each a line of records from a head
 * row: on PostgreSQL a transaction takes one at random, so concurrent commits do not all queue on one row; SQLite
 * (one writer at a time) uses the first. `verify` checks that every record extends exactly one chain.
 * A command's records are written at the end of its transaction (a group commit's once for the whole batch), so
 * the head row is locked only for the last moment of a transaction.
 */
export async function appendAudit(
  db: Kysely<DB>,
  caps: Capabilities,
  records: readonly AuditInput[],
  chain = chainFor(caps),
) {
  if (!records.length) return
  if (writesInWith(db) && records.length === 1) {
    const { rows } = await appendOne(db, oneRecord(records[0]!, chain))
    if (rows.length !== 1) throw missingHead(chain)
    return
  }
  const head = (await (caps.rowLocks ? headLocked : headOf)(db, { chain })).rows[0]
  if (!head) throw missingHead(chain)
  let prev = head.hash
  const rows = records.map((a) => {
    const fields = recordFields(a)
    const hash = chainHash(prev, fields.record)
    const row = { ...fields, prev_hash: prev, hash }
    prev = hash
    return row
  })
  const moved = { chain, hash: prev, count: BigInt(head.count) + BigInt(rows.length) }
  // 8 parameters a row: chunks stay far below both databases' limits on parameters per statement
  if (writesInWith(db) && rows.length <= 500) {
    await insertAndMoveHead(db, { rows, ...moved })
    return
  }
  for (let i = 0; i < rows.length; i += 500) await insertRecords(db, { rows: rows.slice(i, i + 500) })
  await moveHead(db, moved)
}

/** The chain a transaction appends to: one at random where several servers write (PostgreSQL), else the first. */
export const chainFor = (caps: Capabilities) => (caps.rowLocks ? 1 + Math.floor(Math.random() * AUDIT_CHAINS) : 1)
export const missingHead = (chain: number) => new Error(`the head row of audit chain ${chain} is missing`)

/** A record's columns but its place in the chain; `record` is its canonical text, which the hash covers. */
type RecordFields = { id: string; at: bigint; actor: string; action: string; target: string; record: string }
function recordFields(a: AuditInput): RecordFields {
  const record = canonical({ id: a.id, at: a.at, actor: a.actor, action: a.action, target: a.target, data: a.data })
  return { id: a.id, at: BigInt(a.at), actor: a.actor, action: a.action, target: a.target, record }
}

/** One record as the arguments of `appendOneCtes`. */
export type OneRecord = RecordFields & { chain: number }
export const oneRecord = (a: AuditInput, chain: number): OneRecord => ({ ...recordFields(a), chain })

type Chain = { chain: number }
const headQuery = (db: Kysely<DB>, a: Chain) =>
  db.selectFrom('audit_head').select(['hash', 'count']).where('id', '=', a.chain)
const headOf = prepared(headQuery)
const headLocked = prepared((db, a: Chain) => headQuery(db, a).forUpdate())
type RecordRow = RecordFields & { prev_hash: string; hash: string }
const insertRecords = prepared((db, a: { rows: RecordRow[] }) => db.insertInto('audit_log').values(a.rows))
const moveHead = prepared((db, a: { chain: number; hash: string; count: bigint }) =>
  db.updateTable('audit_head').set({ hash: a.hash, count: a.count }).where('id', '=', a.chain),
)
/**
 * PostgreSQL, a transaction's one record (a command's): the head locked and read, the record chained to it and the
 * head moved — three CTEs of one statement (`audit_moved` returns the head's id), so one round trip, with the head
 * locked only from there to the commit. The hash is `chainHash` computed by PostgreSQL (sha256 of the UTF-8 of the
 * previous hash and the record, in hex); `verify` checks it in JavaScript like any other. The head read is FOR
 * UPDATE: after waiting for another transaction that moved it, it reads the head that transaction left.
 */
export const appendOneCtes = (db: Kysely<DB>, a: OneRecord) => sql`audit_head_row as (${headQuery(db, a).forUpdate()}),
  audit_record as (
    insert into audit_log (id, at, actor, action, target, record, prev_hash, hash)
    select ${a.id}::text, ${a.at}::bigint, ${a.actor}::text, ${a.action}::text, ${a.target}::text, ${a.record}::text,
      h.hash, encode(sha256(convert_to(h.hash || ${a.record}::text, 'UTF8')), 'hex')
    from audit_head_row h
    returning hash),
  audit_moved as (
    update audit_head set hash = r.hash, count = audit_head.count + 1 from audit_record r
    where audit_head.id = ${a.chain}
    returning audit_head.id)`
const appendOne = prepared((db, a: OneRecord) =>
  rawQuery(db, sql<{ id: number }>`with ${appendOneCtes(db, a)} select id from audit_moved`),
)
/** PostgreSQL: the records and the head that now ends at them, in one statement. */
const insertAndMoveHead = prepared((db, a: { rows: RecordRow[]; chain: number; hash: string; count: bigint }) =>
  db
    .with('records', (qc) => qc.insertInto('audit_log').values(a.rows))
    .updateTable('audit_head')
    .set({ hash: a.hash, count: a.count })
    .where('id', '=', a.chain),
)
