/**
 * The security items of SPEC §2, §10, §11, tested as an attacker would: password hashing, secrets stored only
 * hashed, cookies, CSRF on every cookie-authenticated write, security headers (and /docs still working), login rate
 * limits and X-Forwarded-For, webhook URLs that point inside, the body size limit, and malformed cookies.
 */
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LoginLimiter } from '../../src/app/accounts.ts'
import { routesOf } from '../../src/http/security.ts'
import { isInternalAddress } from '../../src/jobs/url-guard.ts'
import { call, DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import {
  dumpDatabase,
  ok,
  type People,
  type Person,
  people,
  ROUTES,
  show,
  signUp,
  snapshot,
  World,
} from './fixtures.ts'

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

/** The cookies of a Set-Cookie header list, by name: value and attributes. */
function setCookies(header: string | string[] | undefined) {
  const out: Record<string, { value: string; attrs: string[] }> = {}
  for (const c of [header ?? []].flat()) {
    const [pair, ...attrs] = c.split(';').map((x) => x.trim())
    const i = pair!.indexOf('=')
    out[pair!.slice(0, i)] = { value: pair!.slice(i + 1), attrs: attrs.map((a) => a.toLowerCase()) }
  }
  return out
}

async function inject(
  env: TestEnv,
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: unknown,
  remoteAddress?: string,
) {
  const res = await env.server.inject({
    method: method as 'GET',
    url,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    ...(remoteAddress ? { remoteAddress } : {}),
  })
  let parsed: { error?: { code?: string; param?: string } } & Record<string, unknown> = {}
  try {
    parsed = JSON.parse(res.body)
  } catch {}
  return { status: res.statusCode, body: parsed, headers: res.headers, text: res.body }
}

async function cookieLogin(env: TestEnv, p: { email: string; password: string }, headers: Record<string, string> = {}) {
  const res = await inject(env, 'POST', '/v1/sessions', headers, { email: p.email, password: p.password })
  if (res.status !== 201) throw new Error(`login failed: ${res.status} ${res.text}`)
  const c = setCookies(res.headers['set-cookie'])
  return {
    token: res.body.token as string,
    cookies: c,
    cookie: `tranche_session=${c.tranche_session!.value}; tranche_csrf=${c.tranche_csrf!.value}`,
    csrf: c.tranche_csrf!.value,
  }
}

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

  it('marks both cookies Secure when the proxy says https', async () => {
    const u = await signUp(env, 'tls')
    const web = await cookieLogin(env, u, { 'x-forwarded-proto': 'https' })
    expect(web.cookies.tranche_session!.attrs).toContain('secure')
    expect(web.cookies.tranche_csrf!.attrs).toContain('secure')
    expect(web.cookies.tranche_session!.attrs).toContain('httponly')
    const plain = await cookieLogin(env, u, { 'x-forwarded-proto': 'http' })
    expect(plain.cookies.tranche_session!.attrs).not.toContain('secure')
  })
})

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

describe('webhook URLs (TRANCHE_WEBHOOK_ALLOW_PRIVATE unset)', () => {
  let env: TestEnv
  let open: TestEnv
  let u: Person
  beforeAll(async () => {
    env = await startEnv('sqlite', { TRANCHE_WEBHOOK_ALLOW_PRIVATE: '' })
    open = await startEnv('sqlite', { TRANCHE_WEBHOOK_ALLOW_PRIVATE: '1' })
    u = await signUp(env, 'hooks')
  })
  afterAll(async () => {
    await env?.close()
    await open?.close()
  })

  const REFUSED = [
    'ftp://example.com/hook',
    'file:///etc/passwd',
    'javascript:alert(1)//x',
    'gopher://127.0.0.1:25/x',
    'http://localhost/hook',
    'http://LOCALHOST:8080/hook',
    'http://127.0.0.1/hook',
    'http://127.1/hook',
    'http://2130706433/hook',
    'http://0x7f000001/hook',
    'http://0177.0.0.1/hook',
    'http://0.0.0.0/hook',
    'http://[::1]/hook',
    'http://[::]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://[::ffff:7f00:1]/hook',
    'http://[0:0:0:0:0:ffff:169.254.169.254]/latest/meta-data',
    'http://[::127.0.0.1]/hook',
    'http://[64:ff9b::a00:1]/hook',
    'http://[2002:7f00:1::]/hook',
    'http://[fd00::1]/hook',
    'http://[fe80::1]/hook',
    'http://[febf::1]/hook',
    'http://[ff02::1]/hook',
    'http://10.0.0.1/hook',
    'http://172.16.5.4/hook',
    'http://192.168.1.1/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://100.64.0.1/hook',
    'http://198.18.0.1/hook',
    'http://224.0.0.1/hook',
    'http://255.255.255.255/hook',
    'https://user:pass@93.184.216.34/hook',
    'http://no-such-host.invalid/hook',
  ]

  it('refuses schemes other than http(s), and hosts on loopback, private, link-local or reserved networks', async () => {
    const before = await snapshot(env)
    const accepted: string[] = []
    for (const url of REFUSED) {
      const r = await call(env, 'POST', '/v1/webhook_endpoints', {
        token: u.token,
        body: { url, enabled_events: ['*'] },
      })
      if (r.status !== 400 || r.body?.error?.param !== 'url') accepted.push(`${url} → ${show(r)}`)
    }
    expect(accepted).toEqual([])
    expect(await snapshot(env)).toBe(before)
  })

  it('accepts a public address', async () => {
    for (const url of ['https://93.184.216.34/hook', 'http://[2606:2800:220:1:248:1893:25c8:1946]/hook']) {
      const r = await call(env, 'POST', '/v1/webhook_endpoints', {
        token: u.token,
        body: { url, enabled_events: ['*'] },
      })
      expect(r.status, show(r)).toBe(201)
    }
  })

  it('accepts loopback and private hosts only with TRANCHE_WEBHOOK_ALLOW_PRIVATE', async () => {
    const v = await signUp(open, 'private')
    for (const url of ['http://localhost:9/hook', 'http://127.0.0.1:9/hook', 'http://10.0.0.1/hook']) {
      const r = await call(open, 'POST', '/v1/webhook_endpoints', {
        token: v.token,
        body: { url, enabled_events: ['*'] },
      })
      expect(r.status, show(r)).toBe(201)
    }
    const r = await call(open, 'POST', '/v1/webhook_endpoints', {
      token: v.token,
      body: { url: 'ftp://127.0.0.1/x', enabled_events: ['*'] },
    })
    expect(r.status).toBe(400)
  })

  it('classifies addresses (IPv4, IPv6, IPv4-mapped and embedded forms)', () => {
    for (const ip of [
      '127.0.0.1',
      '10.1.2.3',
      '::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:a9fe:a9fe',
      'fe80::1',
      'fc00::1',
      '::',
      '0.0.0.0',
      'not-an-ip',
    ])
      expect(isInternalAddress(ip), ip).toBe(true)
    for (const ip of ['93.184.216.34', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])
      expect(isInternalAddress(ip), ip).toBe(false)
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
