/**
 * The secrets items of SPEC §2 and §10, tested as an attacker would: password hashing, secrets stored only hashed
 * (and shown once), and Idempotency-Keys kept per user, so that one user's stored answer never replays to another.
 * The other hardening items are in the other `hardening-*.test.ts` files.
 */
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import { dumpDatabase, ok, type People, people, show, signUp, World } from './fixtures.ts'
import { cookieLogin } from './hardening-support.ts'

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

describe.each(DATABASES)('secrets at rest on %s', (kind) => {
  let env: TestEnv
  beforeAll(async () => {
    env = await startEnv(kind)
  })
  afterAll(async () => env?.close())

  it('hashes passwords with argon2id, m ≥ 19456 KiB, t ≥ 2', async () => {
    const u = await signUp(env, 'argon')
    const row = await env.rt.store.db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', u.id)
      .executeTakeFirstOrThrow()
    expect(row.password_hash.startsWith('$argon2id$')).toBe(true)
    const params = Object.fromEntries(
      (row.password_hash.split('$')[3] ?? '').split(',').map((kv) => kv.split('=') as [string, string]),
    )
    expect(Number(params.m)).toBeGreaterThanOrEqual(19_456)
    expect(Number(params.t)).toBeGreaterThanOrEqual(2)
    expect(Number(params.p)).toBeGreaterThanOrEqual(1)
    expect(row.password_hash).not.toContain(u.password)
  })

  it('stores session tokens and API key secrets only hashed: no table holds one after login', async () => {
    const u = await signUp(env, 'vault')
    // also with Idempotency-Key: a stored replay of these answers would hold the secret in clear
    const bearer = ok(
      await call(env, 'POST', '/v1/sessions', { body: { email: u.email, password: u.password }, idem: 'login-1' }),
      201,
    ).token as string
    const web = await cookieLogin(env, u)
    const key = ok(
      await call(env, 'POST', '/v1/api_keys', { token: bearer, body: { name: 'vault' }, idem: 'key-1' }),
      201,
    )
    // each secret works…
    for (const t of [u.token, bearer, web.token, key.secret])
      expect(ok(await call(env, 'GET', '/v1/me', { token: t })).id).toBe(u.id)
    const dump = await dumpDatabase(env)
    expect(dump.tables).toEqual(expect.arrayContaining(['users', 'sessions', 'api_keys', 'idempotency_keys']))
    // …the search finds what is there (the hashes, the email)…
    expect(dump.text).toContain(sha256(bearer))
    expect(dump.text).toContain(sha256(key.secret))
    expect(dump.text).toContain(u.email)
    // …and none of the secrets themselves, nor the password, nor the CSRF token
    for (const [what, secret] of Object.entries({
      signupSession: u.token,
      bearer,
      cookieSession: web.token,
      csrf: web.csrf,
      apiKey: key.secret,
      apiKeyBody: key.secret.slice(3, -4),
      password: u.password,
    })) {
      expect(dump.text.includes(secret), `${what} found in the database`).toBe(false)
    }
  })

  it('shows an API key secret and a webhook secret once: lists never carry them', async () => {
    const u = await signUp(env, 'once')
    const key = ok(await call(env, 'POST', '/v1/api_keys', { token: u.token, body: { name: 'k' } }), 201)
    const hook = ok(
      await call(env, 'POST', '/v1/webhook_endpoints', {
        token: u.token,
        body: { url: 'http://127.0.0.1:9/h', enabled_events: ['*'] },
      }),
      201,
    )
    expect(hook.secret).toMatch(/^whsec_/)
    const lists = [
      await call(env, 'GET', '/v1/api_keys', { token: u.token }),
      await call(env, 'GET', '/v1/webhook_endpoints', { token: u.token }),
    ]
    for (const l of lists) {
      expect(l.text).not.toContain(key.secret)
      expect(l.text).not.toContain(hook.secret)
    }
  })
})

describe.each(DATABASES)('idempotency keys are per user on %s', (kind) => {
  let env: TestEnv
  let p: People
  beforeAll(async () => {
    env = await startEnv(kind)
    p = await people(env)
  })
  afterAll(async () => env?.close())

  it("never replays another user's answer for the same key and body", async () => {
    const w = new World(env, p)
    const offer = await w.offer()
    const body = { reason: 'no thanks' }
    // the freelancer declines with a key; the stranger, the client and the admin send the same key and body
    const first = await call(env, 'POST', `/v1/offers/${offer}/decline`, {
      token: p.freelancer.token,
      body,
      idem: 'shared-key',
    })
    expect(first.status, show(first)).toBe(200)
    for (const who of [p.stranger, p.client, p.admin]) {
      const r = await call(env, 'POST', `/v1/offers/${offer}/decline`, { token: who.token, body, idem: 'shared-key' })
      expect(r.headers['idempotent-replayed'], show(r)).toBeUndefined()
      expect([403, 404], show(r)).toContain(r.status)
      expect(r.text).not.toContain(p.freelancer.id)
    }
    const again = await call(env, 'POST', `/v1/offers/${offer}/decline`, {
      token: p.freelancer.token,
      body,
      idem: 'shared-key',
    })
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.text).toBe(first.text)
  })
})
