/**
 * The limits of SPEC §10, tested as an attacker would: login rate limits per account and per address, with and
 * without X-Forwarded-For, and the body size limit. The other hardening items are in the other `hardening-*.test.ts`
 * files.
 */
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LoginLimiter } from '../../src/app/accounts.ts'
import { startEnv, type TestEnv } from '../support/harness.ts'
import { type Person, signUp, snapshot } from './fixtures.ts'
import { inject } from './hardening-support.ts'

describe('login rate limits', () => {
  let env: TestEnv
  let proxied: TestEnv
  beforeAll(async () => {
    env = await startEnv('sqlite')
    proxied = await startEnv('sqlite', { TRANCHE_TRUST_PROXY: '1' })
  })
  afterAll(async () => {
    await env?.close()
    await proxied?.close()
  })

  const login = (e: TestEnv, email: string, password: string, ip: string, headers: Record<string, string> = {}) =>
    inject(e, 'POST', '/v1/sessions', headers, { email, password }, ip)

  it('per account: padding or re-casing the email does not open a fresh counter', async () => {
    const u = await signUp(env, 'padded')
    const variants = [u.email, ` ${u.email}`, `${u.email} `, `\t${u.email}`, u.email.toUpperCase(), `  ${u.email}\n`]
    for (let i = 0; i < 10; i++) {
      const r = await login(env, variants[i % variants.length]!, 'wrong-password-0', `10.1.0.${i + 1}`)
      expect(r.status, r.text).toBe(401)
    }
    for (const v of variants) {
      const r = await login(env, v, u.password, '10.1.1.1')
      expect(r.status, `${JSON.stringify(v)}: ${r.text}`).toBe(429)
      expect(r.body.error?.code).toBe('rate_limited')
    }
  })

  it('per address; X-Forwarded-For is ignored without TRANCHE_TRUST_PROXY', async () => {
    for (let i = 0; i < 10; i++) {
      const r = await login(env, `nobody-${i}@x.test`, 'wrong-password-0', '10.2.0.1', {
        'x-forwarded-for': `203.0.113.${i}`,
      })
      expect(r.status).toBe(401)
    }
    const u = await signUp(env, 'neighbour')
    expect((await login(env, u.email, u.password, '10.2.0.1', { 'x-forwarded-for': '198.51.100.1' })).status).toBe(429)
    expect((await login(env, u.email, u.password, '10.2.0.2')).status).toBe(201)
  })

  it('behind a proxy: the address the proxy appended counts, not one the client wrote before it', async () => {
    const u = await signUp(proxied, 'proxied')
    const proxy = '127.0.0.1'
    // the attacker (198.51.100.7) sends a fresh made-up X-Forwarded-For each time; the proxy appends the real address
    for (let i = 0; i < 10; i++) {
      const r = await login(proxied, `ghost-${i}@x.test`, 'wrong-password-0', proxy, {
        'x-forwarded-for': `203.0.113.${i}, 198.51.100.7`,
      })
      expect(r.status).toBe(401)
    }
    const blocked = await login(proxied, u.email, u.password, proxy, {
      'x-forwarded-for': '203.0.113.200, 198.51.100.7',
    })
    expect(blocked.status, blocked.text).toBe(429)
    // another client behind the same proxy is not affected
    expect((await login(proxied, u.email, u.password, proxy, { 'x-forwarded-for': '198.51.100.8' })).status).toBe(201)
  })

  it('keeps bounded memory under a flood of made-up accounts', () => {
    const limiter = new LoginLimiter(10, 60_000, 100)
    for (let i = 0; i < 5_000; i++) {
      limiter.check([`email:ghost-${i}`, 'ip:1'], 1_000)
      limiter.fail([`email:ghost-${i}`, `ip:${i}`], 1_000)
    }
    expect(limiter.size).toBeLessThanOrEqual(100)
    for (let i = 0; i < 1_000; i++) limiter.check([`email:only-checked-${i}`], 2_000)
    expect(limiter.size).toBeLessThanOrEqual(100)
    // failures expire with the window
    limiter.fail(['email:late'], 10_000)
    expect(() => limiter.check(['email:late'], 10_000 + 60_001)).not.toThrow()
  })
})

describe('request body limit', () => {
  let env: TestEnv
  let u: Person
  beforeAll(async () => {
    env = await startEnv('sqlite')
    u = await signUp(env, 'big')
  })
  afterAll(async () => env?.close())

  const MiB = 1024 * 1024
  /** A JSON body of exactly `size` bytes. */
  const bodyOf = (size: number) => {
    const shell = JSON.stringify({ name: '' })
    return JSON.stringify({ name: 'x'.repeat(size - shell.length) })
  }

  it('answers 413 payload_too_large over 1 MiB (signed in or not), and changes nothing', async () => {
    const before = await snapshot(env)
    for (const [url, headers] of [
      ['/v1/api_keys', { authorization: `Bearer ${u.token}` }],
      ['/v1/users', {}],
      ['/v1/sessions', {}],
      ['/v1/offers', { authorization: `Bearer ${u.token}` }],
    ] as const) {
      const r = await inject(env, 'POST', url, headers, bodyOf(MiB + 1))
      expect(r.status, `${url}: ${r.text.slice(0, 200)}`).toBe(413)
      expect(r.body.error?.code).toBe('payload_too_large')
    }
    expect(await snapshot(env)).toBe(before)
    // at the limit the body is read (and refused for what it says, not for its size)
    const at = await inject(env, 'POST', '/v1/api_keys', { authorization: `Bearer ${u.token}` }, bodyOf(MiB))
    expect(at.status).toBe(400)
  })

  it('answers 413 to a chunked body with no Content-Length', async () => {
    const chunks = Array.from({ length: 20 }, () => Buffer.alloc(64 * 1024, 'a'))
    const res = await env.server.inject({
      method: 'POST',
      url: '/v1/api_keys',
      headers: { authorization: `Bearer ${u.token}`, 'content-type': 'application/json' },
      payload: Readable.from([Buffer.from('{"name":"'), ...chunks, Buffer.from('"}')]),
    })
    expect(res.statusCode, res.body.slice(0, 200)).toBe(413)
  })
})
