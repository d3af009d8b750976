/**
 * The store conformance suite, transactions, rollbacks and races: the same checks, through the use cases and `run()`,
 * on every adapter — SQLite (a temp file), PostgreSQL in process (PGlite) and the real PostgreSQL server when
 * TRANCHE_TEST_DATABASE_URL is set (a fresh schema, dropped after). Here: a command that throws leaves nothing behind,
 * and of two racing commands exactly one wins, on one store and on two stores over one database. Each adapter gets one
 * store for the whole block; every test uses its own ids. The rest of the suite is in the other `store-*.test.ts` files.
 */
import type { Kysely } from 'kysely'
import { beforeAll, describe, expect, it } from 'vitest'
import { type App, run } from '../../src/app/app.ts'
import { verify } from '../../src/app/verify.ts'
import { DomainError } from '../../src/domain/errors.ts'
import { decideMilestone } from '../../src/domain/milestone-commands.ts'
import type { Store } from '../../src/store/database.ts'
import { loadContract } from '../../src/store/repos/aggregate-repo.ts'
import { claimKey } from '../../src/store/repos/idempotency-repo.ts'
import type { DB } from '../../src/store/schema.ts'
import {
  ADAPTERS,
  approve,
  barrierRail,
  contractReads,
  fund,
  makeContract,
  rowCounts,
  runtimeOn,
  storeBed,
  submit,
  tag,
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
  const bed = storeBed(adapter)
  let store: Store
  let app: App
  let db: Kysely<DB>
  beforeAll(() => {
    ;({ store, app, db } = bed)
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
        await tx.writePending() // a command's last writes wait for its end (`Tx.finish`): here, before it throws
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
