/**
 * The store conformance suite, timers and idempotency keys: the same checks, through the real repos, on every adapter —
 * SQLite (a temp file), PostgreSQL in process (PGlite) and the real PostgreSQL server when TRANCHE_TEST_DATABASE_URL is
 * set (a fresh schema, dropped after). Here: due timers claimed under leases (skipping locked rows on PostgreSQL), and
 * idempotency keys through their states. Each adapter gets one store for the whole block; every test uses its own ids.
 * The rest of the suite is in the other `store-*.test.ts` files.
 */
import type { Kysely } from 'kysely'
import { beforeAll, describe, expect, it } from 'vitest'
import type { TimerSpec } from '../../src/domain/types.ts'
import type { Store } from '../../src/store/database.ts'
import { claimKey, completeKey, releaseKey, STALE_CLAIM_MS } from '../../src/store/repos/idempotency-repo.ts'
import { applyTimers, claimDue, completeTimer, failTimer, releaseLeases } from '../../src/store/repos/timer-repo.ts'
import type { DB } from '../../src/store/schema.ts'
import { ADAPTERS, storeBed, tag } from './store-fixtures.ts'

describe.each(ADAPTERS.map((make) => make()))('store conformance on $name', (adapter) => {
  const bed = storeBed(adapter)
  let store: Store
  let db: Kysely<DB>
  beforeAll(() => {
    ;({ store, db } = bed)
  })

  it('claims due timers in deadline order, honours leases, and completes only the run it claimed', async () => {
    const k = (n: string) => `test:${tag()}:${n}`
    const spec = (key: string, runAt: number): TimerSpec => ({
      key,
      kind: 'dormancy',
      runAt,
      payload: { contractId: 'ctr_x', note: '☕' },
    })
    const [late, early, future, cancelled] = [k('late'), k('early'), k('future'), k('cancelled')]
    await applyTimers(
      db,
      { set: [spec(late, 300), spec(early, 200), spec(future, 5_000), spec(cancelled, 100)], cancel: [] },
      1,
    )
    await applyTimers(db, { set: [], cancel: [cancelled] }, 1)
    const realNow = 1_000_000
    const lease = { now: 1_000, limit: 10, leaseMs: 30_000 }

    const a = await claimDue(store, { ...lease, owner: 'A', realNow })
    expect(a.map((t) => t.key)).toEqual([early, late])
    expect(a[0]).toEqual({
      key: early,
      kind: 'dormancy',
      runAt: 200,
      payload: { contractId: 'ctr_x', note: '☕' },
      attempts: 0,
    })
    expect(await claimDue(store, { ...lease, owner: 'B', realNow: realNow + 1 })).toEqual([])

    // the lease runs out: another owner takes them
    const b = await claimDue(store, { ...lease, owner: 'B', realNow: realNow + 30_001 })
    expect(b.map((t) => t.key)).toEqual([early, late])
    const owners = await db
      .selectFrom('timers')
      .select(['key', 'lease_owner'])
      .where('key', 'in', [early, late])
      .orderBy('key')
      .execute()
    expect(owners.every((o) => o.lease_owner === 'B')).toBe(true)

    // re-set while running: completing the old run leaves the new deadline in place
    await applyTimers(db, { set: [spec(late, 400)], cancel: [] }, 2)
    await completeTimer(db, b[0]!)
    await completeTimer(db, b[1]!)
    const left = await db
      .selectFrom('timers')
      .select(['key', 'run_at', 'lease_owner', 'attempts'])
      .where('key', 'in', [early, late, future, cancelled])
      .orderBy('run_at')
      .execute()
    expect(left.map((r) => ({ ...r, run_at: BigInt(r.run_at), attempts: Number(r.attempts) }))).toEqual([
      { key: late, run_at: 400n, lease_owner: null, attempts: 0 },
      { key: future, run_at: 5_000n, lease_owner: null, attempts: 0 },
    ])

    // a failure backs off until its retry time, then counts the attempt
    const [again] = await claimDue(store, { ...lease, owner: 'C', realNow })
    expect(again?.key).toBe(late)
    await failTimer(db, again!, 'boom', realNow + 60_000)
    expect(await claimDue(store, { ...lease, owner: 'C', realNow: realNow + 59_999 })).toEqual([])
    const retried = await claimDue(store, { ...lease, owner: 'C', realNow: realNow + 60_001 })
    expect(retried.map((t) => [t.key, t.attempts])).toEqual([[late, 1]])
    await releaseLeases(db, 'C')
    expect(
      (await claimDue(store, { ...lease, limit: 1, owner: 'D', realNow: realNow + 60_001 })).map((t) => t.key),
    ).toEqual([late])
    await applyTimers(db, { set: [], cancel: [late, future] }, 3)
  })

  it.runIf(adapter.name === 'postgres')(
    'skips timers locked by another transaction (FOR UPDATE SKIP LOCKED)',
    async () => {
      const [x, y] = [`test:${tag()}:x`, `test:${tag()}:y`]
      await applyTimers(
        db,
        {
          set: [
            { key: x, kind: 'dormancy', runAt: 10, payload: {} },
            { key: y, kind: 'dormancy', runAt: 20, payload: {} },
          ],
          cancel: [],
        },
        1,
      )
      await db.transaction().execute(async (trx) => {
        await trx.selectFrom('timers').select('key').where('key', '=', x).forUpdate().execute()
        const got = await claimDue(store, {
          now: 1_000,
          limit: 10,
          owner: 'other',
          realNow: 1,
          leaseMs: 1_000,
        })
        expect(got.map((t) => t.key)).toEqual([y])
      })
      await applyTimers(db, { set: [], cancel: [x, y] }, 1)
    },
  )

  it('moves idempotency keys through claimed, in use, reused, replay, released and stale takeover', async () => {
    const user = `usr_${tag()}`
    const t0 = 1_700_000_000_000
    expect(await claimKey(db, user, 'k1', 'h1', t0)).toEqual({ kind: 'claimed' })
    expect(await claimKey(db, user, 'k1', 'h1', t0 + 1)).toEqual({ kind: 'in_use' })
    expect(await claimKey(db, user, 'k1', 'h2', t0 + 1)).toEqual({ kind: 'reused' })
    expect(await claimKey(db, `usr_${tag()}`, 'k1', 'h2', t0)).toEqual({ kind: 'claimed' }) // keys are per user
    await db.transaction().execute((trx) => completeKey(trx, user, 'k1', 201, '{"id":"x","name":"☕"}'))
    await releaseKey(db, user, 'k1') // a finished key stays
    expect(await claimKey(db, user, 'k1', 'h1', t0 + 2)).toEqual({
      kind: 'replay',
      status: 201,
      body: '{"id":"x","name":"☕"}',
    })

    expect(await claimKey(db, user, 'k2', 'h1', t0)).toEqual({ kind: 'claimed' })
    await releaseKey(db, user, 'k2')
    expect(await claimKey(db, user, 'k2', 'h1', t0 + 5)).toEqual({ kind: 'claimed' })

    // a claim whose command never finished goes stale and is taken over once
    expect(await claimKey(db, user, 'k2', 'h1', t0 + 5 + STALE_CLAIM_MS)).toEqual({ kind: 'in_use' })
    expect(await claimKey(db, user, 'k2', 'h1', t0 + 6 + STALE_CLAIM_MS)).toEqual({ kind: 'claimed' })
    expect(await claimKey(db, user, 'k2', 'h1', t0 + 7 + STALE_CLAIM_MS)).toEqual({ kind: 'in_use' })
  })
})
