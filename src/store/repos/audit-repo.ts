/**
 * The audit log: one record per accepted command, hash-chained — each stores sha256(previous hash + canonical
 * record). The head row is locked by each writer, so the chain stays a line even with many servers.
 */
import { createHash } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Capabilities } from '../database.ts'
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

export async function appendAudit(db: Kysely<DB>, caps: Capabilities, a: AuditInput) {
  let q = db.selectFrom('audit_head').select(['hash', 'count']).where('id', '=', 1)
  if (caps.rowLocks) q = q.forUpdate()
  const head = await q.executeTakeFirstOrThrow()
  const record = canonical({ id: a.id, at: a.at, actor: a.actor, action: a.action, target: a.target, data: a.data })
  const hash = chainHash(head.hash, record)
  await db
    .insertInto('audit_log')
    .values({
      id: a.id,
      at: BigInt(a.at),
      actor: a.actor,
      action: a.action,
      target: a.target,
      record,
      prev_hash: head.hash,
      hash,
    })
    .execute()
  await db
    .updateTable('audit_head')
    .set({ hash, count: BigInt(head.count) + 1n })
    .where('id', '=', 1)
    .execute()
}
