/**
 * The CSRF token is bound to its session: the web app's `X-CSRF-Token` must be the token of the session whose cookie
 * comes with it, so a token (and CSRF cookie) from one session, planted next to another session's cookie, is refused.
 * Bearer tokens (session tokens and API keys) need no CSRF token at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CSRF_COOKIE, csrfTokenFor, SESSION_COOKIE } from '../../src/http/auth.ts'
import { DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import { type Person, signUp, snapshot } from './fixtures.ts'

/** The value of cookie `name` in a Set-Cookie header list, or undefined. */
function setCookie(header: string | string[] | number | undefined, name: string): string | undefined {
  for (const c of [header ?? []].flat()) {
    const pair = String(c).split(';')[0]!
    if (pair.startsWith(`${name}=`)) return pair.slice(name.length + 1)
  }
  return undefined
}

async function send(env: TestEnv, method: string, url: string, headers: Record<string, string>, body?: unknown) {
  const res = await env.server.inject({
    method: method as 'GET',
    url,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  })
  let parsed: { error?: { code?: string } } & Record<string, unknown> = {}
  try {
    parsed = JSON.parse(res.body)
  } catch {}
  return { status: res.statusCode, body: parsed, headers: res.headers, text: res.body }
}

/** Logs in the web app's way: the session cookie and the CSRF cookie the server sets. */
async function webLogin(env: TestEnv, p: Person) {
  const res = await send(env, 'POST', '/v1/sessions', {}, { email: p.email, password: p.password })
  expect(res.status, res.text).toBe(201)
  const session = setCookie(res.headers['set-cookie'], SESSION_COOKIE)!
  const csrf = setCookie(res.headers['set-cookie'], CSRF_COOKIE)!
  return { session, csrf, cookie: `${SESSION_COOKIE}=${session}; ${CSRF_COOKIE}=${csrf}` }
}

describe.each(DATABASES)('CSRF token bound to the session on %s', (kind) => {
  let env: TestEnv
  let alice: Person
  let bob: Person
  beforeAll(async () => {
    env = await startEnv(kind)
    alice = await signUp(env, 'csrf-alice')
    bob = await signUp(env, 'csrf-bob')
  })
  afterAll(async () => env?.close())

  it('gives each session its own token, derived from that session, once in a Set-Cookie', async () => {
    const a1 = await webLogin(env, alice)
    const a2 = await webLogin(env, alice)
    expect(a1.csrf).toBe(csrfTokenFor(a1.session))
    expect(a1.csrf).not.toBe(a2.csrf)
    expect(a1.csrf).not.toContain(a1.session)
    const res = await send(env, 'POST', '/v1/sessions', {}, { email: alice.email, password: alice.password })
    const cookies = [res.headers['set-cookie'] ?? []].flat().map(String)
    expect(cookies.filter((c) => c.startsWith(`${CSRF_COOKIE}=`))).toHaveLength(1)
  })

  it("refuses, changing nothing, a token from session A with session B's cookie (same user or another)", async () => {
    const a = await webLogin(env, alice)
    const otherOfAlice = await webLogin(env, alice)
    const b = await webLogin(env, bob)
    for (const victim of [otherOfAlice, b]) {
      const before = await snapshot(env)
      for (const [what, cookie] of [
        ['the victim session with its own CSRF cookie', victim.cookie],
        [
          "the victim session with A's CSRF cookie planted",
          `${SESSION_COOKIE}=${victim.session}; ${CSRF_COOKIE}=${a.csrf}`,
        ],
      ] as const) {
        const res = await send(env, 'POST', '/v1/api_keys', { cookie, 'x-csrf-token': a.csrf }, { name: 'forged' })
        expect(res.status, `${what}: ${res.text}`).toBe(403)
        expect(res.body.error?.code, what).toBe('csrf_invalid')
      }
      expect(await snapshot(env)).toBe(before)
    }
  })

  it('accepts the token of the session that comes with it', async () => {
    const a = await webLogin(env, alice)
    const res = await send(env, 'POST', '/v1/api_keys', { cookie: a.cookie, 'x-csrf-token': a.csrf }, { name: 'web' })
    expect(res.status, res.text).toBe(201)
    const out = await send(env, 'DELETE', '/v1/sessions/current', { cookie: a.cookie, 'x-csrf-token': a.csrf })
    expect(out.status, out.text).toBe(200)
    // logging out clears the cookies; no fresh CSRF token is handed out for the ended session
    expect(setCookie(out.headers['set-cookie'], CSRF_COOKIE)).toBe('')
  })

  it('needs no CSRF token for bearer tokens: API keys and session tokens, even next to a cookie', async () => {
    const created = await send(env, 'POST', '/v1/api_keys', { authorization: `Bearer ${bob.token}` }, { name: 'k' })
    expect(created.status, created.text).toBe(201)
    const key = created.body.secret as string
    expect(key.startsWith('sk_')).toBe(true)
    const viaKey = await send(env, 'POST', '/v1/api_keys', { authorization: `Bearer ${key}` }, { name: 'k2' })
    expect(viaKey.status, viaKey.text).toBe(201)
    const a = await webLogin(env, alice)
    const mixed = await send(
      env,
      'POST',
      '/v1/api_keys',
      { authorization: `Bearer ${key}`, cookie: `${SESSION_COOKIE}=${a.session}; ${CSRF_COOKIE}=wrong` },
      { name: 'k3' },
    )
    expect(mixed.status, mixed.text).toBe(201)
  })

  it("replaces a CSRF cookie that is not the session's on the next read, so the web app's next write works", async () => {
    const a = await webLogin(env, alice)
    const stale = `${SESSION_COOKIE}=${a.session}; ${CSRF_COOKIE}=csrf_from_before`
    const refused = await send(
      env,
      'POST',
      '/v1/api_keys',
      { cookie: stale, 'x-csrf-token': 'csrf_from_before' },
      {
        name: 'x',
      },
    )
    expect(refused.status).toBe(403)
    const me = await send(env, 'GET', '/v1/me', { cookie: stale })
    expect(me.status).toBe(200)
    const fresh = setCookie(me.headers['set-cookie'], CSRF_COOKIE)
    expect(fresh).toBe(a.csrf)
    // a session whose cookie is already right gets no Set-Cookie; an unknown session gets none either
    expect(
      setCookie((await send(env, 'GET', '/v1/me', { cookie: a.cookie })).headers['set-cookie'], CSRF_COOKIE),
    ).toBeUndefined()
    const unknown = await send(env, 'GET', '/v1/me', { cookie: `${SESSION_COOKIE}=tks_nope; ${CSRF_COOKIE}=x` })
    expect(unknown.status).toBe(401)
    expect(setCookie(unknown.headers['set-cookie'], CSRF_COOKIE)).toBeUndefined()
    const ok = await send(
      env,
      'POST',
      '/v1/api_keys',
      { cookie: `${SESSION_COOKIE}=${a.session}; ${CSRF_COOKIE}=${fresh}`, 'x-csrf-token': fresh! },
      { name: 'after' },
    )
    expect(ok.status, ok.text).toBe(201)
  })
})
