/**
 * Hostile input (SPEC §10), as a fuzzer: every POST endpoint gets valid bodies bent out of shape — wrong types,
 * out-of-range amounts, huge strings and arrays, malformed JSON, unknown fields, odd Unicode (lone surrogates, NUL,
 * RTL marks, zero-width, emoji), SQL-looking text, prototype-pollution keys, odd content types and Idempotency-Keys
 * — and every GET endpoint hostile query strings and path ids. Never a 5xx; a rejected request changes no row of
 * any table; accepted text reads back byte-identical. Bounded in CI (a time budget per database); TRANCHE_DEEP=1
 * runs far more cases.
 */
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import { DEEP, ok, type People, people, ROUTES, type RouteCase, snapshot, terms, World } from './fixtures.ts'

/** Seconds of random cases per database (deterministic cases come on top). */
const BUDGET_S = DEEP ? 900 : 14

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
type Path = (string | number)[]

// --- hostile values -------------------------------------------------------------------------------------------------

const ODD = [
  '\u202e', // right-to-left override
  '\u200f', // right-to-left mark
  '\u200b', // zero-width space
  '\u200d', // zero-width joiner
  '\ufeff', // byte order mark
  '\u2028\u2029', // line and paragraph separators
  '\u0301', // combining acute accent
  '👩‍👩‍👧‍👦',
  '🏳️‍🌈',
  '𝕿𝖗𝖆𝖓𝖈𝖍𝖊',
  'ﷺ',
  '\u0007\u001b[31m',
  '\u007f\u0085\u009f',
  '\ue000', // private use
  '\ufffe\uffff', // noncharacters (well-formed)
  'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇',
]
const NASTY = [
  "' OR 1=1 --",
  "'; DROP TABLE users; --",
  '" OR ""="',
  "1'); DELETE FROM accounts; --",
  '%00',
  '\\u0000',
  '$' + '{7*7}{{7*7}}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '{"__proto__":{"is_admin":true}}',
  'null',
  'undefined',
  'NaN',
]
const ILL_FORMED = ['\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\ud83dy', '\udc00\ud800']

const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(fc.constantFrom(...ODD, ...NASTY), { minLength: 1, maxLength: 6 }).map((a) => a.join('')),
  fc.constantFrom(...ILL_FORMED),
)
const huge = fc.constantFrom(201, 10_001, 100_000, 600_000).map((n) => 'x'.repeat(n))
const number = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 1, 499, 500, 1.5, 1e12, 1e12 + 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e308, 5e-324),
)
const hostile: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: text },
  { weight: 2, arbitrary: number },
  { weight: 1, arbitrary: huge },
  { weight: 1, arbitrary: fc.constantFrom<Json>(null, true, false, [], {}, '', ' ', '0', '100', 'USD', 'usd') },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 20_000 }).map((n): Json => Array(n).fill(1)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
)
const POLLUTING = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__']
const SPOOFING = [
  'is_admin',
  'admin',
  'user_id',
  'client_id',
  'freelancer_id',
  'author_id',
  'id',
  'status',
  'escrow_amount',
  'fee',
  'client_fee_bps',
]

// --- bending a valid body -----------------------------------------------------------------------------------------

const clone = (v: Json): Json => JSON.parse(JSON.stringify(v))

/** Paths to every value in v (the root is []). */
function paths(v: Json, at: Path = []): Path[] {
  const out: Path[] = [at]
  if (Array.isArray(v)) for (const [i, x] of v.entries()) out.push(...paths(x, [...at, i]))
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]))
  return out
}
const get = (v: Json, path: Path): Json => path.reduce<Json>((x, k) => (x as Record<string | number, Json>)[k]!, v)

/** Sets (as an own, enumerable property even for `__proto__`) or deletes the value at path. */
function edit(base: Json, path: Path, value: Json | undefined): Json {
  if (path.length === 0) return value === undefined ? {} : value
  const root = clone(base)
  const parent = get(root, path.slice(0, -1)) as Record<string | number, Json>
  const key = path.at(-1)!
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(key), 1)
    else delete parent[key]
  } else Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true })
  return root
}

interface Req {
  readonly raw: string | null
  readonly contentType: string | null
  readonly idem: string | null
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  'application/json; charset=utf-16',
  'multipart/form-data; boundary=x',
]

function malformed(validRaw: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.integer({ min: 0, max: Math.max(0, validRaw.length - 1) }).map((n) => validRaw.slice(0, n)),
    fc.constantFrom(
      '{',
      '[',
      '"',
      '{"a":}',
      '{,}',
      "{'title':'x'}",
      '{"amount":NaN}',
      '{"amount":Infinity}',
      '{"amount":1e999}',
      '{"a":1}garbage',
      '\ufeff{}',
      `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
      `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`,
      '{"__proto__":{"is_admin":true}}',
      '{"constructor":{"prototype":{"is_admin":true}}}',
      '{"a":1,"a":2}',
      '\u0000',
      'null',
      '[]',
      '0',
      '""',
    ),
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.constant(validRaw.replace(/"/, "'")),
    fc.constant(`${validRaw},`),
  )
}

function requests(base: Json): fc.Arbitrary<Req> {
  const all = paths(base)
  const objects = all.filter((p) => {
    const v = get(base, p)
    return v !== null && typeof v === 'object' && !Array.isArray(v)
  })
  const fields = all.filter((p) => p.length)
  const body: fc.Arbitrary<string> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.tuple(fc.constantFrom(...all), hostile).map(([p, v]) => JSON.stringify(edit(base, p, v))),
    },
    ...(fields.length
      ? [{ weight: 1, arbitrary: fc.constantFrom(...fields).map((p) => JSON.stringify(edit(base, p, undefined))) }]
      : []),
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...objects), fc.oneof(fc.constantFrom(...POLLUTING, ...SPOOFING), fc.string()), hostile)
        .map(([p, k, v]) => JSON.stringify(edit(base, [...p, k], v))),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: malformed(JSON.stringify(base)) },
  )
  return fc.record({
    raw: fc.oneof({ weight: 12, arbitrary: body }, { weight: 1, arbitrary: fc.constant(null) }),
    contentType: fc.oneof(
      { weight: 10, arbitrary: fc.constant('application/json') },
      { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
      { weight: 1, arbitrary: fc.constant(null) },
    ),
    idem: fc.oneof(
      { weight: 4, arbitrary: fc.constant(null) },
      { weight: 2, arbitrary: fc.stringMatching(/^[\x21-\x7e]{1,40}$/) },
      { weight: 1, arbitrary: fc.constantFrom('', ' ', 'x'.repeat(256), 'x'.repeat(5000)) },
    ),
  })
}

/**
 * The same cases every run: text that cannot round-trip in every string field, prototype-pollution keys, classic
 * malformed bodies. With `full` (TRANCHE_DEEP, or SQLite), also every leaf set to each worst value of its kind.
 */
function corpus(base: Json, full: boolean): Req[] {
  const json = (raw: string): Req => ({ raw, contentType: 'application/json', idem: null })
  const out: Req[] = []
  // the first item of an array stands for the others
  for (const p of paths(base).filter((x) => x.every((k) => typeof k !== 'number' || k === 0))) {
    const v = get(base, p)
    const worst: Json[] =
      typeof v === 'string'
        ? ['\u0000', '\ud800', ...(full ? ['x\ud83dy', 'x'.repeat(10_001), '', 5, null] : [])]
        : !full
          ? []
          : typeof v === 'number'
            ? [-1, 0, 1.5, 1e12 + 1, '100', null]
            : Array.isArray(v)
              ? [[], Array(10_001).fill(v[0] ?? 1), null]
              : typeof v === 'boolean'
                ? ['true', null]
                : v === null
                  ? [{}]
                  : ['x', null]
    for (const w of worst) out.push(json(JSON.stringify(edit(base, p, w))))
  }
  for (const key of full ? [...POLLUTING, 'is_admin', 'user_id', 'status'] : ['constructor', 'is_admin'])
    out.push(json(JSON.stringify(edit(base, [key], { is_admin: true }))))
  const inner = JSON.stringify(base).slice(1, -1)
  out.push(json(`{"__proto__":{"is_admin":true}${inner ? `,${inner}` : ''}}`))
  const raws = ['{', '{"a":}', "{'a':1}", '\ufeff{}', '[]', 'null', '', `${'['.repeat(100_000)}${']'.repeat(100_000)}`]
  for (const raw of full ? raws : raws.slice(0, 3)) out.push(json(raw))
  out.push({ raw: JSON.stringify(base), contentType: 'text/plain', idem: null })
  if (full) {
    out.push({ raw: 'a=1&b=2', contentType: 'application/x-www-form-urlencoded', idem: null })
    out.push({ raw: JSON.stringify(base), contentType: 'application/json', idem: 'x'.repeat(256) })
  }
  return out
}

// --- the checks -----------------------------------------------------------------------------------------------------

const TYPE_OF: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'payment_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'conflict_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
}

function describeReq(method: string, url: string, r: Req) {
  const raw = r.raw === null ? '(none)' : r.raw.length > 300 ? `${r.raw.slice(0, 300)}… (${r.raw.length} chars)` : r.raw
  const u = url.length > 200 ? `${url.slice(0, 200)}… (${url.length} chars)` : url
  return `${method} ${u} content-type=${r.contentType} idem=${r.idem?.slice(0, 40)} body=${JSON.stringify(raw)}`
}

/** After `ms` (but not before 10 cases ran), the remaining cases of a property are skipped. */
function deadline(ms: number) {
  const end = Date.now() + ms
  let n = 0
  return () => ++n > 10 && Date.now() > end
}

describe.each(DATABASES)('hostile input on %s', (kind) => {
  let env: TestEnv
  let p: People
  let state = ''
  const budget = (kind === 'sqlite' ? 1 : 0.3) * BUDGET_S * 1000

  beforeAll(async () => {
    env = await startEnv(kind)
    p = await people(env)
  })
  afterAll(async () => env?.close())

  /** Sends one request; fails on a 5xx, a malformed error, or a rejected request that changed the database. */
  async function probe(method: string, url: string, token: string | null, r: Req) {
    const headers: Record<string, string> = {}
    if (token) headers.authorization = `Bearer ${token}`
    if (r.contentType) headers['content-type'] = r.contentType
    if (r.idem !== null) headers['idempotency-key'] = r.idem
    // a different client address each time, so that fuzzing the login does not rate-limit the rest
    const remoteAddress = `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}`
    const res = await env.server.inject({
      method: method as 'POST',
      url,
      headers,
      remoteAddress,
      ...(r.raw !== null ? { payload: r.raw } : {}),
    })
    const what = () => `${describeReq(method, url, r)}\n→ ${res.statusCode} ${res.body.slice(0, 200)}`
    if (res.statusCode >= 500) throw new Error(`5xx: ${what()}`)
    if (res.statusCode >= 400) {
      let err: { type?: string; code?: string } | undefined
      try {
        err = JSON.parse(res.body).error
      } catch {}
      if (!err || typeof err.code !== 'string' || err.type !== TYPE_OF[res.statusCode])
        throw new Error(`not a Stripe-style error: ${what()}`)
      const after = await snapshot(env)
      if (after !== state) throw new Error(`a rejected request changed the database: ${what()}`)
    } else {
      state = await snapshot(env)
    }
    return res
  }

  const posts = ROUTES.filter((r) => r.key.startsWith('POST '))
  const gets = ROUTES.filter((r) => r.key.startsWith('GET /v1/'))

  it.each(posts.map((r) => [r.key, r] as const))('%s: no 5xx, rejected = unchanged', async (_key, row: RouteCase) => {
    const actor = row.happy && row.happy !== 'anonymous' ? row.happy : 'client'
    const token = row.key === 'POST /v1/users' || row.key === 'POST /v1/sessions' ? null : p[actor].token
    const t = await row.target(new World(env, p))
    const base = (t.body ?? {}) as Json
    state = await snapshot(env)
    // the full corpus once, on SQLite: what is not text is decided by the schema, before any SQL
    for (const r of corpus(base, DEEP || kind === 'sqlite')) await probe('POST', t.url, token, r)
    const until = deadline(budget / (posts.length + gets.length / 2))
    await fc.assert(
      fc.asyncProperty(requests(base), async (r) => {
        if (until()) return
        await probe('POST', t.url, token, r)
      }),
      { numRuns: DEEP ? 2_000 : 400 },
    )
  })

  it.each(gets.map((r) => [r.key, r] as const))('%s: hostile query strings and ids', async (_key, row: RouteCase) => {
    const actor = row.happy && row.happy !== 'anonymous' ? row.happy : 'client'
    const token = p[actor].token
    const t = await row.target(new World(env, p))
    const [path, query = ''] = t.url.split('?') as [string, string?]
    state = await snapshot(env)
    // a lone surrogate cannot be percent-encoded: send its (invalid) UTF-8 bytes, like a raw client would
    const enc = (s: string) => {
      try {
        return encodeURIComponent(s)
      } catch {
        return '%ED%A0%80'
      }
    }
    const KEYS = [
      'limit',
      'starting_after',
      'status',
      'type',
      'contract_id',
      'currency',
      'from',
      'to',
      'format',
      'account',
    ]
    const value = fc.oneof(
      text,
      fc.constantFrom('0', '-1', '101', '1e2', '20.5', '', 'USD', 'csv', '2026-13-45', 'available'),
      huge.map((s) => s.slice(0, 5_000)),
    )
    const raw = fc.constantFrom(
      '%',
      '%zz',
      '%E0%A4%A',
      '%00',
      '%ED%A0%80',
      '&&&',
      '=',
      'limit',
      'a[b]=c',
      'limit=1&limit=2',
    )
    const queries = fc.array(
      fc.oneof(
        fc
          .tuple(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 10 })), value)
          .map(([k, v]) => `${enc(k)}=${enc(v)}`),
        raw,
      ),
      { maxLength: 4 },
    )
    const ids = fc.oneof(
      text.map(enc),
      fc.constantFrom('%00', '..%2F..%2Fetc', 'ctr_', `ms_${'a'.repeat(500)}`, '%ED%A0%80', "ctr_1'--"),
    )
    const withId = /\/(ctr|ms|off|amd|rfr|dsp|whe|usr)_[A-Za-z0-9]+/.test(path)
    const until = deadline(budget / (posts.length * 2 + gets.length))
    await fc.assert(
      fc.asyncProperty(queries, fc.option(ids, { nil: null }), async (q, id) => {
        if (until()) return
        const p2 =
          id !== null && withId ? path.replace(/\/(ctr|ms|off|amd|rfr|dsp|whe|usr)_[A-Za-z0-9]+/, `/${id}`) : path
        const qs = [query, ...q].filter(Boolean).join('&')
        await probe('GET', qs ? `${p2}?${qs}` : p2, token, { raw: null, contentType: null, idem: null })
      }),
      { numRuns: DEEP ? 1_000 : 200 },
    )
  })

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
