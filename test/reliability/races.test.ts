/**
 * Races on ONE milestone (SPEC §5 "every accepted command is one database transaction", §7 "more than available →
 * 409 insufficient_funds", §10 Idempotency-Key "same key while the first is in flight → 409 idempotency_key_in_use").
 *
 * Each race fires conflicting commands at the same moment and checks that exactly one took effect — in the answers
 * (one 2xx, the others 409 with the fitting code), in the state read back, and in the database (journal entries,
 * events, payouts, disputes, amendments) — that no user balance is ever negative, and that `verify` is ok.
 *
 * - SQLite: the in-process server of the test harness (runtime A), a second in-process runtime with its own
 *   connection and group commit on the same database file (runtime B), and a `tranche serve` process on that file
 *   (C); racing requests go to A, C, B in turn, so each race is fought inside one group-commit batch and across
 *   connections. (A and B share one event loop and better-sqlite3 is synchronous, so a group-commit transaction of
 *   one hardly ever yields to the other; C's transactions truly overlap theirs.)
 * - PostgreSQL (TRANCHE_TEST_DATABASE_URL): three `tranche serve` processes on one database (a fresh schema), started
 *   at the same moment (three servers migrating one database), the racing requests spread over them.
 * - The payment rail, on both: the harness runtime with an instrumented rail — neither the losers of a race nor a
 *   retried command may charge the card, and a keyed request still running when its claim goes stale (60 s) is not
 *   run a second time by its retry.
 *
 * CI: 3 rounds of 4 racers per race; TRANCHE_DEEP=1: 20 rounds of 8.
 */
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PaymentRail } from '../../src/app/payment-rail.ts'
import { sandboxRail } from '../../src/app/payment-rail.ts'
import { verify } from '../../src/app/verify.ts'
import { buildServer } from '../../src/http/server.ts'
import { createRuntime, type Runtime } from '../../src/main.ts'
import type { Store } from '../../src/store/database.ts'
import { openStore } from '../../src/store/open-store.ts'
import { balanceOf } from '../../src/store/repos/ledger-repo.ts'
import { big, num } from '../../src/store/schema.ts'
import { call, contract, DATABASES, silentLog, startEnv, type TestEnv } from '../support/harness.ts'
import {
  ADMIN,
  type CallOpts,
  CLIENT_FEE,
  DEEP,
  dropSchema,
  errorCode,
  http,
  key,
  NET,
  PG_URL,
  prepareSchema,
  type Res,
  rand,
  removeBundle,
  type ServerProc,
  schemaUrl,
  sleep,
  startServer,
} from './support.ts'

const ROUNDS = DEEP ? 20 : 3
const N = DEEP ? 8 : 4
const TEST_MS = DEEP ? 30 * 60_000 : 5 * 60_000

type Kind = 'sqlite' | 'postgres'
const BACKENDS: Kind[] = DATABASES

// biome-ignore lint/suspicious/noExplicitAny: JSON answers
type Body = any

interface Target {
  readonly name: string
  call(method: 'GET' | 'POST', path: string, opts?: CallOpts): Promise<Res>
}

function injectTarget(name: string, server: FastifyInstance): Target {
  return {
    name,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = {}
      if (opts.token) headers.authorization = `Bearer ${opts.token}`
      if (opts.idem) headers['idempotency-key'] = opts.idem
      const res = await server.inject({
        method,
        url: path,
        headers,
        ...(opts.body !== undefined ? { payload: opts.body as object } : {}),
      })
      let body: unknown
      try {
        body = res.body ? JSON.parse(res.body) : undefined
      } catch {
        body = undefined
      }
      return { status: res.statusCode, body, text: res.body, replayed: res.headers['idempotent-replayed'] === 'true' }
    },
  }
}

const httpTarget = (name: string, url: string): Target => ({
  name,
  call: (method, path, opts) => http(url, method, path, opts),
})

interface Backend {
  readonly targets: Target[]
  readonly store: Store
  close(): Promise<void>
}

async function sqliteBackend(): Promise<Backend> {
  const env: TestEnv = await startEnv('sqlite')
  let rt2: Runtime | null = null
  let server2: FastifyInstance | null = null
  let child: ServerProc | null = null
  try {
    rt2 = await createRuntime(env.config, { log: silentLog })
    server2 = await buildServer(rt2.app, { worker: rt2.worker })
    await server2.ready()
    child = await startServer({
      TRANCHE_DB: env.config.sqlitePath,
      TRANCHE_CLOCK: 'manual',
      TRANCHE_ADMIN_EMAIL: ADMIN.email,
      TRANCHE_ADMIN_PASSWORD: ADMIN.password,
    })
  } catch (e) {
    await server2?.close()
    await rt2?.close()
    await env.close()
    throw e
  }
  const s2 = server2
  const r2 = rt2
  const c3 = child
  return {
    targets: [injectTarget('A', env.server), httpTarget('C', c3.url), injectTarget('B', s2)],
    store: env.rt.store,
    async close() {
      await c3.stop()
      await s2.close()
      await r2.close()
      await env.close()
    },
  }
}

async function postgresBackend(): Promise<Backend> {
  const schema = await prepareSchema()
  const env = {
    DATABASE_URL: schemaUrl(schema),
    TRANCHE_CLOCK: 'manual',
    TRANCHE_ADMIN_EMAIL: ADMIN.email,
    TRANCHE_ADMIN_PASSWORD: ADMIN.password,
  }
  const servers: ServerProc[] = []
  try {
    // started together: three servers migrating and creating the admin on one fresh database at once
    const started = await Promise.allSettled([0, 1, 2].map(() => startServer(env)))
    for (const s of started) if (s.status === 'fulfilled') servers.push(s.value)
    const failed = started.find((s) => s.status === 'rejected')
    if (failed) throw (failed as PromiseRejectedResult).reason
    const store = await openStore({ databaseUrl: PG_URL, sqlitePath: '', schema })
    return {
      targets: servers.map((s, i) => httpTarget(`S${i + 1}`, s.url)),
      store,
      async close() {
        await store.close()
        await Promise.all(servers.map((s) => s.stop()))
        await dropSchema(schema)
      },
    }
  } catch (e) {
    await Promise.all(servers.map((s) => s.kill()))
    await dropSchema(schema)
    throw e
  }
}

interface Acct {
  readonly email: string
  readonly id: string
  readonly token: string
}

const summary = (rs: Res[]) => rs.map((r) => `${r.status}${errorCode(r) ? ` ${errorCode(r)}` : ''}`).join(', ')

describe.each(BACKENDS)('races on one milestone on %s', (kind) => {
  let b: Backend
  let c: Acct
  let f: Acct
  /** the one to set things up with; racers use all */
  let t0: Target

  beforeAll(async () => {
    b = kind === 'sqlite' ? await sqliteBackend() : await postgresBackend()
    t0 = b.targets[0]!
    c = await signup('client')
    f = await signup('freelancer')
  }, 240_000)
  afterAll(async () => {
    await b?.close()
    removeBundle()
  }, 60_000)

  async function ok(p: Promise<Res>, status = 200): Promise<Body> {
    const r = await p
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${r.text}`)
    return r.body
  }

  async function signup(tag: string): Promise<Acct> {
    const email = `${tag}-${key('u')}@races.test`
    const password = 'correct-horse-battery-9'
    const u = await ok(t0.call('POST', '/v1/users', { body: { email, password, name: tag } }), 201)
    const s = await t0.call('POST', '/v1/sessions', { body: { email, password } })
    return { email, id: u.id, token: s.body.token }
  }

  const post = (path: string, token: string, body: unknown = {}, t = t0) => t.call('POST', path, { token, body })
  const get = (path: string, token = c.token) => ok(t0.call('GET', path, { token }))
  const milestone = (id: string) => get(`/v1/milestones/${id}`)
  const amount = () => rand(20, 200) * 1_000

  async function contract(amounts: number[] = [amount()]): Promise<{ cid: string; ids: string[] }> {
    const offer = await ok(
      post('/v1/offers', c.token, {
        role: 'client',
        counterparty_email: f.email,
        title: 'Race job',
        currency: 'USD',
        payment_mode: 'by_milestone',
        milestones: amounts.map((a, i) => ({ title: `Stage ${i + 1}`, amount: a })),
      }),
      201,
    )
    const acc = await ok(post(`/v1/offers/${offer.id}/accept`, f.token, { revision: offer.revision }))
    const k = await get(`/v1/contracts/${acc.contract_id}`)
    return { cid: k.id, ids: k.milestones.map((m: Body) => m.id) }
  }

  const fund = (ms: string) => ok(post(`/v1/milestones/${ms}/fund`, c.token))
  const submit = (ms: string) => ok(post(`/v1/milestones/${ms}/submit`, f.token, { message: 'Done' }))

  /** Client credit of exactly `a + fee(a)`: a milestone funded from the rail and refunded by the freelancer. */
  async function credit(a = amount()) {
    const { ids } = await contract([a])
    await fund(ids[0]!)
    await ok(post(`/v1/milestones/${ids[0]}/refund`, f.token, {}))
  }

  /** Fires every request at the same moment, spread over the servers (request i → server i mod n). */
  function race(reqs: { path: string; token: string; body?: unknown; idem?: string; target?: Target }[]) {
    return Promise.all(
      reqs.map((r, i) =>
        (r.target ?? b.targets[i % b.targets.length]!).call('POST', r.path, {
          token: r.token,
          body: r.body ?? {},
          idem: r.idem,
        }),
      ),
    )
  }

  /** Exactly one answer `status`; every other one a 409 with one of `codes`. Returns the winner's index. */
  function oneWinner(rs: Res[], status: number, codes: string[], what: string): number {
    const winners = rs.flatMap((r, i) => (r.status === status ? [i] : []))
    expect(winners.length, `${what}: ${summary(rs)}`).toBe(1)
    for (const r of rs) {
      if (r.status === status) continue
      expect(r.status, `${what}: ${r.text}`).toBe(409)
      expect(codes, `${what}: ${r.text}`).toContain(errorCode(r))
    }
    return winners[0]!
  }

  async function entries(ms: string): Promise<Record<string, number>> {
    const rows = await b.store.db
      .selectFrom('journal_entries')
      .select(['kind', (eb) => eb.fn.countAll<bigint>().as('n')])
      .where('milestone_id', '=', ms)
      .groupBy('kind')
      .execute()
    return Object.fromEntries(rows.map((r) => [r.kind, num(r.n)]))
  }

  async function events(objectId: string, type: string): Promise<number> {
    const row = await b.store.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<bigint>().as('n'))
      .where('object_id', '=', objectId)
      .where('type', '=', type)
      .executeTakeFirst()
    return num(row?.n)
  }

  const available = async (u: Acct) => balanceOf(b.store.db, `user:${u.id}:available`, 'USD')
  const pending = async (u: Acct) => balanceOf(b.store.db, `user:${u.id}:pending`, 'USD')

  async function noNegativeBalance() {
    const below = await b.store.db
      .selectFrom('accounts')
      .select(['account', 'balance'])
      .where('account', 'like', 'user:%')
      .where('balance', '<', 0)
      .execute()
    expect(below.map((a) => `${a.account} ${big(a.balance)}`)).toEqual([])
  }

  async function verifyOk() {
    const report = await verify(b.store)
    expect(report.problems).toEqual([])
  }

  it(
    `approve ×${N}: one release`,
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const a = amount()
        const { ids } = await contract([a])
        const ms = ids[0]!
        await fund(ms)
        await submit(ms)
        const before = await pending(f)
        const rs = await race(
          Array.from({ length: N }, () => ({ path: `/v1/milestones/${ms}/approve`, token: c.token })),
        )
        oneWinner(rs, 200, ['invalid_state_transition'], 'approve')
        const m = await milestone(ms)
        expect([m.state, m.released_amount, m.escrow_amount]).toEqual(['released', a, 0])
        expect(await entries(ms)).toEqual({ fund: 1, release: 1 })
        expect(await events(ms, 'milestone.released')).toBe(1)
        expect((await pending(f)) - before).toBe(NET(BigInt(a)))
        await noNegativeBalance()
      }
      await verifyOk()
    },
    TEST_MS,
  )

  it(
    `fund ×${N}: one charge, also when credit pays`,
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const a = amount()
        if (round % 2 === 1) await credit(a)
        const { ids } = await contract([a])
        const ms = ids[0]!
        const creditBefore = await available(c)
        const rs = await race(Array.from({ length: N }, () => ({ path: `/v1/milestones/${ms}/fund`, token: c.token })))
        oneWinner(rs, 200, ['invalid_state_transition'], 'fund')
        const m = await milestone(ms)
        expect([m.state, m.escrow_amount, m.escrow_fee_amount]).toEqual(['funded', a, Number(CLIENT_FEE(BigInt(a)))])
        expect(await entries(ms)).toEqual({ fund: 1 })
        expect(await events(ms, 'milestone.funded')).toBe(1)
        expect(await balanceOf(b.store.db, `escrow:${ms}`, 'USD')).toBe(BigInt(a) + CLIENT_FEE(BigInt(a)))
        const charge = BigInt(a) + CLIENT_FEE(BigInt(a))
        expect(await available(c)).toBe(creditBefore > charge ? creditBefore - charge : 0n)
        await noNegativeBalance()
      }
      await verifyOk()
    },
    TEST_MS,
  )

  it(
    'fund of two milestones spending the same credit: the credit is spent once',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const a = amount()
        await credit(a)
        const have = await available(c)
        const x = await contract([a])
        const y = await contract([a])
        const rs = await race([
          { path: `/v1/milestones/${x.ids[0]}/fund`, token: c.token },
          { path: `/v1/milestones/${y.ids[0]}/fund`, token: c.token },
        ])
        expect(
          rs.map((r) => r.status),
          summary(rs),
        ).toEqual([200, 200])
        const charge = BigInt(a) + CLIENT_FEE(BigInt(a))
        expect(await available(c)).toBe(have > 2n * charge ? have - 2n * charge : 0n)
        const spent = await b.store.db
          .selectFrom('journal_lines')
          .innerJoin('journal_entries', 'journal_entries.id', 'journal_lines.entry_id')
          .select('journal_lines.amount')
          .where('journal_lines.account', '=', `user:${c.id}:available`)
          .where('journal_entries.milestone_id', 'in', [x.ids[0]!, y.ids[0]!])
          .execute()
        expect(-spent.reduce((s, l) => s + big(l.amount), 0n)).toBe(have < 2n * charge ? have : 2n * charge)
        await noNegativeBalance()
      }
      await verifyOk()
    },
    TEST_MS,
  )

  it(
    'refund (freelancer) + approve (client): one outcome',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const a = amount()
        const { ids } = await contract([a])
        const ms = ids[0]!
        await fund(ms)
        if (round % 2 === 0) await submit(ms)
        const rs = await race(
          Array.from({ length: N }, (_, i) =>
            i % 2 === 0
              ? { path: `/v1/milestones/${ms}/refund`, token: f.token, body: { reason: 'sorry' } }
              : { path: `/v1/milestones/${ms}/approve`, token: c.token },
          ),
        )
        const w = oneWinner(rs, 200, ['invalid_state_transition'], 'refund + approve')
        const m = await milestone(ms)
        if (w % 2 === 0) {
          expect([m.state, m.refunded_amount, m.released_amount]).toEqual(['refunded', a, 0])
          expect(await entries(ms)).toEqual({ fund: 1, refund: 1 })
        } else {
          expect([m.state, m.refunded_amount, m.released_amount]).toEqual(['released', 0, a])
          expect(await entries(ms)).toEqual({ fund: 1, release: 1 })
        }
        expect(await balanceOf(b.store.db, `escrow:${ms}`, 'USD')).toBe(0n)
        await noNegativeBalance()
      }
      await verifyOk()
    },
    TEST_MS,
  )

  it(
    'request_refund (client) + submit (freelancer): one outcome',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const { ids } = await contract()
        const ms = ids[0]!
        await fund(ms)
        const rs = await race(
          Array.from({ length: N }, (_, i) =>
            i % 2 === 0
              ? { path: `/v1/milestones/${ms}/request_refund`, token: c.token, body: { reason: 'changed plans' } }
              : { path: `/v1/milestones/${ms}/submit`, token: f.token, body: { message: 'done' } },
          ),
        )
        const w = oneWinner(rs, 200, ['invalid_state_transition'], 'request_refund + submit')
        const m = await milestone(ms)
        expect(m.state).toBe(w % 2 === 0 ? 'refund_requested' : 'submitted')
        const k = await get(`/v1/contracts/${m.contract_id}`)
        expect(k.refund_requests.length).toBe(w % 2 === 0 ? 1 : 0)
        expect(m.refund_request_id ?? null).toBe(w % 2 === 0 ? k.refund_requests[0].id : null)
        expect(await events(ms, 'milestone.submitted')).toBe(w % 2 === 0 ? 0 : 1)
        await noNegativeBalance()
      }
      await verifyOk()
    },
    TEST_MS,
  )

  it(
    'open_dispute ×2 (client and freelancer): one dispute',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const a = amount()
        const { cid, ids } = await contract([a])
        const ms = ids[0]!
        await fund(ms)
        await submit(ms)
        const rs = await race([
          { path: `/v1/milestones/${ms}/disputes`, token: c.token, body: { reason: 'not done', release_amount: 0 } },
          { path: `/v1/milestones/${ms}/disputes`, token: f.token, body: { reason: 'pay me', release_amount: a } },
        ])
        const w = oneWinner(rs, 201, ['invalid_state_transition'], 'dispute ×2')
        const m = await milestone(ms)
        expect(m.state).toBe('disputed')
        expect(m.dispute_id).toBe(rs[w]!.body.id)
        const k = await get(`/v1/contracts/${cid}`)
        expect(k.disputes.map((d: Body) => d.id)).toEqual([rs[w]!.body.id])
        expect(k.disputes[0].opened_by).toBe(w === 0 ? c.id : f.id)
        expect(await balanceOf(b.store.db, `escrow:${ms}`, 'USD')).toBe(BigInt(a) + CLIENT_FEE(BigInt(a)))
        await noNegativeBalance()
      }
      await verifyOk()
    },
    TEST_MS,
  )

  it(
    `payout of the whole available balance ×${N}: one payout; of half ×${N}: two`,
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        await credit()
        const all = await available(c)
        const payoutsBefore = await countPayouts(c)
        const rs = await race(
          Array.from({ length: N }, () => ({
            path: '/v1/payouts',
            token: c.token,
            body: { amount: Number(all), currency: 'USD' },
          })),
        )
        oneWinner(rs, 201, ['insufficient_funds'], 'payout ×N')
        expect(await available(c)).toBe(0n)
        expect(await countPayouts(c)).toBe(payoutsBefore + 1)

        await credit(rand(10, 100) * 2_000)
        const have = await available(c)
        const half = have / 2n
        const rs2 = await race(
          Array.from({ length: N }, () => ({
            path: '/v1/payouts',
            token: c.token,
            body: { amount: Number(half), currency: 'USD' },
          })),
        )
        expect(rs2.filter((r) => r.status === 201).length, summary(rs2)).toBe(2)
        for (const r of rs2) if (r.status !== 201) expect(errorCode(r), r.text).toBe('insufficient_funds')
        expect(await available(c)).toBe(have - 2n * half)
        expect(await countPayouts(c)).toBe(payoutsBefore + 3)
        await noNegativeBalance()
      }
      await verifyOk()
    },
    TEST_MS,
  )

  async function countPayouts(u: Acct) {
    const row = await b.store.db
      .selectFrom('payouts')
      .select((eb) => eb.fn.countAll<bigint>().as('n'))
      .where('user_id', '=', u.id)
      .executeTakeFirst()
    return num(row?.n)
  }

  it(
    'amendment accept (other party) + withdraw (author): one outcome',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const { cid } = await contract()
        const amd = await ok(
          post(`/v1/contracts/${cid}/amendments`, c.token, { add: [{ title: 'Extra', amount: amount() }] }),
          201,
        )
        const rs = await race(
          Array.from({ length: N }, (_, i) =>
            i % 2 === 0
              ? { path: `/v1/amendments/${amd.id}/accept`, token: f.token }
              : { path: `/v1/amendments/${amd.id}/withdraw`, token: c.token },
          ),
        )
        const w = oneWinner(rs, 200, ['invalid_state_transition'], 'amendment accept + withdraw')
        const k = await get(`/v1/contracts/${cid}`)
        const status = k.amendments.find((x: Body) => x.id === amd.id).status
        expect(status).toBe(w % 2 === 0 ? 'accepted' : 'withdrawn')
        expect(k.milestones.length).toBe(w % 2 === 0 ? 2 : 1)
        expect(await events(amd.id, `amendment.${status}`)).toBe(1)
        await noNegativeBalance()
      }
      await verifyOk()
    },
    TEST_MS,
  )

  describe('an Idempotency-Key racing with itself', () => {
    /** Every answer is the one response (2xx, identical bodies) or 409 idempotency_key_in_use. */
    function oneResponse(rs: Res[], status: number, what: string) {
      const answered = rs.filter((r) => r.status === status)
      expect(answered.length, `${what}: ${summary(rs)}`).toBeGreaterThan(0)
      for (const r of rs)
        if (r.status !== status) expect(errorCode(r), `${what}: ${r.text}`).toBe('idempotency_key_in_use')
      expect(new Set(answered.map((r) => r.text)).size, `${what}: different bodies`).toBe(1)
      expect(answered.filter((r) => !r.replayed).length, `${what}: more than one first answer`).toBeLessThanOrEqual(1)
      return answered[0]!.body
    }

    const spreads = kind === 'postgres' ? (['same server', 'different servers'] as const) : (['same server'] as const)

    for (const spread of spreads) {
      const at = (i: number) => (spread === 'same server' ? t0 : b.targets[i % b.targets.length]!)

      it(
        `offers, funds and payouts: one effect (${spread})`,
        async () => {
          for (let round = 0; round < ROUNDS; round++) {
            // an offer: nothing but the key stops a second one
            const title = `Keyed offer ${key('t')}`
            const k1 = key('offer')
            const body = {
              role: 'client',
              counterparty_email: f.email,
              title,
              currency: 'USD',
              payment_mode: 'by_milestone',
              milestones: [{ title: 'One', amount: 50_000 }],
            }
            const offers = await race(
              Array.from({ length: N }, (_, i) => ({
                path: '/v1/offers',
                token: c.token,
                body,
                idem: k1,
                target: at(i),
              })),
            )
            const offer = oneResponse(offers, 201, 'keyed offer')
            const rows = await b.store.db
              .selectFrom('offers')
              .select(['id', 'data'])
              .where('client_id', '=', c.id)
              .execute()
            expect(rows.filter((r) => r.data.includes(title)).map((r) => r.id)).toEqual([offer.id])

            // a fund
            const { ids } = await contract()
            const k2 = key('fund')
            const funds = await race(
              Array.from({ length: N }, (_, i) => ({
                path: `/v1/milestones/${ids[0]}/fund`,
                token: c.token,
                idem: k2,
                target: at(i),
              })),
            )
            expect(oneResponse(funds, 200, 'keyed fund').state).toBe('funded')
            expect(await entries(ids[0]!)).toEqual({ fund: 1 })

            // a payout of a third of the balance: only the key stops a second and a third
            await credit()
            const have = await available(c)
            const third = have / 3n
            const before = await countPayouts(c)
            const k3 = key('payout')
            const payouts = await race(
              Array.from({ length: N }, (_, i) => ({
                path: '/v1/payouts',
                token: c.token,
                body: { amount: Number(third), currency: 'USD' },
                idem: k3,
                target: at(i),
              })),
            )
            oneResponse(payouts, 201, 'keyed payout')
            expect(await countPayouts(c)).toBe(before + 1)
            expect(await available(c)).toBe(have - third)

            // afterwards the key replays
            const again = await at(1).call('POST', '/v1/payouts', {
              token: c.token,
              body: { amount: Number(third), currency: 'USD' },
              idem: k3,
            })
            expect([again.status, again.replayed]).toEqual([201, true])
            await noNegativeBalance()
          }
          await verifyOk()
        },
        TEST_MS,
      )
    }
  })
})

/**
 * What the payment rail did versus what the ledger says it did, with an instrumented rail in the in-process runtime
 * of the harness (a rail call takes a few ms, like a real one). A command that lost a race must not have charged the
 * card, and a retried command must not charge it twice: money in through the rail = −(ext:rail lines of fund and
 * bonus entries), money out = ext:rail lines of payout entries.
 */
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
      const other = kind === 'sqlite' ? await openStore({ databaseUrl: null, sqlitePath: env.config.sqlitePath }) : null
      try {
        const d = await contract(env)
        await mark()
        let release: (() => void) | null = null
        rail.holdNextCharge = (r) => (release = r)
        const funding = post(d.client.token, `/v1/milestones/${d.ids[0]}/fund`)
        while (!release) await sleep(5)
        // a write by another connection (PostgreSQL: another pooled connection) while the fund waits for the rail;
        // on SQLite it waits for the fund's write lock, so it is started, not awaited, before the rail answers
        const write = (other ?? env.rt.store).db
          .insertInto('idempotency_keys')
          .values({ user_id: d.client.id, key: key('other'), request_hash: 'x', status: 'done', created_at: 1n })
          .execute()
        await sleep(50)
        ;(release as () => void)()
        expect((await funding).status).toBe(200)
        await write
        const m = await moved()
        expect(m.rail, `${m.charges} rail charges`).toEqual(m.ledger)
      } finally {
        await other?.close()
      }
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
  it.skipIf(kind !== 'postgres')(
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
