/**
 * The payment rail under races: neither the losers of a race nor a retried command may charge the card, and a keyed
 * request still running when its claim goes stale (60 s) is not run a second time by its retry.
 *
 * What the payment rail did versus what the ledger says it did, with an instrumented rail in the in-process runtime
 * of the harness (a rail call takes a few ms, like a real one). A command that lost a race must not have charged the
 * card, and a retried command must not charge it twice: money in through the rail = −(ext:rail lines of fund and
 * bonus entries), money out = ext:rail lines of payout entries.
 *
 * - SQLite and PostgreSQL (TRANCHE_TEST_DATABASE_URL): the harness runtime with the instrumented rail; funds and
 *   payouts racing in process.
 * - PostgreSQL only: a commit by another connection while a fund waits for the rail, the lock on the client's
 *   balance row, and a keyed payout whose claim goes stale.
 *
 * CI: 3 rounds of 4 racers per race; TRANCHE_DEEP=1: 20 rounds of 8.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PaymentRail } from '../../src/app/payment-rail.ts'
import { sandboxRail } from '../../src/app/payment-rail.ts'
import { balanceOf } from '../../src/store/repos/ledger-repo.ts'
import { big } from '../../src/store/schema.ts'
import { call, contract, DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import { N, ROUNDS, TEST_MS } from './races-support.ts'
import { key, sleep } from './support.ts'

describe.each(DATABASES)('the payment rail under races, in process, on %s', (kind) => {
  let env: TestEnv
  const rail = {
    charged: 0n,
    charges: 0,
    paidOut: 0n,
    /** while set, the next payout waits for it to be called (a rail that hangs) */
    holdNextPayout: null as null | ((release: () => void) => void),
    /** the same for the next charge */
    holdNextCharge: null as null | ((release: () => void) => void),
  }
  const instrumented: PaymentRail = {
    async charge(input) {
      await sandboxRail.charge(input)
      const hold = rail.holdNextCharge
      if (hold) {
        rail.holdNextCharge = null
        await new Promise<void>((release) => hold(release))
      }
      await sleep(5)
      rail.charged += input.amount
      rail.charges++
    },
    async payout(input) {
      const hold = rail.holdNextPayout
      if (hold) {
        rail.holdNextPayout = null
        await new Promise<void>((release) => hold(release))
      }
      await sleep(5)
      rail.paidOut += input.amount
    },
  }

  beforeAll(async () => {
    env = await startEnv(kind)
    // the runtime reads app.rail at each call
    ;(env.rt.app as { rail: PaymentRail }).rail = instrumented
  }, 120_000)
  afterAll(async () => env?.close(), 60_000)

  async function railInLedger(): Promise<{ in: bigint; out: bigint }> {
    const rows = await env.rt.store.db
      .selectFrom('journal_lines')
      .innerJoin('journal_entries', 'journal_entries.id', 'journal_lines.entry_id')
      .select(['journal_entries.kind', (eb) => eb.fn.sum<bigint>('journal_lines.amount').as('total')])
      .where('journal_lines.account', '=', 'ext:rail')
      .groupBy('journal_entries.kind')
      .execute()
    const by = new Map(rows.map((r) => [r.kind, big(r.total)]))
    return { in: -((by.get('fund') ?? 0n) + (by.get('bonus') ?? 0n)), out: by.get('payout') ?? 0n }
  }

  /** rail and ledger movements since `mark()` */
  let marked = { charged: 0n, paidOut: 0n, charges: 0, in: 0n, out: 0n }
  async function mark() {
    const l = await railInLedger()
    marked = { charged: rail.charged, paidOut: rail.paidOut, charges: rail.charges, in: l.in, out: l.out }
  }
  async function moved() {
    const l = await railInLedger()
    return {
      charges: rail.charges - marked.charges,
      rail: { in: rail.charged - marked.charged, out: rail.paidOut - marked.paidOut },
      ledger: { in: l.in - marked.in, out: l.out - marked.out },
    }
  }

  const post = (token: string, url: string, body: unknown = {}, idem?: string) =>
    call(env, 'POST', url, { token, body, ...(idem ? { idem } : {}) })

  it(
    `fund ×${N} of one milestone: the card is charged once`,
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const d = await contract(env)
        await mark()
        const rs = await Promise.all(
          Array.from({ length: N }, () => post(d.client.token, `/v1/milestones/${d.ids[0]}/fund`)),
        )
        expect(rs.filter((r) => r.status === 200).length).toBe(1)
        const m = await moved()
        expect(m.rail, `${m.charges} rail charges`).toEqual(m.ledger)
      }
    },
    TEST_MS,
  )

  /** A second contract between the same two users, its one milestone of `amount`. */
  async function another(d: Awaited<ReturnType<typeof contract>>, amount: number): Promise<string> {
    const offer = await post(d.client.token, '/v1/offers', {
      role: 'client',
      counterparty_email: d.freelancer.email,
      title: 'Another job',
      currency: 'USD',
      payment_mode: 'by_milestone',
      milestones: [{ title: 'One', amount }],
    })
    const acc = await post(d.freelancer.token, `/v1/offers/${offer.body.id}/accept`, { revision: 1 })
    const c = await call(env, 'GET', `/v1/contracts/${acc.body.contract_id}`, { token: d.client.token })
    return c.body.milestones[0].id
  }

  it(
    'funds of two contracts spending the same (partial) credit: the card is charged what the ledger records',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const d = await contract(env, {}, [50_000])
        await post(d.client.token, `/v1/milestones/${d.ids[0]}/fund`)
        await post(d.freelancer.token, `/v1/milestones/${d.ids[0]}/refund`)
        const x = await another(d, 100_000)
        const y = await another(d, 100_000)
        await mark()
        const rs = await Promise.all([
          post(d.client.token, `/v1/milestones/${x}/fund`),
          post(d.client.token, `/v1/milestones/${y}/fund`),
        ])
        expect(rs.map((r) => r.status)).toEqual([200, 200])
        const m = await moved()
        expect(m.rail, `${m.charges} rail charges`).toEqual(m.ledger)
      }
    },
    TEST_MS,
  )

  it(
    `payout ×${N} of the whole balance: the rail pays out once`,
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const d = await contract(env)
        await post(d.client.token, `/v1/milestones/${d.ids[0]}/fund`)
        await post(d.freelancer.token, `/v1/milestones/${d.ids[0]}/refund`)
        await mark()
        const rs = await Promise.all(
          Array.from({ length: N }, () => post(d.client.token, '/v1/payouts', { amount: 105_000, currency: 'USD' })),
        )
        expect(rs.filter((r) => r.status === 201).length).toBe(1)
        const m = await moved()
        expect(m.rail).toEqual(m.ledger)
      }
    },
    TEST_MS,
  )

  /**
   * Another connection — `tranche worker` as its own process, say — commits while a fund waits for the rail. SQLite
   * write transactions begin IMMEDIATE, so the other commit waits for this one instead of forcing a retry that would
   * charge the card again. On SQLite that other writer cannot be shown in this process: better-sqlite3 waits for
   * the lock synchronously and would stall the very event loop the fund needs to finish. Here: PostgreSQL, where
   * another pooled connection commits meanwhile.
   */
  it.runIf(kind === 'postgres')(
    'a commit by another connection while a fund waits for the rail: the card is charged once',
    async () => {
      const d = await contract(env)
      await mark()
      let release: (() => void) | null = null
      rail.holdNextCharge = (r) => (release = r)
      const funding = post(d.client.token, `/v1/milestones/${d.ids[0]}/fund`)
      while (!release) await sleep(5)
      // a write by another pooled connection while the fund waits for the rail
      const write = env.rt.store.db
        .insertInto('idempotency_keys')
        .values({ user_id: d.client.id, key: key('other'), request_hash: 'x', status: 'done', created_at: 1n })
        .execute()
      await sleep(50)
      ;(release as () => void)()
      expect((await funding).status).toBe(200)
      await write
      const m = await moved()
      expect(m.rail, `${m.charges} rail charges`).toEqual(m.ledger)
    },
    TEST_MS,
  )

  /**
   * A client's balance row is shared by all their contracts. A fund or approval locks it (PostgreSQL) only when the
   * client has credit to spend — then the decision depends on it and must wait for a command spending it — and not
   * when it is empty: a command of another contract that holds the row does not hold this one back.
   */
  it.runIf(kind === 'postgres')(
    "a fund locks the client's balance row only when there is credit to spend",
    async () => {
      const d = await contract(env, {}, [100_000, 100_000, 100_000])
      const row = `user:${d.client.id}:available`
      /** holds the client's balance row in another transaction until the returned function is called */
      async function holdRow() {
        let unlock = () => {}
        let locked = () => {}
        const isLocked = new Promise<void>((r) => (locked = r))
        const done = env.rt.store.db.transaction().execute(async (trx) => {
          await trx
            .selectFrom('accounts')
            .select('balance')
            .where('account', '=', row)
            .where('currency', '=', 'USD')
            .forUpdate()
            .execute()
          await new Promise<void>((r) => {
            unlock = r
            locked()
          })
        })
        await isLocked
        return async () => {
          unlock()
          await done
        }
      }
      const within = (p: Promise<{ status: number }>, ms: number) =>
        Promise.race([p.then((r) => r.status), sleep(ms).then(() => 'still waiting')])

      // an empty balance row (the client was refunded, then spent it all)
      await env.rt.store.db
        .insertInto('accounts')
        .values({ account: row, currency: 'USD', balance: 0n, user_id: d.client.id })
        .execute()
      let release = await holdRow()
      const first = post(d.client.token, `/v1/milestones/${d.ids[0]}/fund`)
      expect(await within(first, 5_000)).toBe(200)
      await release()

      // credit to spend: a refund of the first milestone
      expect((await post(d.freelancer.token, `/v1/milestones/${d.ids[0]}/refund`)).status).toBe(200)
      const credit = await balanceOf(env.rt.store.db, row, 'USD')
      expect(credit).toBeGreaterThan(0n)
      release = await holdRow()
      const second = post(d.client.token, `/v1/milestones/${d.ids[1]}/fund`)
      expect(await within(second, 300)).toBe('still waiting')
      await release()
      expect((await second).status).toBe(200)
      expect(await balanceOf(env.rt.store.db, row, 'USD')).toBeLessThan(credit)
    },
    TEST_MS,
  )

  /**
   * PostgreSQL claims a key with a row that goes stale after 60 s, so that a crashed server's claim does not block the
   * key forever. A request still running after 60 s — a hung payment rail — must not be taken over by the client's
   * retry with the same key (that ran both and kept the second answer). The test moves the claim's timestamp back
   * 61 s instead of waiting.
   */
  it.runIf(kind === 'postgres')(
    'a keyed payout in flight longer than the claim stays valid, retried with its key: one payout',
    async () => {
      const d = await contract(env)
      await post(d.client.token, `/v1/milestones/${d.ids[0]}/fund`)
      await post(d.freelancer.token, `/v1/milestones/${d.ids[0]}/refund`)
      const k = key('slow-payout')
      let release: (() => void) | null = null
      rail.holdNextPayout = (r) => (release = r)
      const first = post(d.client.token, '/v1/payouts', { amount: 10_000, currency: 'USD' }, k)
      while (!release) await sleep(10)
      await env.rt.store.db
        .updateTable('idempotency_keys')
        .set((eb) => ({ created_at: eb('created_at', '-', 61_000n) }))
        .where('user_id', '=', d.client.id)
        .where('key', '=', k)
        .execute()
      const retry = post(d.client.token, '/v1/payouts', { amount: 10_000, currency: 'USD' }, k)
      await sleep(300)
      ;(release as () => void)()
      const [a, b] = await Promise.all([first, retry])
      const again = await post(d.client.token, '/v1/payouts', { amount: 10_000, currency: 'USD' }, k)
      const payouts = await call(env, 'GET', '/v1/payouts', { token: d.client.token })
      expect({
        payouts: payouts.body.data.length,
        retry: b.status === 409 ? 'in_use' : b.body.id === a.body.id ? 'same' : 'another payout',
        replay: again.body.id === a.body.id ? 'the first answer' : 'another answer',
      }).toEqual({ payouts: 1, retry: expect.stringMatching(/in_use|same/), replay: 'the first answer' })
    },
    TEST_MS,
  )
})
