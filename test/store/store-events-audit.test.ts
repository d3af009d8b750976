/**
 * The store conformance suite, events and audit: the same checks, through the real repos, on every adapter — SQLite (a
 * temp file), PostgreSQL in process (PGlite) and the real PostgreSQL server when TRANCHE_TEST_DATABASE_URL is set (a
 * fresh schema, dropped after). Here: events written with their recipients and webhook deliveries, and the audit chains
 * with the verify check that catches them tampered with. Each adapter gets one store for the whole block; every test
 * uses its own ids. The rest of the suite is in the other `store-*.test.ts` files.
 */
import type { Kysely } from 'kysely'
import { beforeAll, describe, expect, it } from 'vitest'
import { newId } from '../../src/app/ids.ts'
import { verify } from '../../src/app/verify.ts'
import type { Store } from '../../src/store/database.ts'
import { appendAudit } from '../../src/store/repos/audit-repo.ts'
import { insertEvents, listEvents } from '../../src/store/repos/event-repo.ts'
import type { DB } from '../../src/store/schema.ts'
import { ADAPTERS, rowCounts, storeBed, tag } from './store-fixtures.ts'

describe.each(ADAPTERS.map((make) => make()))('store conformance on $name', (adapter) => {
  const bed = storeBed(adapter)
  let store: Store
  let db: Kysely<DB>
  beforeAll(() => {
    ;({ store, db } = bed)
  })

  it('writes events with their recipients and webhook deliveries together', async () => {
    const [a, b] = [`usr_${tag()}`, `usr_${tag()}`]
    const endpoint = (user: string, events: string[], over: { enabled?: number; deleted_at?: bigint } = {}) => ({
      id: newId('whe'),
      user_id: user,
      url: 'https://example.test/hook',
      secret: 'whsec_x',
      enabled_events: JSON.stringify(events),
      enabled: over.enabled ?? 1,
      created_at: 1n,
      deleted_at: over.deleted_at ?? null,
    })
    const eps = [
      endpoint(a, ['*']),
      endpoint(b, ['milestone.funded']),
      endpoint(b, ['*'], { enabled: 0 }),
      endpoint(b, ['*'], { deleted_at: 2n }),
    ]
    await db.insertInto('webhook_endpoints').values(eps).execute()
    const ev = (type: string, audience: string[]) => ({
      id: newId('evt'),
      type,
      objectId: 'ms_1',
      contractId: 'ctr_1',
      body: `{"type":"${type}","note":"日本"}`,
      createdAt: 42,
      audience,
    })
    const events = [ev('milestone.funded', [a, b, a]), ev('offer.created', [b]), ev('nobody.cares', [])]

    // in a transaction that fails, nothing is written
    const before = await rowCounts(db)
    await expect(
      db.transaction().execute(async (trx) => {
        await insertEvents(trx, events, () => newId('whd'))
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(await rowCounts(db)).toEqual(before)

    await db.transaction().execute((trx) => insertEvents(trx, events, () => newId('whd')))
    const rows = await db
      .selectFrom('events')
      .select(['id', 'seq', 'data'])
      .where(
        'id',
        'in',
        events.map((e) => e.id),
      )
      .orderBy('seq')
      .execute()
    expect(rows.map((r) => r.id)).toEqual(events.map((e) => e.id))
    const seqOf = new Map(rows.map((r) => [r.id, BigInt(r.seq)]))
    const recipients = await db
      .selectFrom('event_recipients')
      .select(['user_id', 'event_seq'])
      .where('user_id', 'in', [a, b])
      .execute()
    const got = recipients.map((r) => `${r.user_id}@${BigInt(r.event_seq)}`).sort()
    const e0 = seqOf.get(events[0]!.id)
    const e1 = seqOf.get(events[1]!.id)
    expect(got).toEqual([`${a}@${e0}`, `${b}@${e0}`, `${b}@${e1}`].sort())
    const deliveries = await db
      .selectFrom('webhook_deliveries')
      .select(['endpoint_id', 'event_id', 'event_seq', 'status', 'attempts', 'next_attempt_at'])
      .where('user_id', 'in', [a, b])
      .execute()
    expect(deliveries.map((d) => `${d.endpoint_id}:${d.event_id}`).sort()).toEqual(
      [`${eps[0]!.id}:${events[0]!.id}`, `${eps[1]!.id}:${events[0]!.id}`].sort(),
    )
    for (const d of deliveries)
      expect([BigInt(d.event_seq), d.status, Number(d.attempts), BigInt(d.next_attempt_at ?? -1)]).toEqual([
        e0,
        'pending',
        0,
        42n,
      ])

    const page = await listEvents(db, b, { limit: 1, startingAfter: null, type: null, contractId: null })
    expect(page).toEqual({ data: [{ seq: Number(e1), body: events[1]!.body }], hasMore: true })
    const next = await listEvents(db, b, {
      limit: 5,
      startingAfter: events[1]!.id,
      type: 'milestone.*',
      contractId: 'ctr_1',
    })
    expect(next).toEqual({ data: [{ seq: Number(e0), body: events[0]!.body }], hasMore: false })
  })

  it('chains audit records, and the verify check catches a record edited by hand', async () => {
    const ids = [newId('aud'), newId('aud')]
    for (const [i, id] of ids.entries()) {
      await db.transaction().execute((trx) =>
        appendAudit(
          trx,
          store.caps,
          [
            {
              id,
              at: 1_700_000_000_000 + i,
              actor: 'system',
              action: 'test.audit',
              target: 'ctr_x',
              data: { note: `note-${i} ☕`, n: BigInt(i) },
            },
          ],
          1,
        ),
      )
    }
    const recs = await db
      .selectFrom('audit_log')
      .select(['id', 'prev_hash', 'hash', 'record'])
      .where('id', 'in', ids)
      .orderBy('seq')
      .execute()
    expect(recs.map((r) => r.id)).toEqual(ids)
    expect(recs[1]?.prev_hash).toBe(recs[0]?.hash)
    const head = await db.selectFrom('audit_head').select('hash').where('id', '=', 1).executeTakeFirstOrThrow()
    expect(head.hash).toBe(recs[1]?.hash)
    expect((await verify(store)).problems).toEqual([])

    const original = recs[1]!.record
    await db
      .updateTable('audit_log')
      .set({ record: original.replace('note-1', 'note-9') })
      .where('id', '=', ids[1]!)
      .execute()
    const tampered = await verify(store)
    expect(tampered.ok).toBe(false)
    expect(tampered.problems).toContain(`audit record ${ids[1]} was altered (hash mismatch)`)
    await db.updateTable('audit_log').set({ record: original }).where('id', '=', ids[1]!).execute()
    expect((await verify(store)).ok).toBe(true)
  })

  it('keeps several audit chains, each a line, and the verify check catches a record removed from one', async () => {
    const append = (chain: number, i: number) =>
      db.transaction().execute((trx) =>
        appendAudit(
          trx,
          store.caps,
          [
            {
              id: newId('aud'),
              at: 1_700_000_000_000 + i,
              actor: 'system',
              action: 'test.chains',
              target: 'ctr_y',
              data: { i },
            },
          ],
          chain,
        ),
      )
    for (let i = 0; i < 12; i++) await append(1 + (i % 3), i) // interleaved: 1, 2, 3, 1, 2, 3…
    expect((await verify(store)).problems).toEqual([])
    const last = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'test.chains')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow()
    await db.deleteFrom('audit_log').where('id', '=', last.id).execute()
    const problems = (await verify(store)).problems
    expect(problems).toContain('the audit heads do not match the last records of their chains')
    await db.insertInto('audit_log').values(last).execute()
    expect((await verify(store)).problems).toEqual([])
  })
})
