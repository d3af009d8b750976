/**
 * The audit chain on every adapter (store/repos/audit-repo.ts): records appended one per transaction — which
 * PostgreSQL chains in one statement, hashing in SQL — and several at once are each sha256(previous hash + record)
 * of the JavaScript `chainHash`, with any text; and transactions racing on one chain leave it a line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newId } from '../../src/app/ids.ts'
import { verify } from '../../src/app/verify.ts'
import type { Store } from '../../src/store/database.ts'
import { appendAudit, chainHash } from '../../src/store/repos/audit-repo.ts'
import { ADAPTERS, UNICODE } from './store-fixtures.ts'

describe.each(ADAPTERS.map((make) => make()))('audit chain on $name', (adapter) => {
  let store: Store

  beforeAll(async () => {
    store = await adapter.open()
  }, 180_000)

  afterAll(async () => {
    await store?.close()
    await adapter.cleanup()
  })

  const record = (action: string) => ({
    id: newId('aud'),
    at: 1_700_000_000_000,
    actor: 'system',
    action,
    target: newId('ctr'),
    data: { text: UNICODE, amount: 2n ** 60n },
  })

  /** the records of a target, in insertion order */
  const rowsOf = (ids: string[]) =>
    store.db
      .selectFrom('audit_log')
      .select(['id', 'record', 'prev_hash', 'hash'])
      .where('id', 'in', ids)
      .orderBy('seq')
      .execute()

  it('chains one record, and several, with the hash chainHash computes, whatever the text', async () => {
    const one = record('one')
    await store.db.transaction().execute((trx) => appendAudit(trx, store.caps, [one], 1))
    const many = [record('first'), record('second'), record('third')]
    await store.db.transaction().execute((trx) => appendAudit(trx, store.caps, many, 1))
    const rows = await rowsOf([one, ...many].map((r) => r.id))
    expect(rows.map((r) => r.id)).toEqual([one, ...many].map((r) => r.id))
    for (const [i, r] of rows.entries()) {
      expect(r.hash).toBe(chainHash(r.prev_hash, r.record))
      if (i > 0) expect(r.prev_hash).toBe(rows[i - 1]!.hash)
      expect(r.record).toContain('日本語')
    }
    const head = await store.db.selectFrom('audit_head').select('hash').where('id', '=', 1).executeTakeFirstOrThrow()
    expect(head.hash).toBe(rows.at(-1)!.hash)
    expect((await verify(store)).problems).toEqual([])
  })

  it('keeps one chain a line when transactions append to it at the same time', async () => {
    const records = Array.from({ length: 12 }, (_, i) => record(`racer ${i}`))
    await Promise.all(records.map((r) => store.db.transaction().execute((trx) => appendAudit(trx, store.caps, [r], 2))))
    const rows = await rowsOf(records.map((r) => r.id))
    expect(rows).toHaveLength(records.length)
    for (const [i, r] of rows.entries()) {
      expect(r.hash).toBe(chainHash(r.prev_hash, r.record))
      if (i > 0) expect(r.prev_hash).toBe(rows[i - 1]!.hash)
    }
    expect((await verify(store)).problems).toEqual([])
  })
})
