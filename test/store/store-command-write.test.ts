/**
 * The store conformance suite, a contract command's last writes: on PostgreSQL (PGlite and the real server) the
 * contract's next version, timers, events, postings and audit record go in one statement (`command-write.ts`); on
 * SQLite in separate ones. Either way a stale version or a balance left below zero leaves nothing behind, the
 * recipients' webhook endpoints get their deliveries, and a decision too large for one statement is still written.
 */
import type { Kysely } from 'kysely'
import { beforeAll, describe, expect, it } from 'vitest'
import { type App, execute, type Tx } from '../../src/app/app.ts'
import { newId } from '../../src/app/ids.ts'
import { verify } from '../../src/app/verify.ts'
import { decideMilestone } from '../../src/domain/milestone-commands.ts'
import { type Store, writeTransaction } from '../../src/store/database.ts'
import { loadContract, VersionConflict } from '../../src/store/repos/aggregate-repo.ts'
import { writeContractCommand } from '../../src/store/repos/command-write.ts'
import { NegativeBalance } from '../../src/store/repos/ledger-repo.ts'
import type { DB } from '../../src/store/schema.ts'
import { ADAPTERS, fund, makeContract, rowCounts, storeBed } from './store-fixtures.ts'

describe.each(ADAPTERS.map((make) => make()))('a command’s last writes on $name', (adapter) => {
  const bed = storeBed(adapter)
  let store: Store
  let app: App
  let db: Kysely<DB>
  beforeAll(() => {
    ;({ store, app, db } = bed)
  })

  /** Runs `fn` as one command in its own transaction, as `run` does but without retrying. */
  const once = (actor: { kind: 'user'; id: string }, fn: (tx: Tx) => Promise<unknown>) =>
    writeTransaction(store, (trx) => execute(trx, app, { actor }, fn, true))

  const snapshot = async () => ({
    rows: await rowCounts(db),
    heads: await db.selectFrom('audit_head').selectAll().orderBy('id').execute(),
  })

  it('writes nothing when the contract changed since it was read', async () => {
    const d = await makeContract(app, [100_000n, 50_000n])
    const stale = (await loadContract(db, d.cid))!
    await fund(app, d.client, d.mids[0]!) // the contract moves on after the read above
    const before = await snapshot()
    await expect(
      once(d.client, async (tx) => {
        const decision = decideMilestone(
          stale.value,
          { type: 'fund', milestoneIds: [d.mids[1]!], credit: 0n },
          tx.ctx(),
        )
        await tx.commitContract(stale, decision, 'milestone.fund')
      }),
    ).rejects.toBeInstanceOf(VersionConflict)
    expect(await snapshot()).toEqual(before)
    const now = (await loadContract(db, d.cid))!
    expect(now.version).toBe(stale.version + 1)
    expect(now.value.milestones.map((m) => m.state)).toEqual(['funded', 'pending'])
    expect((await verify(store)).problems).toEqual([])
  })

  it('writes nothing when a posting would leave a user balance below zero', async () => {
    const d = await makeContract(app, [100_000n])
    const read = (await loadContract(db, d.cid))!
    const before = await snapshot()
    await expect(
      once(d.client, async (tx) => {
        // credit the client does not have: the funding entry takes it from their available balance (0)
        const decision = decideMilestone(
          read.value,
          { type: 'fund', milestoneIds: [d.mids[0]!], credit: 200_000n },
          tx.ctx(),
        )
        await tx.commitContract(read, decision, 'milestone.fund')
      }),
    ).rejects.toBeInstanceOf(NegativeBalance)
    expect(await snapshot()).toEqual(before)
    expect((await loadContract(db, d.cid))?.version).toBe(read.version)
    expect((await verify(store)).problems).toEqual([])
  })

  it('writes a delivery for each endpoint of the recipients that takes the event', async () => {
    const d = await makeContract(app, [100_000n])
    const endpoint = (id: string, user: string, events: string[]) => ({
      id,
      user_id: user,
      url: 'https://hooks.example.com/tranche',
      secret: 'whsec_test',
      enabled_events: JSON.stringify(events),
      enabled: 1,
      created_at: 0n,
      deleted_at: null,
    })
    const all = newId('we')
    const other = newId('we')
    await db
      .insertInto('webhook_endpoints')
      .values([endpoint(all, d.freelancer.id, ['*']), endpoint(other, d.client.id, ['dispute.opened'])])
      .execute()
    await fund(app, d.client, d.mids[0]!)
    const deliveries = await db
      .selectFrom('webhook_deliveries as w')
      .innerJoin('events as e', 'e.id', 'w.event_id')
      .select(['w.endpoint_id', 'w.user_id', 'w.event_seq', 'e.seq', 'e.type'])
      .where('e.object_id', '=', d.mids[0]!)
      .execute()
    expect(deliveries.map((r) => [r.endpoint_id, r.user_id, r.type])).toEqual([
      [all, d.freelancer.id, 'milestone.funded'],
    ])
    expect(Number(deliveries[0]!.event_seq)).toBe(Number(deliveries[0]!.seq))
  })

  it('writes a decision too large for one statement with separate statements', async () => {
    const d = await makeContract(app, [100_000n])
    const read = (await loadContract(db, d.cid))!
    const before = await rowCounts(db)
    const now = Date.now()
    await writeTransaction(store, async (trx) => {
      const decision = decideMilestone(
        read.value,
        { type: 'fund', milestoneIds: [d.mids[0]!], credit: 0n },
        {
          now,
          actor: d.client,
          newId,
        },
      )
      const events = Array.from({ length: 501 }, (_, i) => ({
        id: newId('evt'),
        type: 'milestone.funded',
        objectId: d.mids[0]!,
        contractId: d.cid,
        body: `{"n":${i}}`,
        createdAt: now,
        audience: [d.client.id],
      }))
      const w = { contract: decision.contract, version: read.version, before: read.value, timers: decision.timers }
      await writeContractCommand(trx, store.caps, { ...w, events, entries: decision.entries, audit: null, now }, () =>
        newId('whd'),
      )
    })
    const after = await rowCounts(db)
    const added = (t: string) => after[t]! - before[t]!
    expect(added('events')).toBe(501)
    expect(added('event_recipients')).toBe(501)
    expect(added('journal_entries')).toBe(1)
    expect((await loadContract(db, d.cid))?.value.milestones[0]?.state).toBe('funded')
    expect((await verify(store)).problems).toEqual([])
  })
})
