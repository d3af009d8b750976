/**
 * Shared pieces of the security suites: the five kinds of caller, a "world" of real objects between one client and
 * one freelancer (built fresh for each route, lazily), the table of every route with who may call it, and a
 * snapshot of the whole database (every table, every row) to prove that a rejected request changed nothing.
 */
import { createHash, randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import { ADMIN, call, type TestEnv } from '../support/harness.ts'

export const DEEP = Boolean(process.env.TRANCHE_DEEP)

export type Actor = 'anonymous' | 'stranger' | 'client' | 'freelancer' | 'admin'
export const ACTORS: readonly Actor[] = ['anonymous', 'stranger', 'client', 'freelancer', 'admin']

export interface Person {
  id: string
  email: string
  password: string
  token: string
}
export type People = Record<Exclude<Actor, 'anonymous'>, Person>

export type Res = Awaited<ReturnType<typeof call>>

/** Status, with the answer's text in the message of a failing assertion. */
export const show = (r: Res) => `${r.status} ${r.text.slice(0, 400)}`

export function ok(r: Res, status?: number) {
  if (status === undefined ? r.status < 200 || r.status > 299 : r.status !== status)
    throw new Error(`expected ${status ?? '2xx'}, got ${show(r)}`)
  return r.body
}

let seq = 0
export const uniqueEmail = (tag: string) => `${tag}-${++seq}-${randomBytes(4).toString('hex')}@sec.tranche.test`

export async function signUp(env: TestEnv, tag: string): Promise<Person> {
  const email = uniqueEmail(tag)
  const password = `pw-${randomBytes(9).toString('base64url')}`
  const created = ok(await call(env, 'POST', '/v1/users', { body: { email, password, name: tag } }), 201)
  const token = ok(await call(env, 'POST', '/v1/sessions', { body: { email, password } }), 201).token as string
  return { id: created.id as string, email, password, token }
}

export async function logIn(env: TestEnv, p: { email: string; password: string }): Promise<string> {
  return ok(await call(env, 'POST', '/v1/sessions', { body: { email: p.email, password: p.password } }), 201).token
}

export async function people(env: TestEnv): Promise<People> {
  const [stranger, client, freelancer] = [
    await signUp(env, 'stranger'),
    await signUp(env, 'client'),
    await signUp(env, 'freelancer'),
  ]
  const adminSession = ok(await call(env, 'POST', '/v1/sessions', { body: ADMIN }), 201)
  const admin = { id: adminSession.user.id, email: ADMIN.email, password: ADMIN.password, token: adminSession.token }
  return { stranger, client, freelancer, admin }
}

export const AMOUNT = 100_000
const MILESTONES = 6

/** Valid offer terms (by_milestone, USD). */
export const terms = (title = 'Security test job', n = MILESTONES) => ({
  title,
  description: 'Work under test',
  currency: 'USD',
  payment_mode: 'by_milestone',
  milestones: Array.from({ length: n }, (_, i) => ({ title: `Stage ${i + 1}`, amount: AMOUNT })),
})

const once = <T>(f: () => Promise<T>) => {
  let p: Promise<T> | null = null
  return () => {
    p ??= f()
    return p
  }
}

/**
 * Real objects between `p.client` and `p.freelancer`, each made on first use: an open offer, a contract with six
 * milestones (pending, funded, submitted, refund requested, disputed, and one left to fund), an amendment, an API
 * key and a webhook endpoint of the client with deliveries.
 */
export class World {
  constructor(
    readonly env: TestEnv,
    readonly p: People,
  ) {}

  private post = (who: Person, url: string, body: unknown = {}) =>
    call(this.env, 'POST', url, { token: who.token, body })

  readonly offer = once(async () => {
    const body = { role: 'client', counterparty_email: this.p.freelancer.email, ...terms() }
    return ok(await this.post(this.p.client, '/v1/offers', body), 201).id as string
  })

  /** A webhook endpoint of the client, made before the contract so that its events are delivered to it. */
  readonly webhook = once(async () => {
    const body = { url: 'http://127.0.0.1:9/hook', enabled_events: ['*'] }
    return ok(await this.post(this.p.client, '/v1/webhook_endpoints', body), 201).id as string
  })

  readonly contract = once(async () => {
    await this.webhook()
    const body = { role: 'client', counterparty_email: this.p.freelancer.email, ...terms() }
    const offer = ok(await this.post(this.p.client, '/v1/offers', body), 201)
    const accepted = ok(await this.post(this.p.freelancer, `/v1/offers/${offer.id}/accept`, { revision: 1 }))
    const c = ok(await call(this.env, 'GET', `/v1/contracts/${accepted.contract_id}`, { token: this.p.client.token }))
    return { id: c.id as string, ms: (c.milestones as { id: string }[]).map((m) => m.id) }
  })

  private ms = async (i: number) => (await this.contract()).ms[i]!
  private fund = async (i: number) => {
    const id = await this.ms(i)
    ok(await this.post(this.p.client, `/v1/milestones/${id}/fund`))
    return id
  }

  readonly pending = () => this.ms(0)
  readonly funded = once(() => this.fund(1))
  readonly submitted = once(async () => {
    const id = await this.fund(2)
    ok(await this.post(this.p.freelancer, `/v1/milestones/${id}/submit`, { message: 'done' }))
    return id
  })
  readonly refundRequest = once(async () => {
    const id = await this.fund(3)
    const m = ok(await this.post(this.p.client, `/v1/milestones/${id}/request_refund`, { reason: 'no longer needed' }))
    return m.refund_request_id as string
  })
  /** A dispute opened by the client (proposing release 0), with the client's open proposal. */
  readonly dispute = once(async () => {
    const id = await this.fund(4)
    const body = { reason: 'not delivered', release_amount: 0 }
    const d = ok(await this.post(this.p.client, `/v1/milestones/${id}/disputes`, body), 201)
    const proposal = (d.proposals as { id: string; status: string }[]).find((x) => x.status === 'open')!
    return { id: d.id as string, proposal: proposal.id, milestone: id }
  })
  readonly arbitration = once(async () => {
    const d = await this.dispute()
    ok(await this.post(this.p.client, `/v1/disputes/${d.id}/escalate`))
    return d.id
  })
  /** An amendment proposed by the client (adds a milestone). */
  readonly amendment = once(async () => {
    const c = await this.contract()
    const body = { add: [{ title: 'Extra', amount: AMOUNT }] }
    return ok(await this.post(this.p.client, `/v1/contracts/${c.id}/amendments`, body), 201).id as string
  })
  readonly apiKey = once(
    async () => ok(await this.post(this.p.client, '/v1/api_keys', { name: 'ci' }), 201).id as string,
  )
  readonly delivery = once(async () => {
    const endpoint = await this.webhook()
    await this.funded()
    const r = ok(
      await call(this.env, 'GET', `/v1/webhook_endpoints/${endpoint}/deliveries`, { token: this.p.client.token }),
    )
    return (r.data as { id: string }[])[0]!.id
  })
  /** The contract's `contract.created` event, which both parties received. */
  readonly event = once(async () => {
    await this.contract()
    const r = ok(await call(this.env, 'GET', '/v1/events?type=contract.created', { token: this.p.client.token }))
    return (r.data as { id: string }[])[0]!.id
  })
  /** A payout of the client: a milestone the freelancer refunded leaves the client money available at once. */
  readonly payout = once(async () => {
    const id = await this.fund(1)
    ok(await this.post(this.p.freelancer, `/v1/milestones/${id}/refund`, { reason: 'cannot do it' }))
    return ok(await this.post(this.p.client, '/v1/payouts', { amount: 100, currency: 'USD' }), 201).id as string
  })
}

/** What a caller must get: 2xx (a public route), exactly this status, or "allowed" (past 401/403/404, no 5xx). */
export type Expect = 'public' | 'allowed' | 401 | 403 | 404

export interface RouteCase {
  /** `METHOD /path/:param`, as Fastify registered it */
  readonly key: string
  readonly expect: Readonly<Record<Actor, Expect>>
  /** This caller, run first among the allowed ones on a fresh world, must get a 2xx: the row is exercised for real. */
  readonly happy?: Actor
  /** The URL (params filled with real ids) and a valid body, for a fresh world. */
  readonly target: (w: World) => Promise<{ url: string; body?: unknown }>
  /** Each caller uses a session of its own made for this call (the route ends the session). */
  readonly freshSession?: boolean
}

const at = (url: string, body?: unknown) => async (): Promise<{ url: string; body?: unknown }> =>
  body === undefined ? { url } : { url, body }

/** anonymous, stranger, client, freelancer, admin */
const E = (anonymous: Expect, stranger: Expect, client: Expect, freelancer: Expect, admin: Expect) => ({
  anonymous,
  stranger,
  client,
  freelancer,
  admin,
})

const PUBLIC = E('public', 'public', 'public', 'public', 'public')
const ANYONE = E('allowed', 'allowed', 'allowed', 'allowed', 'allowed')
const SIGNED_IN = E(401, 'allowed', 'allowed', 'allowed', 'allowed')
const PARTIES_AND_ADMIN = E(401, 404, 'allowed', 'allowed', 'allowed')
/** A contract command of either party (the admin sees the contract but is no party). */
const PARTIES = E(401, 404, 'allowed', 'allowed', 403)
const CLIENT_CMD = E(401, 404, 'allowed', 403, 403)
const FREELANCER_CMD = E(401, 404, 403, 'allowed', 403)
/** Offers are seen by their two parties only: the admin gets 404 too. */
const OFFER_PARTIES = E(401, 404, 'allowed', 'allowed', 404)
const OFFER_COUNTERPARTY = E(401, 404, 403, 'allowed', 404)
const OFFER_AUTHOR = E(401, 404, 'allowed', 403, 404)
/** An object of the client's own account (API key, webhook endpoint): everyone else gets 404. */
const CLIENT_OWNS = E(401, 404, 'allowed', 404, 404)
const ADMIN_ONLY = E(401, 403, 403, 403, 'allowed')

const ms = (w: World, which: 'pending' | 'funded' | 'submitted') => w[which]()

export const ROUTES: readonly RouteCase[] = [
  // service and documentation
  { key: 'GET /healthz', expect: PUBLIC, target: at('/healthz') },
  { key: 'GET /readyz', expect: PUBLIC, target: at('/readyz') },
  { key: 'GET /metrics', expect: PUBLIC, target: at('/metrics') },
  { key: 'GET /openapi.json', expect: PUBLIC, target: at('/openapi.json') },
  { key: 'GET /docs', expect: PUBLIC, target: at('/docs') },
  { key: 'GET /docs/json', expect: PUBLIC, target: at('/docs/json') },
  { key: 'GET /docs/yaml', expect: PUBLIC, target: at('/docs/yaml') },
  { key: 'GET /docs/static/index.html', expect: PUBLIC, target: at('/docs/static/index.html') },
  { key: 'GET /docs/static/swagger-initializer.js', expect: PUBLIC, target: at('/docs/static/swagger-initializer.js') },
  { key: 'GET /docs/static/*', expect: PUBLIC, target: at('/docs/static/swagger-ui.css') },
  // users, sessions, API keys
  {
    key: 'POST /v1/users',
    expect: ANYONE,
    happy: 'anonymous',
    target: async () => ({
      url: '/v1/users',
      body: { email: uniqueEmail('new'), password: 'long-enough-pw-1', name: 'N' },
    }),
  },
  {
    key: 'POST /v1/sessions',
    expect: ANYONE,
    happy: 'anonymous',
    target: async (w) => ({
      url: '/v1/sessions',
      body: { email: w.p.stranger.email, password: w.p.stranger.password },
    }),
  },
  {
    key: 'DELETE /v1/sessions/current',
    expect: SIGNED_IN,
    happy: 'client',
    freshSession: true,
    target: at('/v1/sessions/current'),
  },
  { key: 'GET /v1/me', expect: SIGNED_IN, happy: 'client', target: at('/v1/me') },
  // each caller changes only their own profile: there is no other user's to reach
  { key: 'PATCH /v1/me', expect: SIGNED_IN, happy: 'client', target: at('/v1/me', { time_zone: 'Europe/Paris' }) },
  { key: 'POST /v1/api_keys', expect: SIGNED_IN, happy: 'client', target: at('/v1/api_keys', { name: 'matrix' }) },
  { key: 'GET /v1/api_keys', expect: SIGNED_IN, happy: 'client', target: at('/v1/api_keys') },
  {
    key: 'DELETE /v1/api_keys/:id',
    expect: CLIENT_OWNS,
    happy: 'client',
    target: async (w) => ({ url: `/v1/api_keys/${await w.apiKey()}` }),
  },
  // offers
  {
    key: 'POST /v1/offers',
    expect: SIGNED_IN,
    happy: 'client',
    target: async (w) => ({
      url: '/v1/offers',
      body: { role: 'client', counterparty_email: w.p.freelancer.email, ...terms() },
    }),
  },
  { key: 'GET /v1/offers', expect: SIGNED_IN, happy: 'client', target: at('/v1/offers') },
  {
    key: 'GET /v1/offers/:id',
    expect: OFFER_PARTIES,
    happy: 'client',
    target: async (w) => ({ url: `/v1/offers/${await w.offer()}` }),
  },
  {
    key: 'POST /v1/offers/:id/counter',
    expect: OFFER_COUNTERPARTY,
    happy: 'freelancer',
    target: async (w) => ({ url: `/v1/offers/${await w.offer()}/counter`, body: terms('Countered') }),
  },
  {
    key: 'POST /v1/offers/:id/accept',
    expect: OFFER_COUNTERPARTY,
    happy: 'freelancer',
    target: async (w) => ({ url: `/v1/offers/${await w.offer()}/accept`, body: { revision: 1 } }),
  },
  {
    key: 'POST /v1/offers/:id/decline',
    expect: OFFER_COUNTERPARTY,
    happy: 'freelancer',
    target: async (w) => ({ url: `/v1/offers/${await w.offer()}/decline`, body: {} }),
  },
  {
    key: 'POST /v1/offers/:id/withdraw',
    expect: OFFER_AUTHOR,
    happy: 'client',
    target: async (w) => ({ url: `/v1/offers/${await w.offer()}/withdraw`, body: {} }),
  },
  // contracts and amendments
  { key: 'GET /v1/contracts', expect: SIGNED_IN, happy: 'client', target: at('/v1/contracts') },
  {
    key: 'GET /v1/contracts/:id',
    expect: PARTIES_AND_ADMIN,
    happy: 'client',
    target: async (w) => ({ url: `/v1/contracts/${(await w.contract()).id}` }),
  },
  {
    key: 'POST /v1/contracts/:id/fund',
    expect: CLIENT_CMD,
    happy: 'client',
    target: async (w) => ({
      url: `/v1/contracts/${(await w.contract()).id}/fund`,
      body: { milestone_ids: [await w.pending()] },
    }),
  },
  {
    key: 'POST /v1/contracts/:id/end',
    expect: PARTIES,
    happy: 'client',
    target: async (w) => ({ url: `/v1/contracts/${(await w.contract()).id}/end`, body: { reason: 'done' } }),
  },
  {
    key: 'POST /v1/contracts/:id/amendments',
    expect: PARTIES,
    happy: 'client',
    target: async (w) => ({
      url: `/v1/contracts/${(await w.contract()).id}/amendments`,
      body: { add: [{ title: 'More', amount: AMOUNT }] },
    }),
  },
  {
    key: 'POST /v1/amendments/:id/accept',
    expect: FREELANCER_CMD,
    happy: 'freelancer',
    target: async (w) => ({ url: `/v1/amendments/${await w.amendment()}/accept`, body: {} }),
  },
  {
    key: 'POST /v1/amendments/:id/reject',
    expect: FREELANCER_CMD,
    happy: 'freelancer',
    target: async (w) => ({ url: `/v1/amendments/${await w.amendment()}/reject`, body: {} }),
  },
  {
    key: 'POST /v1/amendments/:id/withdraw',
    expect: CLIENT_CMD,
    happy: 'client',
    target: async (w) => ({ url: `/v1/amendments/${await w.amendment()}/withdraw`, body: {} }),
  },
  {
    key: 'GET /v1/amendments/:id',
    expect: PARTIES_AND_ADMIN,
    happy: 'client',
    target: async (w) => ({ url: `/v1/amendments/${await w.amendment()}` }),
  },
  // milestones
  {
    key: 'GET /v1/milestones/:id',
    expect: PARTIES_AND_ADMIN,
    happy: 'freelancer',
    target: async (w) => ({ url: `/v1/milestones/${await ms(w, 'funded')}` }),
  },
  {
    key: 'POST /v1/milestones/:id/fund',
    expect: CLIENT_CMD,
    happy: 'client',
    target: async (w) => ({ url: `/v1/milestones/${await ms(w, 'pending')}/fund`, body: {} }),
  },
  {
    key: 'POST /v1/milestones/:id/submit',
    expect: FREELANCER_CMD,
    happy: 'freelancer',
    target: async (w) => ({ url: `/v1/milestones/${await ms(w, 'funded')}/submit`, body: { message: 'here it is' } }),
  },
  {
    key: 'POST /v1/milestones/:id/request_changes',
    expect: CLIENT_CMD,
    happy: 'client',
    target: async (w) => ({
      url: `/v1/milestones/${await ms(w, 'submitted')}/request_changes`,
      body: { message: 'more' },
    }),
  },
  {
    key: 'POST /v1/milestones/:id/approve',
    expect: CLIENT_CMD,
    happy: 'client',
    target: async (w) => ({ url: `/v1/milestones/${await ms(w, 'submitted')}/approve`, body: {} }),
  },
  {
    key: 'POST /v1/milestones/:id/request_refund',
    expect: CLIENT_CMD,
    happy: 'client',
    target: async (w) => ({ url: `/v1/milestones/${await ms(w, 'funded')}/request_refund`, body: { reason: 'stop' } }),
  },
  {
    key: 'POST /v1/milestones/:id/refund',
    expect: FREELANCER_CMD,
    happy: 'freelancer',
    target: async (w) => ({ url: `/v1/milestones/${await ms(w, 'funded')}/refund`, body: {} }),
  },
  // refund requests
  {
    key: 'GET /v1/refund_requests/:id',
    expect: PARTIES_AND_ADMIN,
    happy: 'client',
    target: async (w) => ({ url: `/v1/refund_requests/${await w.refundRequest()}` }),
  },
  {
    key: 'POST /v1/refund_requests/:id/accept',
    expect: FREELANCER_CMD,
    happy: 'freelancer',
    target: async (w) => ({ url: `/v1/refund_requests/${await w.refundRequest()}/accept`, body: {} }),
  },
  {
    key: 'POST /v1/refund_requests/:id/decline',
    expect: FREELANCER_CMD,
    happy: 'freelancer',
    target: async (w) => ({ url: `/v1/refund_requests/${await w.refundRequest()}/decline`, body: { reason: 'no' } }),
  },
  // disputes
  {
    key: 'POST /v1/milestones/:id/disputes',
    expect: PARTIES,
    happy: 'freelancer',
    target: async (w) => ({
      url: `/v1/milestones/${await ms(w, 'funded')}/disputes`,
      body: { reason: 'stuck', release_amount: AMOUNT },
    }),
  },
  {
    key: 'GET /v1/disputes/:id',
    expect: PARTIES_AND_ADMIN,
    happy: 'admin',
    target: async (w) => ({ url: `/v1/disputes/${(await w.dispute()).id}` }),
  },
  {
    key: 'POST /v1/disputes/:id/proposals',
    expect: PARTIES_AND_ADMIN,
    happy: 'freelancer',
    target: async (w) => ({
      url: `/v1/disputes/${(await w.dispute()).id}/proposals`,
      body: { release_amount: 50_000 },
    }),
  },
  {
    // the proposal is the client's (made when it opened the dispute): the other party accepts it
    key: 'POST /v1/disputes/:id/proposals/:pid/accept',
    expect: FREELANCER_CMD,
    happy: 'freelancer',
    target: async (w) => {
      const d = await w.dispute()
      return { url: `/v1/disputes/${d.id}/proposals/${d.proposal}/accept`, body: {} }
    },
  },
  {
    key: 'POST /v1/disputes/:id/escalate',
    expect: PARTIES,
    happy: 'freelancer',
    target: async (w) => ({ url: `/v1/disputes/${(await w.dispute()).id}/escalate`, body: {} }),
  },
  {
    key: 'POST /v1/disputes/:id/decide',
    expect: ADMIN_ONLY,
    happy: 'admin',
    target: async (w) => ({
      url: `/v1/disputes/${await w.arbitration()}/decide`,
      body: { release_amount: 0, note: 'refund' },
    }),
  },
  // money
  { key: 'GET /v1/balances', expect: SIGNED_IN, happy: 'client', target: at('/v1/balances') },
  // nobody here has money available: every signed-in caller gets past authorization to 409 insufficient_funds
  { key: 'POST /v1/payouts', expect: SIGNED_IN, target: at('/v1/payouts', { amount: 100, currency: 'USD' }) },
  { key: 'GET /v1/payouts', expect: SIGNED_IN, happy: 'client', target: at('/v1/payouts') },
  {
    key: 'GET /v1/payouts/:id',
    expect: CLIENT_OWNS,
    happy: 'client',
    target: async (w) => ({ url: `/v1/payouts/${await w.payout()}` }),
  },
  { key: 'GET /v1/statements', expect: SIGNED_IN, happy: 'client', target: at('/v1/statements?currency=USD') },
  { key: 'GET /v1/ledger/entries', expect: SIGNED_IN, happy: 'client', target: at('/v1/ledger/entries') },
  // events and webhooks
  { key: 'GET /v1/events', expect: SIGNED_IN, happy: 'client', target: at('/v1/events') },
  {
    key: 'GET /v1/events/:id',
    expect: OFFER_PARTIES, // the parties who received it; the admin received nothing
    happy: 'freelancer',
    target: async (w) => ({ url: `/v1/events/${await w.event()}` }),
  },
  {
    key: 'POST /v1/webhook_endpoints',
    expect: SIGNED_IN,
    happy: 'client',
    target: at('/v1/webhook_endpoints', { url: 'http://127.0.0.1:9/matrix', enabled_events: ['*'] }),
  },
  { key: 'GET /v1/webhook_endpoints', expect: SIGNED_IN, happy: 'client', target: at('/v1/webhook_endpoints') },
  {
    key: 'GET /v1/webhook_endpoints/:id',
    expect: CLIENT_OWNS,
    happy: 'client',
    target: async (w) => ({ url: `/v1/webhook_endpoints/${await w.webhook()}` }),
  },
  {
    key: 'PATCH /v1/webhook_endpoints/:id',
    expect: CLIENT_OWNS,
    happy: 'client',
    target: async (w) => ({ url: `/v1/webhook_endpoints/${await w.webhook()}`, body: { enabled: false } }),
  },
  {
    key: 'POST /v1/webhook_endpoints/:id/roll_secret',
    expect: CLIENT_OWNS,
    happy: 'client',
    target: async (w) => ({ url: `/v1/webhook_endpoints/${await w.webhook()}/roll_secret`, body: { keep_hours: 1 } }),
  },
  {
    key: 'DELETE /v1/webhook_endpoints/:id',
    expect: CLIENT_OWNS,
    happy: 'client',
    target: async (w) => ({ url: `/v1/webhook_endpoints/${await w.webhook()}` }),
  },
  {
    key: 'GET /v1/webhook_endpoints/:id/deliveries',
    expect: CLIENT_OWNS,
    happy: 'client',
    target: async (w) => {
      await w.delivery()
      return { url: `/v1/webhook_endpoints/${await w.webhook()}/deliveries` }
    },
  },
  {
    key: 'POST /v1/webhook_deliveries/:id/retry',
    expect: CLIENT_OWNS,
    happy: 'client',
    target: async (w) => ({ url: `/v1/webhook_deliveries/${await w.delivery()}/retry`, body: {} }),
  },
  // trust
  {
    key: 'GET /v1/users/:id/reputation',
    expect: SIGNED_IN,
    happy: 'stranger',
    target: async (w) => ({ url: `/v1/users/${w.p.client.id}/reputation` }),
  },
  {
    key: 'POST /v1/plans',
    expect: SIGNED_IN,
    happy: 'client',
    target: at('/v1/plans', { total: 1_000_000, currency: 'USD', payment_mode: 'by_milestone' }),
  },
  // admin (the test clock exists: the harness runs TRANCHE_CLOCK=manual)
  { key: 'GET /v1/admin/disputes', expect: ADMIN_ONLY, happy: 'admin', target: at('/v1/admin/disputes') },
  { key: 'GET /v1/admin/verify', expect: ADMIN_ONLY, happy: 'admin', target: at('/v1/admin/verify') },
  { key: 'GET /v1/admin/revenue', expect: ADMIN_ONLY, happy: 'admin', target: at('/v1/admin/revenue') },
  { key: 'GET /v1/test_clock', expect: ADMIN_ONLY, happy: 'admin', target: at('/v1/test_clock') },
  {
    key: 'POST /v1/test_clock/advance',
    expect: ADMIN_ONLY,
    happy: 'admin',
    target: at('/v1/test_clock/advance', { seconds: 0 }),
  },
]

/**
 * Rows for the web app's routes, when the server serves it (web.ts): they may be absent. Static files get one route
 * each, named after the build's fingerprints, so they are matched by pattern.
 */
export const OPTIONAL_ROUTES: readonly RouteCase[] = [
  { key: 'GET /', expect: PUBLIC, target: at('/') },
  { key: 'GET /*', expect: PUBLIC, target: at('/contracts/ctr_deep_link') },
  // only a server that seeded the demo answers it; everyone else gets the same 404
  { key: 'GET /v1/demo', expect: E(404, 404, 404, 404, 404), target: at('/v1/demo') },
]
export const STATIC_FILE = /^GET \/(assets\/[^/]+|[^/]+\.[A-Za-z0-9]+)$/

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))

const columnsOf = new WeakMap<object, Promise<{ name: string; columns: string[] }[]>>()

/** The tables of the store and their columns (looked up once per store). */
function schemaOf(env: TestEnv) {
  const db = env.rt.store.db
  let p = columnsOf.get(db)
  if (!p) {
    const schema =
      env.rt.store.caps.dialect === 'postgres'
        ? sql<{ s: string }>`select current_schema() as s`.execute(db).then((r) => r.rows[0]!.s)
        : Promise.resolve(undefined)
    p = Promise.all([db.introspection.getTables(), schema]).then(([ts, current]) =>
      ts
        .filter((t) => !t.isView && t.schema === current && !t.name.startsWith('sqlite_'))
        .map((t) => ({ name: t.name, columns: t.columns.map((c) => c.name) }))
        .sort((a, b) => (a.name < b.name ? -1 : 1)),
    )
    columnsOf.set(db, p)
  }
  return p
}

const LARGE = ['data', 'record', 'response_body']

/**
 * Every table of the store with all its rows; with `light`, without the large JSON columns (`data`, `record`,
 * `response_body`): the aggregates carry a `version` that moves with their data, the others are append-only.
 */
async function tables(env: TestEnv, light = false): Promise<{ name: string; rows: Record<string, unknown>[] }[]> {
  const db = env.rt.store.db
  const out = []
  for (const t of await schemaOf(env)) {
    const cols = light ? t.columns.filter((c) => !LARGE.includes(c)) : t.columns
    const list = sql.join(cols.map((c) => sql.ref(c)))
    out.push({
      name: t.name,
      rows: (await sql<Record<string, unknown>>`select ${list} from ${sql.table(t.name)}`.execute(db)).rows,
    })
  }
  return out
}

/** A digest of every row of every table: equal digests mean nothing was written. */
export async function snapshot(env: TestEnv): Promise<string> {
  if (env.rt.store.caps.dialect === 'postgres') {
    // one round trip: each table's rows, as text, sorted and digested by the server
    const parts = (await schemaOf(env)).map((t) => {
      const cols = sql.join(t.columns.filter((c) => !LARGE.includes(c)).map((c) => sql.ref(c)))
      return sql`select ${t.name}::text as name, count(*)::text as n,
        md5(coalesce(string_agg(x::text, '|' order by x::text), '')) as h from (select ${cols} from ${sql.table(t.name)}) x`
    })
    const rows = (
      await sql<{ name: string; n: string; h: string }>`${sql.join(parts, sql` union all `)}`.execute(env.rt.store.db)
    ).rows
    return rows.map((r) => `${r.name}:${r.n}:${r.h}`).join('\n')
  }
  const h = createHash('sha256')
  for (const t of await tables(env, true)) {
    const lines = t.rows.map(json).sort()
    h.update(`${t.name}:${lines.length}\n${lines.join('\n')}\n`)
  }
  return h.digest('hex')
}

/** Every row of every table as one string (to search it for secrets), and the table names. */
export async function dumpDatabase(env: TestEnv): Promise<{ text: string; tables: string[] }> {
  const all = await tables(env)
  return { text: all.map((t) => `${t.name}\n${json(t.rows)}`).join('\n'), tables: all.map((t) => t.name) }
}
