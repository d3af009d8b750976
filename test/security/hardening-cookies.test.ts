/**
 * The cookie items of SPEC §10, tested as an attacker would: the session and CSRF cookies and their attributes (also
 * behind a TLS-terminating proxy), CSRF on every cookie-authenticated write, and malformed cookies. The other
 * hardening items are in the other `hardening-*.test.ts` files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { routesOf } from '../../src/http/security.ts'
import { DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import { type People, type Person, people, ROUTES, signUp, snapshot, World } from './fixtures.ts'
import { cookieLogin, inject, setCookies } from './hardening-support.ts'

describe.each(DATABASES)('cookies and CSRF on %s', (kind) => {
  let env: TestEnv
  let p: People
  beforeAll(async () => {
    env = await startEnv(kind)
    p = await people(env)
  })
  afterAll(async () => env?.close())

  it('sets the session cookie HttpOnly and SameSite, without Secure over plain http; answers are not cached', async () => {
    const web = await cookieLogin(env, p.client)
    const s = web.cookies.tranche_session!
    expect(s.attrs).toContain('httponly')
    expect(s.attrs.some((a) => a === 'samesite=lax' || a === 'samesite=strict')).toBe(true)
    expect(s.attrs).toContain('path=/')
    expect(s.attrs).not.toContain('secure')
    // the CSRF cookie is read by the web app's script (double submit), so it is not HttpOnly
    expect(web.cookies.tranche_csrf!.attrs).not.toContain('httponly')
    expect(web.cookies.tranche_csrf!.value).not.toBe(s.value)
    const login = await inject(env, 'POST', '/v1/sessions', {}, { email: p.client.email, password: p.client.password })
    expect(login.headers['cache-control']).toBe('no-store')
  })

  it('does not trust X-Forwarded-Proto without TRANCHE_TRUST_PROXY', async () => {
    const web = await cookieLogin(env, p.client, { 'x-forwarded-proto': 'https' })
    expect(web.cookies.tranche_session!.attrs).not.toContain('secure')
  })

  it('answers 403 csrf_invalid, changing nothing, to every cookie-authenticated write without the header', async () => {
    const writes = routesOf(env.server).filter((r) => r.method !== 'GET' && r.auth !== 'none')
    expect(writes.length).toBeGreaterThan(30)
    const rows = new Map(ROUTES.map((r) => [r.key, r]))
    const sessions = new Map<string, Awaited<ReturnType<typeof cookieLogin>>>()
    const failures: string[] = []
    for (const r of writes) {
      const row = rows.get(`${r.method} ${r.url}`)
      if (!row) {
        failures.push(`${r.method} ${r.url}: no row in ROUTES`)
        continue
      }
      const actor = row.happy && row.happy !== 'anonymous' ? row.happy : 'client'
      const person: Person = p[actor]
      const t = await row.target(new World(env, p))
      const web = sessions.get(actor) ?? (await cookieLogin(env, person))
      if (!row.freshSession) sessions.set(actor, web)
      const before = await snapshot(env)
      for (const [what, headers] of [
        ['no header', { cookie: web.cookie }],
        ['a wrong header', { cookie: web.cookie, 'x-csrf-token': `${web.csrf}x` }],
        [
          'no CSRF cookie',
          { cookie: `tranche_session=${web.cookies.tranche_session!.value}`, 'x-csrf-token': web.csrf },
        ],
        [
          'an empty header and cookie',
          { cookie: `tranche_session=${web.cookies.tranche_session!.value}; tranche_csrf=`, 'x-csrf-token': '' },
        ],
      ] as const) {
        const res = await inject(env, r.method, t.url, headers, t.body)
        if (res.status !== 403 || res.body.error?.code !== 'csrf_invalid')
          failures.push(`${r.method} ${t.url} with ${what}: ${res.status} ${res.text.slice(0, 200)}`)
      }
      if ((await snapshot(env)) !== before)
        failures.push(`${r.method} ${t.url}: a refused request changed the database`)
      // with the header, the same cookie works like a bearer token
      if (row.happy && row.happy !== 'anonymous') {
        const res = await inject(env, r.method, t.url, { cookie: web.cookie, 'x-csrf-token': web.csrf }, t.body)
        if (res.status < 200 || res.status > 299)
          failures.push(`${r.method} ${t.url} with the header: ${res.status} ${res.text.slice(0, 200)}`)
      }
    }
    expect(failures).toEqual([])
  })

  it('reads with a cookie need no header; a bearer token needs none at all', async () => {
    const web = await cookieLogin(env, p.freelancer)
    expect((await inject(env, 'GET', '/v1/me', { cookie: web.cookie })).status).toBe(200)
    const bearer = await inject(
      env,
      'POST',
      '/v1/api_keys',
      { authorization: `Bearer ${p.freelancer.token}`, cookie: web.cookie },
      { name: 'b' },
    )
    expect(bearer.status).toBe(201)
  })

  it('answers malformed cookies and odd CSRF values with 4xx, never 500', async () => {
    const web = await cookieLogin(env, p.client)
    for (const cookie of [
      'tranche_session=%E0%A4%A',
      'tranche_session=%',
      '=x; ;;',
      '__proto__=x; constructor=y',
      `tranche_session=${'a'.repeat(5000)}`,
    ]) {
      for (const url of ['/healthz', '/v1/me']) {
        const res = await inject(env, 'GET', url, { cookie })
        expect(res.status, `${url} with cookie ${cookie.slice(0, 40)}: ${res.text}`).toBeLessThan(500)
      }
    }
    // a CSRF cookie with multi-byte characters and a header of the same length in UTF-16 units
    const res = await inject(
      env,
      'POST',
      '/v1/api_keys',
      { cookie: `${web.cookie.split(';')[0]}; tranche_csrf=%C3%A9`, 'x-csrf-token': 'a' },
      { name: 'x' },
    )
    expect(res.status, res.text).toBe(403)
    expect(res.body.error?.code).toBe('csrf_invalid')
  })
})

describe('cookies behind a TLS-terminating proxy (TRANCHE_TRUST_PROXY)', () => {
  let env: TestEnv
  beforeAll(async () => {
    env = await startEnv('sqlite', { TRANCHE_TRUST_PROXY: '1' })
  })
  afterAll(async () => env?.close())

  const https = { 'x-forwarded-proto': 'https' }

  it('names both cookies __Host- and marks them Secure when the proxy says https', async () => {
    const u = await signUp(env, 'tls')
    const web = await cookieLogin(env, u, https)
    const session = web.cookies['__Host-tranche_session']!
    const csrf = web.cookies['__Host-tranche_csrf']!
    // what a browser requires of a __Host- cookie: Secure, Path=/, no Domain
    for (const c of [session, csrf]) {
      expect(c.attrs).toContain('secure')
      expect(c.attrs).toContain('path=/')
      expect(c.attrs).not.toContain('domain')
    }
    expect(session.attrs).toContain('httponly')
    expect(web.cookies.tranche_session).toBeUndefined()
    const plain = await cookieLogin(env, u, { 'x-forwarded-proto': 'http' })
    expect(plain.cookies.tranche_session!.attrs).not.toContain('secure')
    expect(plain.cookies['__Host-tranche_session']).toBeUndefined()
  })

  it('over https reads only the __Host- cookies: plain ones, which a sibling subdomain can set, are no session', async () => {
    const u = await signUp(env, 'sibling')
    const web = await cookieLogin(env, u, https)
    const token = web.cookies['__Host-tranche_session']!.value
    expect((await inject(env, 'GET', '/v1/me', { ...https, cookie: web.cookie })).status).toBe(200)
    // the same session planted under the plain names (login CSRF from a sibling subdomain) signs nobody in
    const planted = `tranche_session=${token}; tranche_csrf=${web.csrf}`
    const me = await inject(env, 'GET', '/v1/me', { ...https, cookie: planted })
    expect(me.status).toBe(401)
    const write = await inject(env, 'PATCH', '/v1/me', { ...https, cookie: planted, 'x-csrf-token': web.csrf }, {})
    expect(write.status).toBe(401)
    // a write with the __Host- cookies and the header works
    const ok = await inject(
      env,
      'PATCH',
      '/v1/me',
      { ...https, cookie: web.cookie, 'x-csrf-token': web.csrf },
      {
        name: 'Renamed over TLS',
      },
    )
    expect(ok.status).toBe(200)
    // logging out clears the __Host- cookies
    const out = await inject(env, 'DELETE', '/v1/sessions/current', {
      ...https,
      cookie: web.cookie,
      'x-csrf-token': web.csrf,
    })
    expect(out.status).toBe(200)
    const cleared = setCookies(out.headers['set-cookie'])
    expect(cleared['__Host-tranche_session']!.attrs).toContain('max-age=0')
    expect(cleared['__Host-tranche_session']!.attrs).toContain('secure')
  })
})
