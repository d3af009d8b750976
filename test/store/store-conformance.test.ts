/**
 * The store conformance suite: the same checks, through the real repos and `run()`, on every adapter — SQLite (a temp
 * file), PostgreSQL in process (PGlite) and the real PostgreSQL server when TRANCHE_TEST_DATABASE_URL is set (a fresh
 * schema, dropped after). Each adapter gets one store for the whole block; every test uses its own ids.
 */
import { randomBytes } from 'node:crypto'
import { type Kysely, sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type App, run } from '../../src/app/app.ts'
import { newId } from '../../src/app/ids.ts'
import { decode } from '../../src/app/json-codec.ts'
import { verify } from '../../src/app/verify.ts'
import { createContract } from '../../src/domain/contract-model.ts'
import { DomainError } from '../../src/domain/errors.ts'
import { decideMilestone } from '../../src/domain/milestone-commands.ts'
import { createOffer } from '../../src/domain/offer.ts'
import { validateTerms } from '../../src/domain/terms.ts'
import type { DecisionContext, TimerSpec } from '../../src/domain/types.ts'
import type { Runtime } from '../../src/main.ts'
import { classify, type Store } from '../../src/store/database.ts'
import { AUDIT_CHAINS, migrateToLatest } from '../../src/store/migrations.ts'
import { openPostgres } from '../../src/store/postgres/postgres-store.ts'
import {
  contractIdOf,
  loadContract,
  loadOffer,
  saveContract,
  saveOffer,
  VersionConflict,
} from '../../src/store/repos/aggregate-repo.ts'
import { appendAudit } from '../../src/store/repos/audit-repo.ts'
import { insertEvents, listEvents } from '../../src/store/repos/event-repo.ts'
import { claimKey, completeKey, releaseKey, STALE_CLAIM_MS } from '../../src/store/repos/idempotency-repo.ts'
import {
  allBalances,
  BALANCE_SHARDS,
  balanceOf,
  NegativeBalance,
  postEntries,
  sharedBalance,
} from '../../src/store/repos/ledger-repo.ts'
import { applyTimers, claimDue, completeTimer, failTimer, releaseLeases } from '../../src/store/repos/timer-repo.ts'
import type { DB } from '../../src/store/schema.ts'
import { dropSchema, PG_URL } from '../support/harness.ts'
import {
  ADAPTERS,
  approve,
  barrierRail,
  contractReads,
  fund,
  makeContract,
  rowCounts,
  runtimeOn,
  submit,
  tag,
  termsInput,
  UNICODE,
  userActor,
} from './store-fixtures.ts'

/** Exactly one of two racing commands won; the other was refused as a stale state transition. */
async function expectOneWinner(results: PromiseSettledResult<unknown>[]) {
  const won = results.filter((r) => r.status === 'fulfilled')
  const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
  expect(won).toHaveLength(1)
  expect(lost).toHaveLength(1)
  const reason: unknown = lost[0]?.reason
  expect(reason).toBeInstanceOf(DomainError)
  expect(reason instanceof DomainError && reason.code).toBe('invalid_state_transition')
}

async function countEntries(db: Kysely<DB>, milestoneId: string, kind: string) {
  const row = await db
    .selectFrom('journal_entries')
    .select((eb) => eb.fn.countAll<bigint>().as('n'))
    .where('milestone_id', '=', milestoneId)
    .where('kind', '=', kind)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

describe.each(ADAPTERS.map((make) => make()))('store conformance on $name', (adapter) => {
  let store: Store
  let rt: Runtime
  let app: App
  let db: Kysely<DB>

  beforeAll(async () => {
    store = await adapter.open()
    rt = await runtimeOn(store)
    app = rt.app
    db = store.db
  }, 180_000)

  afterAll(async () => {
    await rt?.close()
    await adapter.cleanup()
  })

  it('reports the capabilities of its dialect', () => {
    expect(store.caps.dialect).toBe(adapter.name === 'sqlite' ? 'sqlite' : 'postgres')
    expect(store.caps.skipLocked).toBe(adapter.name !== 'sqlite')
    expect(store.caps.rowLocks).toBe(adapter.name !== 'sqlite')
  })

  it('runs migrations idempotently', async () => {
    await migrateToLatest(db as Kysely<unknown>, store.caps.dialect)
    await migrateToLatest(db as Kysely<unknown>, store.caps.dialect)
    const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(db)
    expect(rows.map((r) => r.name)).toEqual(['001_initial', '002_audit_chains', '003_more_audit_chains'])
    const head = await db.selectFrom('audit_head').selectAll().execute()
    expect(head).toHaveLength(AUDIT_CHAINS)
  })

  it.runIf(adapter.name === 'postgres')(
    'migrates a fresh schema beside another migrated schema in the same database',
    async () => {
      const schema = `t_${randomBytes(6).toString('hex')}`
      try {
        const fresh = await openPostgres(PG_URL!, { schema, poolSize: 1 })
        const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(fresh.db)
        expect(rows.map((r) => r.name)).toEqual(['001_initial', '002_audit_chains', '003_more_audit_chains'])
        await fresh.close()
      } finally {
        await dropSchema(schema)
      }
    },
  )

  it('round-trips an offer and a contract exactly (bigint amounts, unicode text)', async () => {
    const ctx: DecisionContext = { now: 1_700_000_000_123, actor: userActor('usr_a'), newId }
    const terms = validateTerms(termsInput([999_999_999_999n, 500n * 100n]), { minimumMajor: 5n })
    const { offer } = createOffer(
      { authorId: `usr_a${tag()}`, counterpartyId: `usr_b${tag()}`, role: 'client', terms },
      ctx,
    )
    await db.transaction().execute((trx) => saveOffer(trx, offer, null))
    expect(await loadOffer(db, offer.id)).toStrictEqual({ value: offer, version: 1 })

    const { contract } = createContract(
      {
        id: newId('ctr'),
        offerId: offer.id,
        clientId: offer.clientId,
        freelancerId: offer.freelancerId,
        terms,
        fees: { clientFeeBps: 500, serviceFeeBps: 1000 },
      },
      ctx,
    )
    await db.transaction().execute((trx) => saveContract(trx, contract, null))
    const loaded = await loadContract(db, contract.id)
    expect(loaded).toStrictEqual({ value: contract, version: 1 })
    expect(typeof loaded?.value.milestones[0]?.amount).toBe('bigint')
    expect(loaded?.value.title).toBe(UNICODE)
    for (const m of contract.milestones) expect(await contractIdOf(db, m.id)).toBe(contract.id)
    // what the row holds decodes to the same contract (the load above may be served from the decoded memo)
    const stored = await db
      .selectFrom('contracts')
      .select('data')
      .where('id', '=', contract.id)
      .executeTakeFirstOrThrow()
    expect(decode(stored.data)).toStrictEqual(contract)
    const row = await db
      .selectFrom('contracts')
      .select(['status', 'client_id', 'created_at'])
      .where('id', '=', contract.id)
      .executeTakeFirstOrThrow()
    expect(row).toEqual({ status: 'active', client_id: offer.clientId, created_at: 1_700_000_000_123n })

    // inserting the same id again is a unique violation, classified at the adapter
    const dup = await saveOffer(db, offer, null).catch((e: unknown) => e)
    expect(classify(dup)).toBe('unique_violation')
  })

  it('guards saves with the version read (VersionConflict on a stale version)', async () => {
    const ctx: DecisionContext = { now: 1_700_000_000_000, actor: userActor('usr_a'), newId }
    const terms = validateTerms(termsInput([10_000n]), { minimumMajor: 5n })
    const { offer } = createOffer(
      { authorId: `usr_a${tag()}`, counterpartyId: `usr_b${tag()}`, role: 'client', terms },
      ctx,
    )
    await saveOffer(db, offer, null)
    await saveOffer(db, { ...offer, status: 'declined' }, 1)
    await expect(saveOffer(db, { ...offer, status: 'withdrawn' }, 1)).rejects.toBeInstanceOf(VersionConflict)
    const now = await loadOffer(db, offer.id)
    expect(now?.version).toBe(2)
    expect(now?.value.status).toBe('declined')

    const { contract } = createContract(
      {
        id: newId('ctr'),
        offerId: offer.id,
        clientId: offer.clientId,
        freelancerId: offer.freelancerId,
        terms,
        fees: { clientFeeBps: 0, serviceFeeBps: 0 },
      },
      ctx,
    )
    await saveContract(db, contract, null)
    await saveContract(db, contract, 1)
    await expect(saveContract(db, contract, 1)).rejects.toBeInstanceOf(VersionConflict)
    expect((await loadContract(db, contract.id))?.version).toBe(2)
  })

  it('keeps accounts equal to the sum of their lines and refuses a negative user balance, leaving nothing behind', async () => {
    const user = `usr_${tag()}`
    const avail = `user:${user}:available`
    const big = 2n ** 60n + 7n // beyond 2^53: must come back exact
    await run(app, { actor: { kind: 'system' } }, (tx) =>
      tx.entries([
        {
          id: newId('je'),
          kind: 'fund',
          currency: 'EUR',
          lines: [
            { account: 'ext:rail', amount: -big },
            { account: avail, amount: big },
          ],
          memo: 'in ✓',
          contractId: null,
          milestoneId: null,
        },
      ]),
    )
    const balance = await balanceOf(db, avail, 'EUR')
    expect(balance).toBe(big)
    const acct = await db
      .selectFrom('accounts')
      .select(['balance', 'user_id'])
      .where('account', '=', avail)
      .executeTakeFirstOrThrow()
    expect(typeof acct.balance).toBe('bigint')
    expect(acct.user_id).toBe(user)

    const before = await rowCounts(db)
    const okEntry = {
      id: newId('je'),
      kind: 'fund' as const,
      currency: 'EUR',
      lines: [
        { account: 'ext:rail', amount: -5n },
        { account: avail, amount: 5n },
      ],
      memo: 'ok',
      contractId: null,
      milestoneId: null,
    }
    const overdraw = {
      id: newId('je'),
      kind: 'payout' as const,
      currency: 'EUR',
      lines: [
        { account: avail, amount: -(big + 10n) },
        { account: 'ext:rail', amount: big + 10n },
      ],
      memo: 'too much',
      contractId: null,
      milestoneId: null,
    }
    await expect(
      run(app, { actor: { kind: 'system' } }, (tx) => tx.entries([okEntry, overdraw])),
    ).rejects.toBeInstanceOf(NegativeBalance)
    expect(await rowCounts(db)).toEqual(before)
    expect(await balanceOf(db, avail, 'EUR')).toBe(big)

    await expect(
      db
        .transaction()
        .execute((trx) =>
          postEntries(trx, [{ ...okEntry, id: newId('je'), lines: [{ account: avail, amount: 1n }] }], 0),
        ),
    ).rejects.toThrow(/unbalanced/)

    const sums = await db
      .selectFrom('journal_lines')
      .select(['account', (eb) => eb.fn.sum<bigint | string>('amount').as('total')])
      .where('currency', '=', 'EUR')
      .groupBy('account')
      .execute()
    const accounts = (await allBalances(db)).filter((a) => a.currency === 'EUR')
    expect(new Map(accounts.map((a) => [a.account, a.balance]))).toEqual(
      new Map(sums.map((s) => [s.account, BigInt(s.total)])),
    )
    const report = await verify(store)
    expect(report.problems).toEqual([])
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

    const a = await claimDue(db, store.caps, { ...lease, owner: 'A', realNow })
    expect(a.map((t) => t.key)).toEqual([early, late])
    expect(a[0]).toEqual({
      key: early,
      kind: 'dormancy',
      runAt: 200,
      payload: { contractId: 'ctr_x', note: '☕' },
      attempts: 0,
    })
    expect(await claimDue(db, store.caps, { ...lease, owner: 'B', realNow: realNow + 1 })).toEqual([])

    // the lease runs out: another owner takes them
    const b = await claimDue(db, store.caps, { ...lease, owner: 'B', realNow: realNow + 30_001 })
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
    const [again] = await claimDue(db, store.caps, { ...lease, owner: 'C', realNow })
    expect(again?.key).toBe(late)
    await failTimer(db, again!, 'boom', realNow + 60_000)
    expect(await claimDue(db, store.caps, { ...lease, owner: 'C', realNow: realNow + 59_999 })).toEqual([])
    const retried = await claimDue(db, store.caps, { ...lease, owner: 'C', realNow: realNow + 60_001 })
    expect(retried.map((t) => [t.key, t.attempts])).toEqual([[late, 1]])
    await releaseLeases(db, 'C')
    expect(
      (await claimDue(db, store.caps, { ...lease, limit: 1, owner: 'D', realNow: realNow + 60_001 })).map((t) => t.key),
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
        const got = await claimDue(db, store.caps, {
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

  it('keeps a shared account in several balance rows whose sum is its balance', async () => {
    const user = `usr_${tag()}`
    const avail = `user:${user}:available`
    const amounts = Array.from({ length: 24 }, (_, i) => BigInt(100 + i))
    for (const amount of amounts)
      await run(app, { actor: { kind: 'system' } }, (tx) =>
        tx.entries([
          {
            id: newId('je'),
            kind: 'fund',
            currency: 'CHF',
            lines: [
              { account: 'ext:rail', amount: -amount },
              { account: avail, amount },
            ],
            memo: 'in',
            contractId: null,
            milestoneId: null,
          },
        ]),
      )
    const total = amounts.reduce((a, b) => a + b, 0n)
    const rows = await db
      .selectFrom('accounts')
      .select('account')
      .where('currency', '=', 'CHF')
      .where('account', 'like', 'ext:rail%')
      .execute()
    // 24 postings over 8 rows: all in one row would be a 1-in-8^23 draw
    expect(rows.length).toBeGreaterThan(1)
    expect(rows.length).toBeLessThanOrEqual(BALANCE_SHARDS)
    expect(rows.every((r) => /^ext:rail~[0-7]$/.test(r.account))).toBe(true)
    expect(await sharedBalance(db, 'ext:rail')).toContainEqual({ currency: 'CHF', balance: -total })
    expect((await allBalances(db)).filter((b) => b.currency === 'CHF')).toEqual(
      expect.arrayContaining([
        { account: 'ext:rail', currency: 'CHF', balance: -total },
        { account: avail, currency: 'CHF', balance: total },
      ]),
    )
    expect(await balanceOf(db, avail, 'CHF')).toBe(total)
    expect((await verify(store)).problems).toEqual([])
  })

  it('rolls back a command that wrote state, entries, timers, events and audit and then threw', async () => {
    const d = await makeContract(app, [100_000n])
    const mid = d.mids[0]!
    const idem = { userId: d.client.id, key: `idem-${tag()}`, hash: 'h', status: 200, render: () => '{}' }
    expect(await claimKey(db, idem.userId, idem.key, 'h', Date.now())).toEqual({ kind: 'claimed' })
    const counts = await rowCounts(db)
    const head = await db.selectFrom('audit_head').selectAll().orderBy('id').execute()
    const version = (await loadContract(db, d.cid))?.version

    let inside: Record<string, number> = {}
    await expect(
      run(app, { actor: d.client, idem }, async (tx) => {
        const before = await loadContract(tx.db, d.cid)
        const decision = decideMilestone(before!.value, { type: 'fund', milestoneIds: [mid], credit: 0n }, tx.ctx())
        await tx.commitContract(before, decision, 'milestone.fund')
        await tx.postPending() // journal entries are posted when a command's work is done: here, before it throws
        inside = await rowCounts(tx.db)
        throw new Error('crash mid-command')
      }),
    ).rejects.toThrow('crash mid-command')

    // the command really wrote everything before it threw (its audit record is written when it ends)…
    for (const t of ['journal_entries', 'journal_lines', 'timers', 'events', 'event_recipients'])
      expect(inside[t], t).toBeGreaterThan(counts[t]!)
    // …and none of it is left
    expect(await rowCounts(db)).toEqual(counts)
    expect(await db.selectFrom('audit_head').selectAll().orderBy('id').execute()).toEqual(head)
    const after = await loadContract(db, d.cid)
    expect(after?.version).toBe(version)
    expect(after?.value.milestones[0]?.state).toBe('pending')
    expect(await claimKey(db, idem.userId, idem.key, 'h', Date.now())).toEqual({ kind: 'in_use' }) // still in flight, not done
    expect((await verify(store)).problems).toEqual([])
  })

  it('lets exactly one of two racing fund commands win', async () => {
    const d = await makeContract(app, [100_000n])
    const mid = d.mids[0]!
    // the rail waits (briefly) for both commands: on a pool the second would arrive if it could read the contract
    const reads = contractReads()
    const rail = barrierRail(2, 300)
    const racing = reads.watch(app, rail)
    await expectOneWinner(await Promise.allSettled([fund(racing, d.client, mid), fund(racing, d.client, mid)]))
    // one connection runs the commands one after the other; with row locks (PostgreSQL) the second waits on the
    // contract's lock and decides on the winner's state — either way the loser never reaches the payment rail
    expect(reads.count()).toBe(2)
    expect(rail.arrivals()).toBe(1)
    expect(await countEntries(db, mid, 'fund')).toBe(1)
    expect((await loadContract(db, d.cid))?.value.milestones[0]?.state).toBe('funded')
    expect((await verify(store)).problems).toEqual([])
  })

  it('lets exactly one of two racing approvals win', async () => {
    const d = await makeContract(app, [100_000n, 20_000n])
    const mid = d.mids[0]!
    await fund(app, d.client, mid)
    await submit(app, d.freelancer, mid)
    await expectOneWinner(await Promise.allSettled([approve(app, d.client, mid), approve(app, d.client, mid)]))
    expect(await countEntries(db, mid, 'release')).toBe(1)
    expect((await loadContract(db, d.cid))?.value.milestones[0]?.state).toBe('released')
    expect((await verify(store)).problems).toEqual([])
  })

  it.runIf(adapter.openAnother !== undefined)(
    'lets exactly one win when two stores (two connections) race on one database',
    async () => {
      const other = await runtimeOn(await adapter.openAnother!())
      try {
        const d = await makeContract(app, [100_000n])
        const mid = d.mids[0]!
        const rail = barrierRail(2, 300)
        const reads = contractReads()
        await expectOneWinner(
          await Promise.allSettled([
            fund(reads.watch(app, rail), d.client, mid),
            fund(reads.watch(other.app, rail), d.client, mid),
          ]),
        )
        // the loser waited for the winner's lock (PostgreSQL: the contract row; SQLite: BEGIN IMMEDIATE), then read
        // the funded milestone once and never reached the payment rail
        expect(reads.count()).toBe(2)
        expect(rail.arrivals()).toBe(1)
        await submit(other.app, d.freelancer, mid)
        await expectOneWinner(
          await Promise.allSettled([approve(app, d.client, mid), approve(other.app, d.client, mid)]),
        )
        expect(await countEntries(db, mid, 'fund')).toBe(1)
        expect(await countEntries(db, mid, 'release')).toBe(1)
        expect((await verify(store)).problems).toEqual([])
        expect((await verify(other.store)).problems).toEqual([])
      } finally {
        await other.close()
      }
    },
  )
})
