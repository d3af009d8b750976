/**
 * Who may call what (SPEC §2, §5, §10), tested as an attacker would: every route the server registers has a row in
 * ROUTES (fixtures.ts) stating what each of {anonymous, stranger, client, freelancer, admin} gets; a route without
 * a row fails the first test, so a new route cannot be forgotten. Each row runs against real objects made fresh for
 * it. Then: the lists answer only the caller's own objects.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { routesOf } from '../../src/http/security.ts'
import { advance, call, DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import {
  ACTORS,
  type Actor,
  type Expect,
  logIn,
  OPTIONAL_ROUTES,
  ok,
  type People,
  type Person,
  people,
  type Res,
  ROUTES,
  type RouteCase,
  STATIC_FILE,
  show,
  signUp,
  World,
} from './fixtures.ts'

const CODE_OF: Partial<Record<Expect, string[]>> = {
  401: ['authentication_required'],
  403: ['actor_not_allowed', 'admin_only'],
  404: ['resource_missing'],
}

function meets(e: Expect, r: Res): boolean {
  if (e === 'public') return r.status >= 200 && r.status < 400
  if (e === 'allowed') return r.status < 500 && ![401, 403, 404, 429].includes(r.status)
  return r.status === e && (CODE_OF[e] ?? []).includes(r.body?.error?.code)
}

/** Anonymous and stranger first, then those refused, then the happy caller, then the other allowed ones. */
function order(row: RouteCase): Actor[] {
  const refused = ACTORS.filter((a) => typeof row.expect[a] === 'number' && a !== 'anonymous' && a !== 'stranger')
  const allowed = ACTORS.filter((a) => typeof row.expect[a] !== 'number' && a !== 'anonymous' && a !== 'stranger')
  return [
    'anonymous',
    'stranger',
    ...refused,
    ...allowed.filter((a) => a === row.happy),
    ...allowed.filter((a) => a !== row.happy),
  ]
}

const ID = /\b(ctr|ms|off|amd|rfr|dsp|prp|key|whe|whd|usr|evt|pay)_[A-Za-z0-9]+/
/** The URL with each id replaced by one of the same kind that does not exist. */
const fakeIds = (url: string) =>
  url.replace(new RegExp(ID, 'g'), (_m, prefix: string) => `${prefix}_${randomBytes(10).toString('hex')}`)

describe.each(DATABASES)('authorization matrix on %s', (kind) => {
  let env: TestEnv
  let p: People
  beforeAll(async () => {
    env = await startEnv(kind)
    p = await people(env)
  })
  afterAll(async () => env?.close())

  it('has a row for every route the server registers, and no row for a route that does not exist', () => {
    const registered = routesOf(env.server).map((r) => `${r.method} ${r.url}`)
    expect(registered.length).toBeGreaterThan(50)
    expect(new Set(ROUTES.map((r) => r.key)).size, 'duplicate rows').toBe(ROUTES.length)
    const rows = new Set([...ROUTES, ...OPTIONAL_ROUTES].map((r) => r.key))
    const missing = registered.filter((k) => !rows.has(k) && !STATIC_FILE.test(k))
    expect(missing, 'routes without a row in ROUTES (test/security/fixtures.ts): say who may call them').toEqual([])
    const stale = ROUTES.map((r) => r.key).filter((k) => !registered.includes(k))
    expect(stale, 'rows for routes the server does not have').toEqual([])
  })

  it("agrees with each route's declared auth level (config.auth)", () => {
    const byKey = new Map(ROUTES.map((r) => [r.key, r]))
    for (const r of routesOf(env.server)) {
      const row = byKey.get(`${r.method} ${r.url}`)
      if (!row) continue
      const where = `${r.method} ${r.url} (auth: ${r.auth})`
      if (r.auth === 'none') expect(row.expect.anonymous, where).not.toBe(401)
      else expect(row.expect.anonymous, where).toBe(401)
      if (r.auth === 'admin') expect(row.expect.admin, where).toBe('allowed')
      if (r.auth === 'admin')
        expect([row.expect.stranger, row.expect.client, row.expect.freelancer], where).toEqual([403, 403, 403])
    }
  })

  const exercise = async (row: RouteCase) => {
    const method = row.key.split(' ')[0] as 'GET' | 'POST' | 'PATCH' | 'DELETE'
    const w = new World(env, p)
    const t = await row.target(w)
    const failures: string[] = []
    for (const actor of order(row)) {
      const person: Person | null = actor === 'anonymous' ? null : p[actor]
      const token = person ? (row.freshSession ? await logIn(env, person) : person.token) : undefined
      const res = await call(env, method, t.url, {
        ...(token ? { token } : {}),
        ...(t.body !== undefined ? { body: t.body } : {}),
      })
      const want = row.expect[actor]
      if (!meets(want, res)) failures.push(`${actor}: expected ${want}, got ${show(res)}`)
      if (actor === row.happy && (res.status < 200 || res.status > 299))
        failures.push(`${actor} (happy path): expected 2xx, got ${show(res)}`)
      // a hidden object answers exactly like one that does not exist (existence is not leaked)
      if (want === 404 && token && ID.test(t.url)) {
        const ghost = await call(env, method, fakeIds(t.url), {
          token,
          ...(t.body !== undefined ? { body: t.body } : {}),
        })
        const shape = (r: Res) => `${r.status} ${r.text.replace(new RegExp(ID, 'g'), '$1_…')}`
        if (shape(ghost) !== shape(res))
          failures.push(`${actor}: hidden object answers ${show(res)} but a missing one ${show(ghost)}`)
      }
    }
    expect(failures, `${row.key} → ${t.url}`).toEqual([])
  }

  it.each(ROUTES.map((r) => [r.key, r] as const))('%s', async (_key, row) => exercise(row))

  it.each(OPTIONAL_ROUTES.map((r) => [r.key, r] as const))('%s (when the server has it)', async (key, row) => {
    if (!routesOf(env.server).some((r) => `${r.method} ${r.url}` === key)) return
    await exercise(row)
  })
})

describe.each(DATABASES)('lists answer only the caller’s objects on %s', (kind) => {
  let env: TestEnv
  beforeAll(async () => {
    env = await startEnv(kind)
  })
  afterAll(async () => env?.close())

  /** A client and a freelancer with an offer, a contract (one milestone paid out), an API key and a webhook. */
  async function pair(tag: string) {
    const client = await signUp(env, `${tag}-client`)
    const freelancer = await signUp(env, `${tag}-freelancer`)
    const w = new World(env, { client, freelancer, stranger: client, admin: client })
    const offer = await w.offer()
    const contract = await w.contract()
    const released = await w.submitted()
    ok(await call(env, 'POST', `/v1/milestones/${released}/approve`, { token: client.token, body: {} }))
    const key = ok(await call(env, 'POST', '/v1/api_keys', { token: freelancer.token, body: { name: tag } }), 201).id
    return { tag, client, freelancer, w, offer, contract, released, webhook: await w.webhook(), key }
  }

  async function all(token: string, url: string): Promise<{ text: string; data: Record<string, unknown>[] }> {
    const data: Record<string, unknown>[] = []
    let text = ''
    let after: string | null = null
    for (let page = 0; page < 50; page++) {
      const sep = url.includes('?') ? '&' : '?'
      const r = ok(await call(env, 'GET', `${url}${sep}limit=100${after ? `&starting_after=${after}` : ''}`, { token }))
      text += JSON.stringify(r)
      data.push(...(r.data ?? []))
      if (!r.has_more) break
      after = String((r.data as { id: string }[]).at(-1)!.id)
    }
    return { text, data }
  }
  type List = Promise<{ text: string; data: Record<string, unknown>[] }>
  type Name =
    | 'offers'
    | 'contracts'
    | 'events'
    | 'payouts'
    | 'api_keys'
    | 'webhook_endpoints'
    | 'ledger'
    | 'balances'
    | 'statement'
  const listsOf = (token: string): Record<Name, List> => ({
    offers: all(token, '/v1/offers'),
    contracts: all(token, '/v1/contracts'),
    events: all(token, '/v1/events'),
    payouts: all(token, '/v1/payouts'),
    api_keys: call(env, 'GET', '/v1/api_keys', { token }).then((r) => ({ text: r.text, data: ok(r).data })),
    webhook_endpoints: call(env, 'GET', '/v1/webhook_endpoints', { token }).then((r) => ({
      text: r.text,
      data: ok(r).data,
    })),
    ledger: call(env, 'GET', '/v1/ledger/entries?limit=100', { token }).then((r) => ({ text: r.text, data: [] })),
    balances: call(env, 'GET', '/v1/balances', { token }).then((r) => ({ text: r.text, data: [] })),
    statement: call(env, 'GET', '/v1/statements?currency=USD', { token }).then((r) => ({ text: r.text, data: [] })),
  })

  it('offers, contracts, events, payouts, API keys, webhook endpoints, ledger: own objects only', async () => {
    const a = await pair('a')
    const b = await pair('b')
    // earnings become available after the 5-day hold; each freelancer pays some out
    await advance(env, 5 * 86_400 + 60)
    const payoutA = ok(
      await call(env, 'POST', '/v1/payouts', { token: a.freelancer.token, body: { amount: 1_000, currency: 'USD' } }),
      201,
    )
    const payoutB = ok(
      await call(env, 'POST', '/v1/payouts', { token: b.freelancer.token, body: { amount: 1_000, currency: 'USD' } }),
      201,
    )
    // a contract between b's client and a's freelancer must not show b's other objects to a either
    const idsOf = (x: typeof a, payout: string) => [
      x.client.id,
      x.freelancer.id,
      x.offer,
      x.contract.id,
      ...x.contract.ms,
      x.webhook,
      x.key,
      payout,
    ]
    const secretOf = { a: idsOf(a, payoutA.id), b: idsOf(b, payoutB.id) }

    for (const [me, other] of [
      [a, 'b'],
      [b, 'a'],
    ] as const) {
      for (const who of [me.client, me.freelancer]) {
        const lists = listsOf(who.token)
        for (const [name, pending] of Object.entries(lists)) {
          const { text, data } = await pending
          const leaked = secretOf[other].filter((id) => text.includes(id))
          expect(
            leaked,
            `${me.tag} ${who === me.client ? 'client' : 'freelancer'} GET ${name} shows another's ids`,
          ).toEqual([])
          for (const item of data) {
            if (name === 'offers' || name === 'contracts')
              expect([item.client_id, item.freelancer_id]).toContain(who.id)
          }
        }
        const mine = Object.fromEntries(
          await Promise.all(Object.entries(lists).map(async ([k, v]) => [k, (await v).text])),
        )
        expect(mine.offers).toContain(me.offer)
        expect(mine.contracts).toContain(me.contract.id)
        expect(mine.events).toContain(me.contract.id)
        // the client paid through the rail (no account of theirs moved); the freelancer was paid
        if (who === me.freelancer) expect(mine.ledger).toContain(me.contract.id)
      }
      const client = listsOf(me.client.token)
      expect((await client.webhook_endpoints).data.map((e) => e.id)).toEqual([me.webhook])
      expect((await client.api_keys).data).toEqual([])
      const freelancer = listsOf(me.freelancer.token)
      expect((await freelancer.api_keys).data.map((k) => k.id)).toEqual([me.key])
      expect((await freelancer.webhook_endpoints).data).toEqual([])
      expect((await freelancer.payouts).data.map((x) => x.id)).toEqual([me === a ? payoutA.id : payoutB.id])
      expect((await client.payouts).data).toEqual([])
    }

    // filters and cursors do not open a door either
    const byContract = ok(await call(env, 'GET', `/v1/events?contract_id=${b.contract.id}`, { token: a.client.token }))
    expect(byContract.data).toEqual([])
    // another user's object as a cursor is answered as one that does not exist: 404, naming only what was sent
    const cursor = await call(env, 'GET', `/v1/payouts?starting_after=${payoutB.id}`, { token: a.freelancer.token })
    const nothing = await call(env, 'GET', '/v1/payouts?starting_after=pay_nothing', { token: a.freelancer.token })
    expect([cursor.status, cursor.body.error.code, nothing.status]).toEqual([404, 'resource_missing', 404])
    expect(cursor.body.error.message).toBe(nothing.body.error.message.replace('pay_nothing', payoutB.id))
    const offersCursor = await call(env, 'GET', `/v1/offers?starting_after=${b.offer}`, { token: a.client.token })
    expect([offersCursor.status, offersCursor.body.error.code]).toEqual([404, 'resource_missing'])
    for (const id of secretOf.b) if (id !== b.offer) expect(offersCursor.text).not.toContain(id)

    // the admin sees every contract, but no one's offers, keys, endpoints or payouts
    const admin = (
      await call(env, 'POST', '/v1/sessions', { body: { email: 'admin@tranche.test', password: 'admin-password-1' } })
    ).body.token
    const adminLists = listsOf(admin)
    const contracts = (await adminLists.contracts).text
    expect(contracts).toContain(a.contract.id)
    expect(contracts).toContain(b.contract.id)
    for (const name of ['offers', 'api_keys', 'webhook_endpoints', 'payouts'] as const) {
      const text = (await adminLists[name]).text
      for (const id of [...secretOf.a, ...secretOf.b]) expect(text, `admin GET ${name}`).not.toContain(id)
    }
  })
})
