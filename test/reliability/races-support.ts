/**
 * Support for the race tests (races-one-milestone.test.ts, races-idempotency-key.test.ts, races-payment-rail.test.ts):
 * how many rounds of how many racers, the servers a race is fought over on each database (`sqliteBackend`,
 * `postgresBackend`), and `raceBed`, the setup and helpers of a `describe` of races on one milestone.
 */
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, expect } from 'vitest'
import { verify } from '../../src/app/verify.ts'
import { buildServer } from '../../src/http/server.ts'
import { createRuntime, type Runtime } from '../../src/main.ts'
import type { Store } from '../../src/store/database.ts'
import { openStore } from '../../src/store/open-store.ts'
import { balanceOf } from '../../src/store/repos/ledger-repo.ts'
import { big, num } from '../../src/store/schema.ts'
import { DATABASES, silentLog, startEnv, type TestEnv } from '../support/harness.ts'
import {
  ADMIN,
  type CallOpts,
  DEEP,
  dropSchema,
  errorCode,
  http,
  key,
  PG_URL,
  prepareSchema,
  type Res,
  rand,
  removeBundle,
  type ServerProc,
  schemaUrl,
  startServer,
} from './support.ts'

export const ROUNDS = DEEP ? 20 : 3
export const N = DEEP ? 8 : 4
export const TEST_MS = DEEP ? 30 * 60_000 : 5 * 60_000

export type Kind = 'sqlite' | 'postgres'
export const BACKENDS: Kind[] = DATABASES

// biome-ignore lint/suspicious/noExplicitAny: JSON answers
export type Body = any

export interface Target {
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

export interface Backend {
  readonly targets: Target[]
  readonly store: Store
  close(): Promise<void>
}

async function sqliteBackend(alone: boolean): Promise<Backend> {
  const env: TestEnv = await startEnv('sqlite')
  if (alone) return { targets: [injectTarget('A', env.server)], store: env.rt.store, close: () => env.close() }
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

export interface Acct {
  readonly email: string
  readonly id: string
  readonly token: string
}

export const summary = (rs: Res[]) => rs.map((r) => `${r.status}${errorCode(r) ? ` ${errorCode(r)}` : ''}`).join(', ')

/**
 * The setup and helpers of a `describe` of races on one milestone: before all its tests, the servers of `kind`
 * (`sqliteBackend`, `postgresBackend`) and a client `c` and a freelancer `f` signed up on them; after all, the
 * servers stopped. `b`, `t0`, `c` and `f` are set once its `beforeAll` has run.
 */
export function raceBed(
  kind: Kind,
  /** SQLite: only the harness's own server A, for races that are all fought on one server */
  opts: { sqliteAlone?: boolean } = {},
) {
  let b: Backend
  let c: Acct
  let f: Acct
  /** the one to set things up with; racers use all */
  let t0: Target

  beforeAll(async () => {
    b = kind === 'sqlite' ? await sqliteBackend(opts.sqliteAlone ?? false) : await postgresBackend()
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

  async function countPayouts(u: Acct) {
    const row = await b.store.db
      .selectFrom('payouts')
      .select((eb) => eb.fn.countAll<bigint>().as('n'))
      .where('user_id', '=', u.id)
      .executeTakeFirst()
    return num(row?.n)
  }

  return {
    get b() {
      return b
    },
    get t0() {
      return t0
    },
    get c() {
      return c
    },
    get f() {
      return f
    },
    ok,
    post,
    get,
    milestone,
    amount,
    contract,
    fund,
    submit,
    credit,
    race,
    oneWinner,
    entries,
    events,
    available,
    pending,
    noNegativeBalance,
    verifyOk,
    countPayouts,
  }
}
