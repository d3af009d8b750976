/**
 * The security headers, tested as an attacker would: helmet's headers and a same-origin CSP on every answer (and
 * /docs still working under its own), and API answers never cached. The other hardening items are in the other
 * `hardening-*.test.ts` files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, startEnv, type TestEnv } from '../support/harness.ts'
import { type Person, show, signUp } from './fixtures.ts'

describe('security headers', () => {
  let env: TestEnv
  let u: Person
  beforeAll(async () => {
    env = await startEnv('sqlite')
    u = await signUp(env, 'headers')
  })
  afterAll(async () => env?.close())

  const csp = (h: Record<string, unknown>) =>
    Object.fromEntries(
      String(h['content-security-policy'] ?? '')
        .split(';')
        .filter(Boolean)
        .map((d) => {
          const [name, ...values] = d.trim().split(/\s+/)
          return [name!, values]
        }),
    ) as Record<string, string[]>

  it('sends helmet headers and a same-origin CSP on API answers, errors and 404s', async () => {
    for (const res of [
      await call(env, 'GET', '/v1/me', { token: u.token }),
      await call(env, 'GET', '/v1/me'),
      await call(env, 'GET', '/v1/nowhere'),
      await call(env, 'POST', '/v1/api_keys', { token: u.token, body: { nope: 1 } }),
      await call(env, 'GET', '/healthz'),
    ]) {
      const h = res.headers
      expect(h['x-content-type-options'], show(res)).toBe('nosniff')
      expect(h['x-frame-options']).toBe('DENY')
      expect(h['referrer-policy']).toBe('no-referrer')
      expect(h['strict-transport-security']).toMatch(/max-age=\d+/)
      expect(h['cross-origin-opener-policy']).toBe('same-origin')
      expect(h['x-powered-by']).toBeUndefined()
      const policy = csp(h)
      expect(policy['default-src']).toEqual(["'self'"])
      expect(policy['script-src']).toEqual(["'self'"])
      expect(policy['frame-ancestors']).toEqual(["'none'"])
      expect(policy['object-src']).toEqual(["'none'"])
      expect(policy['base-uri']).toEqual(["'self'"])
      expect(Object.values(policy).flat().join(' ')).not.toMatch(/unsafe-eval|\*|http:/)
      expect(policy['upgrade-insecure-requests']).toBeUndefined()
    }
  })

  it('keeps /docs working: the page, its scripts and the spec load under its own CSP (no inline script)', async () => {
    const page = await call(env, 'GET', '/docs')
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toMatch(/text\/html/)
    const policy = csp(page.headers)
    expect(policy['default-src']).toEqual(["'self'"])
    expect(policy['script-src']).toEqual(["'self'"])
    expect(policy['style-src']).toContain("'unsafe-inline'")
    expect(policy['img-src']).toContain('data:')
    // every script of the page is a file of this origin, so script-src 'self' lets it run
    const scripts = [...page.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)]
    expect(scripts.length).toBeGreaterThan(0)
    for (const [, attrs, inline] of scripts) {
      expect(attrs).toMatch(/src="/)
      expect(inline!.trim()).toBe('')
      const src = /src="([^"]+)"/.exec(attrs!)![1]!
      const url = src.startsWith('/') ? src : `/docs/${src.replace(/^\.\//, '')}`
      const res = await call(env, 'GET', url)
      expect(res.status, url).toBe(200)
      expect(String(res.headers['content-type'])).toMatch(/javascript/)
    }
    const initializer = await call(env, 'GET', '/docs/static/swagger-initializer.js')
    expect(initializer.text).toContain('./json')
    const spec = await call(env, 'GET', '/docs/json')
    expect(spec.status).toBe(200)
    expect(spec.body.openapi).toMatch(/^3\./)
    expect((await call(env, 'GET', '/docs/static/swagger-ui.css')).status).toBe(200)
  })

  it('marks API answers no-store (they carry tokens and secrets)', async () => {
    const key = await call(env, 'POST', '/v1/api_keys', { token: u.token, body: { name: 'n' } })
    expect(key.status).toBe(201)
    expect(key.headers['cache-control']).toBe('no-store')
  })
})
