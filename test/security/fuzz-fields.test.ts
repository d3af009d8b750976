/**
 * Hostile input (SPEC §10), field by field: accepted text full of odd Unicode (RTL marks, zero-width, emoji) and
 * SQL-looking text reads back byte-identical; text that cannot round-trip (NUL, lone surrogates) and spoofed fields
 * (mass assignment) on every POST endpoint are refused with 400, changing no row of any table. TRANCHE_DEEP=1 runs
 * far more round-trip cases. The fuzzing of every endpoint is in `fuzz-endpoints.test.ts`.
 */
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import { DEEP, ok, type People, people, ROUTES, snapshot, terms, World } from './fixtures.ts'
import { ILL_FORMED, NASTY, ODD, SPOOFING } from './fuzz-support.ts'

describe.each(DATABASES)('hostile input on %s', (kind) => {
  let env: TestEnv
  let p: People

  beforeAll(async () => {
    env = await startEnv(kind)
    p = await people(env)
  })
  afterAll(async () => env?.close())

  const posts = ROUTES.filter((r) => r.key.startsWith('POST '))

  it('round-trips accepted text exactly: titles, descriptions, messages, reasons, links, names', async () => {
    // well-formed text within the documented lengths, full of odd but valid characters
    const piece = fc.oneof(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }),
      fc.constantFrom(...ODD, ...NASTY),
    )
    const wellFormed = (max: number) =>
      fc
        .array(piece, { minLength: 1, maxLength: 12 })
        .map((a) => a.join(''))
        .filter((s) => [...s].length <= max)
    const runs = DEEP ? 200 : 12
    const checks: [string, unknown, unknown][] = []
    const same = (where: string, got: unknown, sent: unknown) => {
      if (got !== sent) checks.push([where, got, sent])
    }
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          title: wellFormed(200),
          description: wellFormed(10_000),
          ms: wellFormed(200),
          criteria: wellFormed(500),
          message: wellFormed(10_000),
          link: wellFormed(300),
          name: wellFormed(200),
        }),
        async (s) => {
          const { client, freelancer } = p
          const body = {
            role: 'client',
            counterparty_email: freelancer.email,
            ...terms(s.title),
            description: s.description,
            milestones: [
              { title: s.ms, description: s.description, acceptance_criteria: s.criteria, amount: 100_000 },
              { title: 'Two', amount: 100_000 },
            ],
          }
          const created = await call(env, 'POST', '/v1/offers', { token: client.token, body })
          if (s.title.trim() === '' || s.ms.trim() === '') {
            expect(created.status).toBeLessThan(500)
            return
          }
          const offer = ok(created, 201)
          const read = ok(await call(env, 'GET', `/v1/offers/${offer.id}`, { token: freelancer.token }))
          same('offer title', read.terms.title, s.title)
          same('offer description', read.terms.description, s.description)
          same('milestone title', read.terms.milestones[0].title, s.ms)
          same('milestone description', read.terms.milestones[0].description, s.description)
          same('acceptance criteria', read.terms.milestones[0].acceptance_criteria, s.criteria)
          const accepted = ok(
            await call(env, 'POST', `/v1/offers/${offer.id}/accept`, {
              token: freelancer.token,
              body: { revision: 1 },
            }),
          )
          const c = ok(await call(env, 'GET', `/v1/contracts/${accepted.contract_id}`, { token: client.token }))
          same('contract title', c.title, s.title)
          const [m1, m2] = c.milestones as { id: string }[]
          for (const m of [m1!, m2!])
            ok(await call(env, 'POST', `/v1/milestones/${m.id}/fund`, { token: client.token }))
          ok(
            await call(env, 'POST', `/v1/milestones/${m1!.id}/submit`, {
              token: freelancer.token,
              body: { message: s.message, links: [s.link] },
            }),
          )
          const sub = ok(await call(env, 'GET', `/v1/milestones/${m1!.id}`, { token: client.token })).submission
          same('submission message', sub.message, s.message)
          same('submission link', sub.links[0], s.link)
          const rr = ok(
            await call(env, 'POST', `/v1/milestones/${m2!.id}/request_refund`, {
              token: client.token,
              body: { reason: s.message },
            }),
          )
          same(
            'refund reason',
            ok(await call(env, 'GET', `/v1/refund_requests/${rr.refund_request_id}`, { token: freelancer.token }))
              .reason,
            s.message,
          )
          const d = ok(
            await call(env, 'POST', `/v1/milestones/${m1!.id}/disputes`, {
              token: client.token,
              body: { reason: s.message, release_amount: 0 },
            }),
            201,
          )
          same('dispute reason', d.reason, s.message)
          const prop = ok(
            await call(env, 'POST', `/v1/disputes/${d.id}/proposals`, {
              token: freelancer.token,
              body: { release_amount: 1, message: s.description },
            }),
            201,
          )
          const got = ok(await call(env, 'GET', `/v1/disputes/${prop.id}`, { token: client.token }))
          same('proposal message', (got.proposals as { message: string }[]).at(-1)!.message, s.description)
          const key = ok(await call(env, 'POST', '/v1/api_keys', { token: client.token, body: { name: s.name } }), 201)
          const keys = ok(await call(env, 'GET', '/v1/api_keys', { token: client.token }))
          same('api key name', (keys.data as { id: string; name: string }[]).find((k) => k.id === key.id)!.name, s.name)
        },
      ),
      { numRuns: runs },
    )
    // names of users (sign up, then read back after logging in)
    for (const name of [
      'Ada\u202eLovelace',
      "👩‍💻 Zoë O'Brien",
      '\u200bzero\u200dwidth',
      "Robert'); DROP TABLE users;--",
      'ﷺ𝕿\u0301',
    ]) {
      const email = `rt-${randomBytes(5).toString('hex')}@sec.tranche.test`
      ok(await call(env, 'POST', '/v1/users', { body: { email, password: 'long-enough-pw-1', name } }), 201)
      const s = ok(await call(env, 'POST', '/v1/sessions', { body: { email, password: 'long-enough-pw-1' } }), 201)
      same('user name', ok(await call(env, 'GET', '/v1/me', { token: s.token })).name, name)
    }
    expect(checks).toEqual([])
  })

  it('refuses spoofed fields on every POST (mass assignment): 400 parameter_unknown, nothing stored', async () => {
    const failures: string[] = []
    for (const row of posts) {
      const actor = row.happy && row.happy !== 'anonymous' ? row.happy : 'client'
      const token = row.key === 'POST /v1/users' || row.key === 'POST /v1/sessions' ? undefined : p[actor].token
      const t = await row.target(new World(env, p))
      const before = await snapshot(env)
      for (const key of SPOOFING) {
        const body = { ...(t.body as object), [key]: key === 'is_admin' || key === 'admin' ? true : 'usr_spoofed' }
        const r = await call(env, 'POST', t.url, { ...(token ? { token } : {}), body })
        if (r.status !== 400 || r.body?.error?.code !== 'parameter_unknown' || r.body.error.param !== key)
          failures.push(`${row.key} with ${key}: ${r.status} ${r.text.slice(0, 160)}`)
      }
      if ((await snapshot(env)) !== before) failures.push(`${row.key}: a refused request changed the database`)
    }
    expect(failures).toEqual([])
  })

  it('refuses text that cannot round-trip (NUL, lone surrogates) with 400 naming the field, changing nothing', async () => {
    const before = await snapshot(env)
    for (const bad of ILL_FORMED) {
      for (const [url, body, param] of [
        ['/v1/api_keys', { name: bad }, 'name'],
        ['/v1/offers', { role: 'client', counterparty_email: p.freelancer.email, ...terms(`T${bad}`) }, 'title'],
        [
          '/v1/webhook_endpoints',
          { url: 'http://127.0.0.1:9/x', enabled_events: ['*'], description: bad },
          'description',
        ],
      ] as const) {
        const r = await call(env, 'POST', url, { token: p.client.token, body })
        expect(r.status, `${url} ${JSON.stringify(bad)}: ${r.text}`).toBe(400)
        expect(r.body.error.param).toBe(param)
      }
      const signup = await call(env, 'POST', '/v1/users', {
        body: { email: 'x@y.test', password: 'long-enough-pw-1', name: bad },
      })
      expect(signup.status, signup.text).toBe(400)
    }
    expect(await snapshot(env)).toBe(before)
  })
})
