/** Users, sessions, API keys, cookie auth with CSRF, and the login rate limit (SPEC §2, §10). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildServer } from '../../src/http/server.ts'
import { createRuntime } from '../../src/main.ts'
import { call, DATABASES, silentLog, startEnv, type TestEnv } from '../support/harness.ts'
import { expectError, get, ok, post, raw, user } from './helpers.ts'

const PASSWORD = 'correct-horse-battery-9'
let n = 0
const email = (tag = 'u') => `${tag}-${++n}-${Math.random().toString(36).slice(2, 8)}@tranche.test`

/** The cookies a Set-Cookie header list sets, by name, with their attribute strings. */
function setCookies(header: string | string[] | undefined) {
  const out: Record<string, { value: string; attrs: string }> = {}
  for (const c of [header ?? []].flat()) {
    const [pair, ...attrs] = c.split(';')
    const i = pair!.indexOf('=')
    out[pair!.slice(0, i).trim()] = { value: pair!.slice(i + 1), attrs: attrs.join(';') }
  }
  return out
}

describe.each(DATABASES)('users and sessions on %s', (kind) => {
  let env: TestEnv
  beforeAll(async () => {
    env = await startEnv(kind)
  })
  afterAll(async () => env.close())

  it('signs up (201) with a prefixed id, no password in the answer, UTC as the default time zone', async () => {
    const e = email()
    const res = await post(env, undefined, '/v1/users', { email: e, password: PASSWORD, name: 'Ada' })
    const u = ok(res, 201)
    expect(u).toMatchObject({ object: 'user', email: e, name: 'Ada', time_zone: 'UTC', is_admin: false })
    expect(u.id).toMatch(/^usr_/)
    expect(new Date(u.created_at).toISOString()).toBe(u.created_at)
    expect(res.text).not.toContain(PASSWORD)
    expect(res.text).not.toMatch(/password|argon/i)
    const tz = ok(
      await post(env, undefined, '/v1/users', {
        email: email(),
        password: PASSWORD,
        name: 'B',
        time_zone: 'Europe/Paris',
      }),
      201,
    )
    expect(tz.time_zone).toBe('Europe/Paris')
  })

  it('refuses a taken email in any case (409 email_taken)', async () => {
    const e = email('Case')
    ok(await post(env, undefined, '/v1/users', { email: e, password: PASSWORD, name: 'A' }), 201)
    expectError(
      await post(env, undefined, '/v1/users', { email: e.toUpperCase(), password: PASSWORD, name: 'B' }),
      409,
      'email_taken',
    )
  })

  it('validates sign-up input', async () => {
    const base = { email: email(), password: PASSWORD, name: 'A' }
    expectError(
      await post(env, undefined, '/v1/users', { ...base, password: 'short-9' }),
      400,
      'parameter_invalid',
      'password',
    )
    expectError(
      await post(env, undefined, '/v1/users', { ...base, email: 'not-an-email' }),
      400,
      'parameter_invalid',
      'email',
    )
    expectError(
      await post(env, undefined, '/v1/users', { ...base, time_zone: 'Mars/Olympus' }),
      400,
      'parameter_invalid',
      'time_zone',
    )
    expectError(await post(env, undefined, '/v1/users', { ...base, admin: true }), 400, 'parameter_unknown', 'admin')
    expectError(
      await post(env, undefined, '/v1/users', { email: base.email, password: PASSWORD }),
      400,
      'parameter_missing',
      'name',
    )
  })

  it('logs in (201 {token, user}), GET /v1/me, and logs out (the token stops working)', async () => {
    const e = email()
    ok(await post(env, undefined, '/v1/users', { email: e, password: PASSWORD, name: 'Me' }), 201)
    const s = ok(await post(env, undefined, '/v1/sessions', { email: e.toUpperCase(), password: PASSWORD }), 201)
    expect(s.token).toMatch(/^tks_/)
    expect(s.user).toMatchObject({ object: 'user', email: e })
    const me = ok(await get(env, s.token, '/v1/me'))
    expect(me).toMatchObject({ id: s.user.id, email: e, name: 'Me', is_admin: false })
    expect(ok(await call(env, 'DELETE', '/v1/sessions/current', { token: s.token }))).toMatchObject({ deleted: true })
    expectError(await get(env, s.token, '/v1/me'), 401, 'authentication_required')
    expectError(await call(env, 'DELETE', '/v1/sessions/current', { token: s.token }), 401, 'authentication_required')
  })

  it('a logout reaches the other servers of the database within a second (credentials are remembered that long)', async () => {
    // a second server with its own runtime on the same database, as `tranche serve` run twice
    const rt2 = await createRuntime(env.config, { log: silentLog, store: env.rt.store })
    const env2: TestEnv = { ...env, rt: rt2, server: await buildServer(rt2.app, { worker: rt2.worker }) }
    try {
      await env2.server.ready()
      const u = await user(env, 'two-servers')
      expect(ok(await get(env2, u.token, '/v1/me')).id).toBe(u.id) // now remembered by the second server
      ok(await call(env, 'DELETE', '/v1/sessions/current', { token: u.token }))
      expectError(await get(env, u.token, '/v1/me'), 401, 'authentication_required') // at once where it happened
      await new Promise((r) => setTimeout(r, 1_050))
      expectError(await get(env2, u.token, '/v1/me'), 401, 'authentication_required')
    } finally {
      await env2.server.close()
    }
  })

  it('logging out with an API key is refused, not answered "deleted" while the key keeps working', async () => {
    const u = await user(env, 'keyholder')
    const key = ok(await post(env, u.token, '/v1/api_keys', { name: 'ci' }), 201).secret as string
    expectError(
      await call(env, 'DELETE', '/v1/sessions/current', { token: key }),
      400,
      'parameter_invalid',
      'Authorization',
    )
    expect(ok(await get(env, key, '/v1/me')).id).toBe(u.id)
  })

  it('PATCH /v1/me changes the name and time zone, writes an audit record, and a later login sees them', async () => {
    const u = await user(env)
    const patch = (body: unknown, token = u.token) => call(env, 'PATCH', '/v1/me', { token, body })
    const changed = ok(await patch({ time_zone: 'Asia/Tokyo', name: 'Ada Lovelace' }))
    expect(changed).toMatchObject({ id: u.id, object: 'user', email: u.email, name: 'Ada Lovelace' })
    expect(changed.time_zone).toBe('Asia/Tokyo')
    expect(ok(await get(env, u.token, '/v1/me'))).toEqual(changed)
    const again = ok(await post(env, undefined, '/v1/sessions', { email: u.email, password: u.password }), 201)
    expect(again.user).toEqual(changed)
    // one field at a time; text round-trips exactly
    const name = '  Zoë “Z” 李  '
    expect(ok(await patch({ name }))).toMatchObject({ name, time_zone: 'Asia/Tokyo' })
    expect(ok(await patch({ time_zone: 'America/Argentina/Buenos_Aires' }))).toMatchObject({
      name,
      time_zone: 'America/Argentina/Buenos_Aires',
    })
    // an API key acts as its user
    const key = ok(await post(env, u.token, '/v1/api_keys', { name: 'ci' }), 201).secret as string
    expect(ok(await patch({ time_zone: 'UTC' }, key)).time_zone).toBe('UTC')

    const audit = await env.rt.app.store.db
      .selectFrom('audit_log')
      .select(['actor', 'action', 'record'])
      .where('target', '=', u.id)
      .where('action', '=', 'user.update')
      .orderBy('seq')
      .execute()
    expect(audit.map((a) => [a.actor, JSON.parse(a.record).data])).toEqual([
      [u.id, { name: 'Ada Lovelace', time_zone: 'Asia/Tokyo' }],
      [u.id, { name }],
      [u.id, { time_zone: 'America/Argentina/Buenos_Aires' }],
      [u.id, { time_zone: 'UTC' }],
    ])
    // nothing to change: the same answer, and no audit record
    expect(ok(await patch({}))).toMatchObject({ name, time_zone: 'UTC' })
    expect(ok(await patch({ time_zone: 'UTC', name }))).toMatchObject({ name, time_zone: 'UTC' })
    const count = await env.rt.app.store.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('target', '=', u.id)
      .executeTakeFirstOrThrow()
    expect(Number(count.n)).toBe(4)
  })

  it('PATCH /v1/me validates like sign-up, names the field, and changes nothing on a refusal', async () => {
    const u = await user(env)
    const patch = (body: unknown) => call(env, 'PATCH', '/v1/me', { token: u.token, body })
    const before = ok(await get(env, u.token, '/v1/me'))
    expectError(await patch({ time_zone: 'Mars/Olympus' }), 400, 'parameter_invalid', 'time_zone')
    expectError(await patch({ time_zone: 'Mars/Olympus', name: 'Valid' }), 400, 'parameter_invalid', 'time_zone')
    expectError(await patch({ time_zone: '' }), 400, 'parameter_invalid', 'time_zone')
    expectError(await patch({ time_zone: 'x'.repeat(101) }), 400, 'parameter_invalid', 'time_zone')
    expectError(await patch({ time_zone: 3600 }), 400, 'parameter_invalid', 'time_zone')
    expectError(await patch({ name: '' }), 400, 'parameter_invalid', 'name')
    expectError(await patch({ name: '   ' }), 400, 'parameter_invalid', 'name')
    expectError(await patch({ name: 'x'.repeat(201) }), 400, 'parameter_invalid', 'name')
    expectError(await patch({ name: null }), 400, 'parameter_invalid', 'name')
    expectError(await patch({ email: 'new@tranche.test' }), 400, 'parameter_unknown', 'email')
    expectError(await patch({ is_admin: true }), 400, 'parameter_unknown', 'is_admin')
    expectError(await patch({ password: 'another-password-1' }), 400, 'parameter_unknown', 'password')
    expect(ok(await get(env, u.token, '/v1/me'))).toEqual(before)
    const message = (await patch({ time_zone: 'Mars/Olympus' })).body.error.message as string
    expect(message).toContain('Mars/Olympus')
    expectError(await call(env, 'PATCH', '/v1/me', { body: { time_zone: 'UTC' } }), 401, 'authentication_required')
    expectError(
      await call(env, 'PATCH', '/v1/me', { token: 'tks_not-a-real-token', body: { name: 'x' } }),
      401,
      'authentication_required',
    )
  })

  it('PATCH /v1/me with the session cookie needs the X-CSRF-Token header', async () => {
    const u = await user(env)
    const res = await post(env, undefined, '/v1/sessions', { email: u.email, password: u.password })
    const cookies = setCookies(res.headers['set-cookie'])
    const cookie = `tranche_session=${cookies.tranche_session!.value}; tranche_csrf=${cookies.tranche_csrf!.value}`
    const json = { cookie, 'content-type': 'application/json' }
    const body = JSON.stringify({ time_zone: 'Europe/Berlin' })
    expectError(await raw(env, 'PATCH', '/v1/me', json, body), 403, 'csrf_invalid')
    expectError(await raw(env, 'PATCH', '/v1/me', { ...json, 'x-csrf-token': 'csrf_wrong' }, body), 403, 'csrf_invalid')
    expect(ok(await get(env, u.token, '/v1/me')).time_zone).toBe('UTC')
    const done = ok(await raw(env, 'PATCH', '/v1/me', { ...json, 'x-csrf-token': cookies.tranche_csrf!.value }, body))
    expect(done.time_zone).toBe('Europe/Berlin')
  })

  it('refuses a wrong password or an unknown email (401 invalid_credentials)', async () => {
    const u = await user(env)
    expectError(
      await post(env, undefined, '/v1/sessions', { email: u.email, password: 'wrong-password-1' }),
      401,
      'invalid_credentials',
    )
    expectError(
      await post(env, undefined, '/v1/sessions', { email: email('nobody'), password: PASSWORD }),
      401,
      'invalid_credentials',
    )
  })

  it('answers 401 authentication_required without or with a bad token', async () => {
    expectError(await get(env, undefined, '/v1/me'), 401, 'authentication_required')
    expectError(await get(env, 'tks_not-a-real-token', '/v1/me'), 401, 'authentication_required')
    expectError(await get(env, 'garbage', '/v1/me'), 401, 'authentication_required')
    expectError(
      await raw(env, 'GET', '/v1/me', { authorization: 'Basic dXNlcjpwYXNz' }),
      401,
      'authentication_required',
    )
    for (const [method, url] of [
      ['GET', '/v1/api_keys'],
      ['POST', '/v1/api_keys'],
      ['DELETE', '/v1/api_keys/key_abc'],
      ['DELETE', '/v1/sessions/current'],
    ] as const) {
      expectError(
        await call(env, method, url, method === 'POST' ? { body: { name: 'x' } } : {}),
        401,
        'authentication_required',
      )
    }
  })

  it('creates API keys: the secret is shown once, works as a bearer token, and stops working when deleted', async () => {
    const u = await user(env)
    const k = ok(await post(env, u.token, '/v1/api_keys', { name: 'ci' }), 201)
    expect(k).toMatchObject({ object: 'api_key', name: 'ci' })
    expect(k.id).toMatch(/^key_/)
    expect(k.secret).toMatch(/^sk_/)
    expect(k.secret.endsWith(k.last4)).toBe(true)
    const list = ok(await get(env, u.token, '/v1/api_keys'))
    expect(list).toMatchObject({ object: 'list', has_more: false })
    expect(list.data.map((x: { id: string }) => x.id)).toEqual([k.id])
    expect(JSON.stringify(list)).not.toContain(k.secret)
    expect(list.data[0].secret).toBeUndefined()
    expect(ok(await get(env, k.secret, '/v1/me')).id).toBe(u.id)
    expect(ok(await call(env, 'DELETE', `/v1/api_keys/${k.id}`, { token: u.token }))).toMatchObject({
      id: k.id,
      deleted: true,
    })
    expectError(await get(env, k.secret, '/v1/me'), 401, 'authentication_required')
    expectError(await call(env, 'DELETE', `/v1/api_keys/${k.id}`, { token: u.token }), 404, 'resource_missing')
    expect(ok(await get(env, u.token, '/v1/api_keys')).data).toEqual([])
  })

  it("hides another user's API key (404) and validates the key name", async () => {
    const a = await user(env)
    const b = await user(env)
    const k = ok(await post(env, a.token, '/v1/api_keys', { name: 'mine' }), 201)
    expectError(await call(env, 'DELETE', `/v1/api_keys/${k.id}`, { token: b.token }), 404, 'resource_missing')
    expect(ok(await get(env, b.token, '/v1/api_keys')).data).toEqual([])
    expectError(await post(env, a.token, '/v1/api_keys', {}), 400, 'parameter_missing', 'name')
    expectError(await post(env, a.token, '/v1/api_keys', { name: '' }), 400, 'parameter_invalid', 'name')
    expectError(
      await post(env, a.token, '/v1/api_keys', { name: 'x', scope: 'all' }),
      400,
      'parameter_unknown',
      'scope',
    )
  })

  it('sets an HttpOnly session cookie and a csrf cookie; cookie writes need the matching X-CSRF-Token', async () => {
    const u = await user(env)
    const res = await post(env, undefined, '/v1/sessions', { email: u.email, password: u.password })
    const cookies = setCookies(res.headers['set-cookie'])
    const session = cookies.tranche_session!
    const csrf = cookies.tranche_csrf!
    expect(session.value).toBe(res.body.token)
    expect(session.attrs).toMatch(/HttpOnly/i)
    expect(session.attrs).toMatch(/SameSite=(Lax|Strict)/i)
    expect(csrf.attrs).not.toMatch(/HttpOnly/i)
    expect(csrf.value.length).toBeGreaterThan(10)
    const cookie = `tranche_session=${session.value}; tranche_csrf=${csrf.value}`
    expect(ok(await raw(env, 'GET', '/v1/me', { cookie })).id).toBe(u.id)
    const json = { cookie, 'content-type': 'application/json' }
    const body = JSON.stringify({ name: 'from the web app' })
    expectError(await raw(env, 'POST', '/v1/api_keys', json, body), 403, 'csrf_invalid')
    expectError(
      await raw(env, 'POST', '/v1/api_keys', { ...json, 'x-csrf-token': 'csrf_wrong' }, body),
      403,
      'csrf_invalid',
    )
    expectError(
      await raw(
        env,
        'POST',
        '/v1/api_keys',
        { cookie: `tranche_session=${session.value}`, 'content-type': 'application/json', 'x-csrf-token': csrf.value },
        body,
      ),
      403,
      'csrf_invalid',
    )
    expectError(await raw(env, 'DELETE', '/v1/sessions/current', { cookie }), 403, 'csrf_invalid')
    ok(await raw(env, 'POST', '/v1/api_keys', { ...json, 'x-csrf-token': csrf.value }, body), 201)
    // a bearer token needs no CSRF header
    ok(await post(env, u.token, '/v1/api_keys', { name: 'bearer' }), 201)
    const out = await raw(env, 'DELETE', '/v1/sessions/current', { cookie, 'x-csrf-token': csrf.value })
    expect(out.status).toBe(200)
    expect(setCookies(out.headers['set-cookie']).tranche_session?.attrs).toMatch(/Max-Age=0/)
    expectError(await raw(env, 'GET', '/v1/me', { cookie }), 401, 'authentication_required')
  })
})

describe.each(DATABASES)('login rate limit on %s', (kind) => {
  let env: TestEnv
  beforeAll(async () => {
    env = await startEnv(kind)
  })
  afterAll(async () => env.close())

  const login = (e: string, password: string, remoteAddress: string, headers: Record<string, string> = {}) =>
    env.server
      .inject({ method: 'POST', url: '/v1/sessions', remoteAddress, headers, payload: { email: e, password } })
      .then((r) => ({ status: r.statusCode, body: JSON.parse(r.body), headers: r.headers, text: r.body }))

  it('per account: after 10 failed logins for one email → 429 rate_limited, even with the right password', async () => {
    const u = await user(env, 'victim')
    for (let i = 0; i < 10; i++)
      expectError(await login(u.email, 'wrong-password-x', `10.0.1.${i + 1}`), 401, 'invalid_credentials')
    expectError(await login(u.email, 'wrong-password-x', '10.0.2.1'), 429, 'rate_limited')
    expectError(await login(u.email.toUpperCase(), u.password, '10.0.2.2'), 429, 'rate_limited')
    // another account is not affected
    const other = await user(env, 'other')
    expect((await login(other.email, other.password, '10.0.2.3')).status).toBe(201)
  })

  it('per client address: 10 failures from one address block it; X-Forwarded-For is not trusted by default', async () => {
    const ip = '10.0.3.1'
    for (let i = 0; i < 10; i++) {
      expectError(
        await login(email('ghost'), 'wrong-password-x', ip, { 'x-forwarded-for': `203.0.113.${i + 1}` }),
        401,
        'invalid_credentials',
      )
    }
    const u = await user(env, 'innocent')
    expectError(await login(u.email, u.password, ip, { 'x-forwarded-for': '203.0.113.99' }), 429, 'rate_limited')
    expect((await login(u.email, u.password, '10.0.3.2')).status).toBe(201)
  })

  it('counts guesses sent at once: at most 10 of them are checked against the password', async () => {
    const u = await user(env, 'stormed')
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => login(u.email, `wrong-password-${i}`, '10.0.5.1')),
    )
    const statuses = answers.map((a) => a.status)
    expect(statuses.filter((s) => s === 401)).toHaveLength(10)
    expect(statuses.filter((s) => s === 429)).toHaveLength(30)
  })

  it('does not count successful logins', async () => {
    const u = await user(env, 'busy')
    for (let i = 0; i < 11; i++) expect((await login(u.email, u.password, '10.0.4.1')).status).toBe(201)
  })

  it('with TRANCHE_TRUST_PROXY set, limits by the forwarded client address', async () => {
    const proxied = await startEnv(kind, { TRANCHE_TRUST_PROXY: '1' })
    try {
      const via = (e: string, password: string, xff: string) =>
        proxied.server
          .inject({
            method: 'POST',
            url: '/v1/sessions',
            remoteAddress: '10.0.9.1',
            headers: { 'x-forwarded-for': xff },
            payload: { email: e, password },
          })
          .then((r) => ({ status: r.statusCode, body: JSON.parse(r.body), headers: r.headers, text: r.body }))
      for (let i = 0; i < 10; i++)
        expectError(await via(email('ghost'), 'wrong-password-x', '198.51.100.7'), 401, 'invalid_credentials')
      const u = await user(proxied, 'behind-proxy')
      expectError(await via(u.email, u.password, '198.51.100.7'), 429, 'rate_limited')
      expect((await via(u.email, u.password, '198.51.100.8')).status).toBe(201)
    } finally {
      await proxied.close()
    }
  })
})
