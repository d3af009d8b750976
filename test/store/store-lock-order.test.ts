/**
 * Lock order on PostgreSQL: every writer takes its row locks in one order — the aggregate, then its timers, then the
 * balance rows sorted by account, then the audit head — so two commands wait for each other, never in a cycle.
 * A cycle would stall both for `deadlock_timeout` and abort one, and the aborted command is retried from a fresh
 * read after it may already have charged the payment rail. Each test makes the interleaving that used to close a
 * cycle, and checks that neither side had to start again (a retried command reads its contract a second time).
 */
import { type KyselyPlugin, type RootOperationNode, TableNode } from 'kysely'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createUser } from '../../src/app/accounts.ts'
import type { App } from '../../src/app/app.ts'
import { disputeCommand, milestoneCommand } from '../../src/app/contracts.ts'
import { offerCommand, openOffer } from '../../src/app/offers.ts'
import type { PaymentRail } from '../../src/app/payment-rail.ts'
import { runTimer } from '../../src/app/timers.ts'
import { loadContract, loadOffer } from '../../src/store/repos/aggregate-repo.ts'
import type { DueTimer } from '../../src/store/repos/timer-repo.ts'
import { num } from '../../src/store/schema.ts'
import {
  ADAPTERS,
  contractReads,
  fund,
  makeContract,
  storeBed,
  submit,
  tag,
  termsInput,
  userActor,
} from './store-fixtures.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
// a real server: PGlite has one connection, so nothing there can wait for anything
const postgres = ADAPTERS.map((make) => make()).find((a) => a.name === 'postgres')

/** A rail that counts its charges and holds each one until `release` resolves (or `ms` have passed). */
function slowRail(release: Promise<unknown>, ms: number, charging?: () => void) {
  const rail = {
    charges: 0,
    async charge() {
      rail.charges++
      charging?.()
      await Promise.race([release, sleep(ms)])
    },
    async payout() {},
  }
  return rail satisfies PaymentRail
}

const approveWithBonus = (mid: string, bonus: bigint) =>
  ({
    type: 'approve',
    milestoneId: mid,
    amount: null,
    acceptedEntries: null,
    bonus,
    rest: 'refund',
    message: null,
  }) as const

describe.skipIf(!postgres)('lock order on PostgreSQL', () => {
  const bed = storeBed(postgres!)
  afterEach(() => vi.restoreAllMocks())

  it('the timer worker locks the contract before the due timer, as a command that cancels that timer does', async () => {
    const { app, db } = bed
    const d = await makeContract(app, [100_000n])
    const mid = d.mids[0]!
    await fund(app, d.client, mid)
    await submit(app, d.freelancer, mid)
    const row = await db
      .selectFrom('timers')
      .selectAll()
      .where('key', '=', `auto_release:${mid}`)
      .executeTakeFirstOrThrow()
    const t: DueTimer = {
      key: row.key,
      kind: 'auto_release',
      runAt: num(row.run_at),
      payload: JSON.parse(row.payload),
      attempts: 0,
    }
    const clock = { ...app.clock, now: () => t.runAt + 1 }

    // The worker, once it has deleted the due timer's row, waits a little before going on. The client approves
    // with a bonus; the rail's charge (the contract locked by then) returns as soon as the worker holds that row.
    let timerTaken!: () => void
    const taken = new Promise<void>((r) => {
      timerTaken = r
    })
    const deletes = new Set<unknown>()
    const pauseAfterTimerDelete: KyselyPlugin = {
      transformQuery({ node, queryId }) {
        if (node.kind === 'DeleteQueryNode' && isTable(node, 'timers')) deletes.add(queryId)
        return node
      },
      async transformResult({ result, queryId }) {
        if (deletes.has(queryId)) {
          timerTaken()
          await sleep(300)
        }
        return result
      },
    }
    const worker: App = { ...app, clock, store: { ...app.store, db: app.store.db.withPlugin(pauseAfterTimerDelete) } }
    const rail = slowRail(taken, 600)
    const reads = contractReads()
    const approving = milestoneCommand(reads.watch(app, rail), d.client, approveWithBonus(mid, 10_000n))
    await sleep(100) // the approve holds the contract and waits in the rail
    const [approved, ran] = await Promise.allSettled([approving, runTimer(worker, t)])

    expect(approved.status, String((approved as PromiseRejectedResult).reason)).toBe('fulfilled')
    expect(reads.count()).toBe(1) // the approve was not aborted and retried
    expect(ran).toEqual({ status: 'fulfilled', value: false }) // it found its timer cancelled by the approve
    const m = (await loadContract(db, d.cid))!.value.milestones[0]!
    expect([m.state, m.releasedVia, m.bonus]).toEqual(['released', 'approval', 10_000n])
    const bonuses = await db.selectFrom('journal_entries').select('id').where('milestone_id', '=', mid).execute()
    expect(rail.charges).toBe(1)
    expect(bonuses.length).toBeGreaterThan(0)
  }, 30_000)

  it('a client spending credit does not hold its balance row while a settlement on another contract credits it', async () => {
    const { app, db } = bed
    // the client's contracts: A in review (approved with a bonus), B in dispute, C refunded (the credit)
    const a = await makeContract(app, [100_000n])
    await fund(app, a.client, a.mids[0]!)
    await submit(app, a.freelancer, a.mids[0]!)
    const b = await anotherContract(app, a.client, 100_000n)
    await fund(app, a.client, b.mid)
    await disputeCommand(app, b.freelancer, {
      type: 'open_dispute',
      milestoneId: b.mid,
      reason: 'paid too late',
      releaseAmount: 50_000n,
    })
    const dispute = (await loadContract(db, b.cid))!.value.disputes[0]!
    const c = await anotherContract(app, a.client, 20_000n)
    await fund(app, a.client, c.mid)
    await milestoneCommand(app, c.freelancer, { type: 'refund', milestoneId: c.mid, reason: null })
    const credit = await db
      .selectFrom('accounts')
      .select('balance')
      .where('account', '=', `user:${a.client.id}:available`)
      .executeTakeFirstOrThrow()
    expect(BigInt(credit.balance)).toBeGreaterThan(0n)

    // both commands post to the same shard of the platform's fee account
    vi.spyOn(Math, 'random').mockReturnValue(0)
    // T1 approves A with a bonus larger than the credit: it takes the credit, and the rail holds it a while
    let inRail!: () => void
    const charging = new Promise<void>((r) => {
      inRail = r
    })
    const rail = slowRail(new Promise(() => {}), 300, inRail)
    const t1Reads = contractReads()
    const t1 = milestoneCommand(t1Reads.watch(app, rail), a.client, approveWithBonus(a.mids[0]!, 100_000n))
    await charging
    // T2, meanwhile: the client accepts the freelancer's proposal on B (half released, half refunded as credit)
    const t2Reads = contractReads()
    const t2 = disputeCommand(t2Reads.watch(app, rail), a.client, {
      type: 'accept_proposal',
      disputeId: dispute.id,
      proposalId: dispute.proposals[0]!.id,
    })
    const results = await Promise.allSettled([t1, t2])

    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled'])
    expect([t1Reads.count(), t2Reads.count()]).toEqual([1, 1]) // neither was aborted and retried
    expect(rail.charges).toBe(1)
    const after = (await loadContract(db, a.cid))!.value.milestones[0]!
    expect([after.state, after.bonus]).toEqual(['released', 100_000n])
    expect((await loadContract(db, b.cid))!.value.disputes[0]!.status).not.toBe(dispute.status)
  }, 30_000)
})

function isTable(node: RootOperationNode, table: string): boolean {
  const from = (node as { from?: { froms: readonly unknown[] } }).from
  return !!from?.froms.some((f) => TableNode.is(f as never) && (f as TableNode).table.identifier.name === table)
}

/** A second contract of `client`, with a new freelancer, its one milestone pending. */
async function anotherContract(app: App, client: ReturnType<typeof userActor>, amount: bigint) {
  const f = await createUser(app, {
    email: `freelancer-${tag()}@tranche.test`,
    password: 'correct-horse-battery-9',
    name: 'Freelancer',
  })
  const offer = await openOffer(app, client, {
    role: 'client',
    counterpartyEmail: f.email,
    terms: termsInput([amount]),
  })
  await offerCommand(app, userActor(f.id), offer.id, { type: 'accept', revision: 1 })
  const cid = (await loadOffer(app.store.db, offer.id))!.value.contractId!
  return { freelancer: userActor(f.id), cid, mid: (await loadContract(app.store.db, cid))!.value.milestones[0]!.id }
}
