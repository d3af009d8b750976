/**
 * The answers documented in the OpenAPI document (`http/response-schemas.ts`) are the answers sent: every documented
 * route is called for real here and its answer checked against its schema, which names every field (no field
 * undocumented, none missing). A documented route that does not exist fails too.
 */
import { Value } from 'typebox/value'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ErrorSchema } from '../../src/http/answers/escrow.ts'
import { RESPONSES } from '../../src/http/response-schemas.ts'
import { routesOf } from '../../src/http/security.ts'
import { adminUser, call, startEnv, type TestEnv } from '../support/harness.ts'
import { contract, get, offerTerms, ok, type Party, post, type Res, user } from './helpers.ts'

describe('documented answers', () => {
  let env: TestEnv
  let admin: Party
  const seen = new Set<string>()
  beforeAll(async () => {
    env = await startEnv('sqlite')
    admin = (await adminUser(env)) as Party
  })
  afterAll(async () => env.close())

  /** The answer, after checking it against the schema documented for `route` and its status. */
  // biome-ignore lint/suspicious/noExplicitAny: the parsed JSON answer; the schema check is the assertion
  function documented(res: Res, route: string, status = 200): any {
    expect(res.status, res.text).toBe(status)
    const schema = RESPONSES[route]?.[status]
    expect(schema, `${route} ${status} is documented`).toBeDefined()
    const errors = [...Value.Errors(schema!, res.body)].map((e) => `${e.instancePath || '/'} ${e.message}`)
    expect(errors, `${route}: ${res.text.slice(0, 300)}`).toEqual([])
    seen.add(route)
    return res.body
  }

  it('every documented route exists, and every route of the API is documented', () => {
    const registered = new Set(routesOf(env.server).map((r) => `${r.method} ${r.url}`))
    expect(Object.keys(RESPONSES).filter((k) => !registered.has(k))).toEqual([])
    const api = [...registered].filter((k) => k.includes(' /v1/') && !k.startsWith('HEAD '))
    expect(api.filter((k) => !(k in RESPONSES))).toEqual([])
  })

  it('offers: open, counter, accept, decline, withdraw, read', async () => {
    const client = await user(env)
    const freelancer = await user(env)
    const open = (amounts = [100_000]) =>
      post(env, client.token, '/v1/offers', {
        role: 'client',
        counterparty_email: freelancer.email,
        ...offerTerms({ milestones: amounts.map((amount, i) => ({ title: `S${i}`, amount, due_date: '2030-01-01' })) }),
      })
    const o = documented(await open(), 'POST /v1/offers', 201)
    documented(
      await post(env, freelancer.token, `/v1/offers/${o.id}/counter`, offerTerms({}, [90_000])),
      'POST /v1/offers/:id/counter',
    )
    documented(
      await post(env, client.token, `/v1/offers/${o.id}/accept`, { revision: 2 }),
      'POST /v1/offers/:id/accept',
    )
    const declined = documented(await open(), 'POST /v1/offers', 201)
    documented(await post(env, freelancer.token, `/v1/offers/${declined.id}/decline`), 'POST /v1/offers/:id/decline')
    const withdrawn = documented(await open(), 'POST /v1/offers', 201)
    documented(await post(env, client.token, `/v1/offers/${withdrawn.id}/withdraw`), 'POST /v1/offers/:id/withdraw')
    documented(await get(env, client.token, `/v1/offers/${o.id}`), 'GET /v1/offers/:id')
    documented(await get(env, freelancer.token, '/v1/offers'), 'GET /v1/offers')
  })

  it('contracts, milestones, amendments, refunds, disputes and events', async () => {
    // by_entry, so that entries, partial approvals and their refund requests are in the answers too
    const e = await contract(
      env,
      {
        payment_mode: 'by_entry',
        unit_name: 'article',
        unit_price: 10_000,
        milestones: [1, 2, 3, 4, 5].map((i) => ({ title: `Batch ${i}`, entries: 5 })),
      },
      [],
    )
    const [m1, m2, m3, m4, m5] = e.ids as [string, string, string, string, string]
    const c = e.client.token
    const f = e.freelancer.token
    documented(
      await post(env, c, `/v1/contracts/${e.cid}/fund`, { milestone_ids: [m1, m2] }),
      'POST /v1/contracts/:id/fund',
    )
    documented(await post(env, c, `/v1/milestones/${m3}/fund`), 'POST /v1/milestones/:id/fund')
    documented(await post(env, c, `/v1/milestones/${m4}/fund`), 'POST /v1/milestones/:id/fund')
    documented(
      await post(env, f, `/v1/milestones/${m1}/submit`, {
        message: 'five',
        links: ['https://x.test'],
        entries: [1, 2, 3, 4, 5],
      }),
      'POST /v1/milestones/:id/submit',
    )
    documented(
      await post(env, c, `/v1/milestones/${m1}/request_changes`, { message: 'more' }),
      'POST /v1/milestones/:id/request_changes',
    )
    documented(
      await post(env, f, `/v1/milestones/${m1}/submit`, { message: 'again', entries: [1, 2, 3, 4, 5] }),
      'POST /v1/milestones/:id/submit',
    )
    documented(
      await post(env, c, `/v1/milestones/${m1}/approve`, { accepted_entries: [1, 2, 3], message: 'three of five' }),
      'POST /v1/milestones/:id/approve',
    )
    const partial = documented(await get(env, c, `/v1/milestones/${m1}`), 'GET /v1/milestones/:id')
    documented(await get(env, f, `/v1/refund_requests/${partial.refund_request_id}`), 'GET /v1/refund_requests/:id')
    documented(
      await post(env, f, `/v1/refund_requests/${partial.refund_request_id}/accept`),
      'POST /v1/refund_requests/:id/accept',
    )
    const asked = documented(
      await post(env, c, `/v1/milestones/${m2}/request_refund`, { reason: 'no need' }),
      'POST /v1/milestones/:id/request_refund',
    )
    documented(
      await post(env, f, `/v1/refund_requests/${asked.refund_request_id}/decline`),
      'POST /v1/refund_requests/:id/decline',
    )
    documented(
      await post(env, f, `/v1/milestones/${m3}/refund`, { reason: 'cannot' }),
      'POST /v1/milestones/:id/refund',
    )

    // a dispute, through a proposal of each side, escalation and the admin's decision
    const dsp = documented(
      await post(env, c, `/v1/milestones/${m4}/disputes`, { reason: 'late', release_amount: 10_000 }),
      'POST /v1/milestones/:id/disputes',
      201,
    )
    const answered = documented(
      await post(env, f, `/v1/disputes/${dsp.id}/proposals`, { release_amount: 40_000, message: 'most of it' }),
      'POST /v1/disputes/:id/proposals',
      201,
    )
    const theirs = answered.proposals.find(
      (p: { by: string; status: string }) => p.by === e.freelancer.id && p.status === 'open',
    )
    documented(
      await post(env, c, `/v1/disputes/${dsp.id}/proposals`, { release_amount: 20_000 }),
      'POST /v1/disputes/:id/proposals',
      201,
    )
    documented(await post(env, f, `/v1/disputes/${dsp.id}/escalate`), 'POST /v1/disputes/:id/escalate')
    documented(
      await post(env, admin.token, `/v1/disputes/${dsp.id}/decide`, { release_amount: 25_000, note: 'half' }),
      'POST /v1/disputes/:id/decide',
    )
    documented(await get(env, f, `/v1/disputes/${dsp.id}`), 'GET /v1/disputes/:id')
    expect(theirs).toBeDefined()
    // a proposal accepted ends a second dispute
    ok(await post(env, c, `/v1/milestones/${m5}/fund`))
    const second = ok(
      await post(env, f, `/v1/milestones/${m5}/disputes`, { reason: 'unpaid', release_amount: 50_000 }),
      201,
    )
    const offered = second.proposals.find((p: { status: string }) => p.status === 'open')
    documented(
      await post(env, c, `/v1/disputes/${second.id}/proposals/${offered.id}/accept`),
      'POST /v1/disputes/:id/proposals/:pid/accept',
    )

    // amendments: proposed, accepted, rejected, withdrawn, read
    const add = { add: [{ title: 'Extra', entries: 2 }] }
    const a1 = documented(
      await post(env, f, `/v1/contracts/${e.cid}/amendments`, add),
      'POST /v1/contracts/:id/amendments',
      201,
    )
    documented(await post(env, c, `/v1/amendments/${a1.id}/accept`), 'POST /v1/amendments/:id/accept')
    const a2 = documented(
      await post(env, c, `/v1/contracts/${e.cid}/amendments`, add),
      'POST /v1/contracts/:id/amendments',
      201,
    )
    documented(await post(env, f, `/v1/amendments/${a2.id}/reject`, { reason: 'no' }), 'POST /v1/amendments/:id/reject')
    const extra = (await get(env, c, `/v1/contracts/${e.cid}`)).body.milestones.at(-1).id
    const a3 = documented(
      await post(env, c, `/v1/contracts/${e.cid}/amendments`, {
        edit: [{ id: extra, title: 'Renamed', entries: 3, due_date: '2031-01-01' }],
      }),
      'POST /v1/contracts/:id/amendments',
      201,
    )
    documented(await post(env, c, `/v1/amendments/${a3.id}/withdraw`), 'POST /v1/amendments/:id/withdraw')
    documented(await get(env, f, `/v1/amendments/${a3.id}`), 'GET /v1/amendments/:id')

    const full = documented(await get(env, c, `/v1/contracts/${e.cid}`), 'GET /v1/contracts/:id')
    expect(full.refund_requests.length + full.disputes.length + full.amendments.length).toBeGreaterThan(4)
    documented(await get(env, f, '/v1/contracts'), 'GET /v1/contracts')
    const other = await contract(env, {}, [10_000, 20_000]) // ended early: this one has a dispute open
    ok(await post(env, other.client.token, `/v1/milestones/${other.ids[0]}/fund`))
    documented(
      await post(env, other.client.token, `/v1/contracts/${other.cid}/end`, { reason: 'done' }),
      'POST /v1/contracts/:id/end',
    )
    const events = documented(await get(env, f, '/v1/events?limit=100'), 'GET /v1/events')
    documented(await get(env, f, `/v1/events/${events.data[0].id}`), 'GET /v1/events/:id')
  })

  it('users, money, webhooks, trust and the admin', async () => {
    const email = `doc-${Date.now()}@x.test`
    const u = documented(
      await post(env, undefined, '/v1/users', { email, password: 'password-123', name: 'Doc' }),
      'POST /v1/users',
      201,
    )
    const session = documented(
      await post(env, undefined, '/v1/sessions', { email, password: 'password-123' }),
      'POST /v1/sessions',
      201,
    )
    const t = session.token as string
    documented(await get(env, t, '/v1/me'), 'GET /v1/me')
    documented(await call(env, 'PATCH', '/v1/me', { token: t, body: { name: 'Doc Two' } }), 'PATCH /v1/me')
    const key = documented(await post(env, t, '/v1/api_keys', { name: 'ci' }), 'POST /v1/api_keys', 201)
    documented(await get(env, t, '/v1/api_keys'), 'GET /v1/api_keys')
    documented(await call(env, 'DELETE', `/v1/api_keys/${key.id}`, { token: t }), 'DELETE /v1/api_keys/:id')
    const hook = documented(
      await post(env, t, '/v1/webhook_endpoints', { url: 'https://example.com/hook', enabled_events: ['*'] }),
      'POST /v1/webhook_endpoints',
      201,
    )
    documented(await get(env, t, '/v1/webhook_endpoints'), 'GET /v1/webhook_endpoints')
    documented(await get(env, t, `/v1/webhook_endpoints/${hook.id}`), 'GET /v1/webhook_endpoints/:id')
    documented(
      await call(env, 'PATCH', `/v1/webhook_endpoints/${hook.id}`, {
        token: t,
        body: { enabled_events: ['milestone.*', 'payout.paid'] },
      }),
      'PATCH /v1/webhook_endpoints/:id',
    )
    documented(
      await post(env, t, `/v1/webhook_endpoints/${hook.id}/roll_secret`, {}),
      'POST /v1/webhook_endpoints/:id/roll_secret',
    )

    // money: a contract with this user as client, a milestone refunded to them, a payout of it
    const f = await user(env)
    const offer = ok(
      await post(env, t, '/v1/offers', { role: 'client', counterparty_email: f.email, ...offerTerms({}, [10_000]) }),
      201,
    )
    const accepted = ok(await post(env, f.token, `/v1/offers/${offer.id}/accept`, { revision: 1 }))
    const ms = (await get(env, t, `/v1/contracts/${accepted.contract_id}`)).body.milestones[0].id
    ok(await post(env, t, `/v1/milestones/${ms}/fund`))
    ok(await post(env, f.token, `/v1/milestones/${ms}/refund`, { reason: 'cannot' }))
    documented(await get(env, t, '/v1/balances'), 'GET /v1/balances')
    const payout = documented(
      await post(env, t, '/v1/payouts', { amount: 1_000, currency: 'USD' }),
      'POST /v1/payouts',
      201,
    )
    documented(await get(env, t, '/v1/payouts'), 'GET /v1/payouts')
    documented(await get(env, t, `/v1/payouts/${payout.id}`), 'GET /v1/payouts/:id')
    documented(await get(env, t, '/v1/statements?currency=USD'), 'GET /v1/statements')
    documented(await get(env, t, '/v1/ledger/entries'), 'GET /v1/ledger/entries')
    const log = documented(
      await get(env, t, `/v1/webhook_endpoints/${hook.id}/deliveries`),
      'GET /v1/webhook_endpoints/:id/deliveries',
    )
    documented(
      await post(env, t, `/v1/webhook_deliveries/${log.data[0].id}/retry`),
      'POST /v1/webhook_deliveries/:id/retry',
      202,
    )
    documented(
      await call(env, 'DELETE', `/v1/webhook_endpoints/${hook.id}`, { token: t }),
      'DELETE /v1/webhook_endpoints/:id',
    )

    documented(await get(env, f.token, `/v1/users/${u.id}/reputation`), 'GET /v1/users/:id/reputation')
    documented(
      await post(env, f.token, '/v1/plans', {
        total: 100_000,
        currency: 'USD',
        payment_mode: 'by_milestone',
        counterparty_id: u.id,
      }),
      'POST /v1/plans',
    )
    documented(
      await post(env, f.token, '/v1/plans', {
        total: 100_000,
        currency: 'USD',
        payment_mode: 'by_entry',
        entries: 40,
        unit_price: 2_500,
      }),
      'POST /v1/plans',
    )
    documented(await get(env, admin.token, '/v1/admin/disputes?status=resolved'), 'GET /v1/admin/disputes')
    documented(await get(env, admin.token, '/v1/admin/verify'), 'GET /v1/admin/verify')
    documented(await get(env, admin.token, '/v1/admin/revenue'), 'GET /v1/admin/revenue')
    documented(await get(env, admin.token, '/v1/test_clock'), 'GET /v1/test_clock')
    documented(await post(env, admin.token, '/v1/test_clock/advance', { seconds: 60 }), 'POST /v1/test_clock/advance')
    documented(await call(env, 'DELETE', '/v1/sessions/current', { token: t }), 'DELETE /v1/sessions/current')
  })

  it('errors have the documented body, with a documented code', async () => {
    const u = await user(env)
    for (const [res, status] of [
      [await get(env, undefined, '/v1/contracts'), 401],
      [await post(env, u.token, '/v1/offers', { role: 'boss' }), 400],
      [await get(env, u.token, '/v1/contracts/ctr_doesnotexist'), 404],
      [await get(env, u.token, '/v1/admin/verify'), 403],
      [await post(env, u.token, '/v1/payouts', { amount: 1, currency: 'USD' }), 409],
    ] as const) {
      expect(res.status, res.text).toBe(status)
      expect([...Value.Errors(ErrorSchema, res.body)].map((e) => `${e.instancePath} ${e.message}`)).toEqual([])
    }
  })

  it('every documented route was checked by a real answer', () => {
    expect(Object.keys(RESPONSES).filter((k) => !seen.has(k))).toEqual([])
  })

  it('the OpenAPI document carries the answers and the error body, each object named once', async () => {
    const doc = ok(await get(env, undefined, '/openapi.json'))
    const op = doc.paths['/v1/contracts/{id}'].get
    expect(Object.keys(op.responses)).toEqual(['200', '4XX'])
    expect(op.responses['200'].content['application/json'].schema.$ref).toBe('#/components/schemas/ContractWithParties')
    expect(op.responses['200'].description).toMatch(/contract/)
    expect(op.responses['4XX'].content['application/json'].schema.$ref).toBe('#/components/schemas/Error')
    const schemas = doc.components.schemas
    expect(schemas.ContractWithParties.properties.milestones.items).toEqual({ $ref: '#/components/schemas/Milestone' })
    expect(schemas.Milestone.properties.state.anyOf.map((x: { const: string }) => x.const)).toContain('disputed')
    // a route with no documented answer still documents its errors
    expect(doc.paths['/v1/balances'].get.responses['4XX'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/Error',
    )
  })
})
