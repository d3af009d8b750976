/**
 * The audit log: one record per accepted command, hash-chained — each stores sha256(previous hash + canonical
 * record). The head row is locked by each writer, so the chain stays a line even with many servers.
 */
import { createHash } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Capabilities } from '../database.ts'
import { prepared } from '../prepared.ts'
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
 * Appends records to the chain, in order. A command's records are written at the end of its transaction (and a
 * group commit's once for the whole batch), so the head row is locked only for the last moment of a transaction:
 * on PostgreSQL it is the one row every command writes.
 */
export async function appendAudit(db: Kysely<DB>, caps: Capabilities, records: readonly AuditInput[]) {
  if (!records.length) return
  const head = (await (caps.rowLocks ? headLocked : headOf)(db, {})).rows[0]
  if (!head) throw new Error('the audit head row is missing')
  let prev = head.hash
  const rows = records.map((a) => {
    const record = canonical({ id: a.id, at: a.at, actor: a.actor, action: a.action, target: a.target, data: a.data })
    const hash = chainHash(prev, record)
    const row = {
      id: a.id,
      at: BigInt(a.at),
      actor: a.actor,
      action: a.action,
      target: a.target,
      record,
      prev_hash: prev,
      hash,
    }
    prev = hash
    return row
  })
  // 8 parameters a row: chunks stay far below both databases' limits on parameters per statement
  for (let i = 0; i < rows.length; i += 500) await insertRecords(db, { rows: rows.slice(i, i + 500) })
  await moveHead(db, { hash: prev, count: BigInt(head.count) + BigInt(rows.length) })
}

const headQuery = (db: Kysely<DB>) => db.selectFrom('audit_head').select(['hash', 'count']).where('id', '=', 1)
const headOf = prepared((db) => headQuery(db))
const headLocked = prepared((db) => headQuery(db).forUpdate())
type RecordRow = {
  id: string
  at: bigint
  actor: string
  action: string
  target: string
  record: string
  prev_hash: string
  hash: string
}
const insertRecords = prepared((db, a: { rows: RecordRow[] }) => db.insertInto('audit_log').values(a.rows))
const moveHead = prepared((db, a: { hash: string; count: bigint }) =>
  db.updateTable('audit_head').set({ hash: a.hash, count: a.count }).where('id', '=', 1),
)
