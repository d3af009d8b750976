/**
 * Hostile input (SPEC §10), as a fuzzer: every POST endpoint gets valid bodies bent out of shape — wrong types,
 * out-of-range amounts, huge strings and arrays, malformed JSON, unknown fields, odd Unicode (lone surrogates, NUL,
 * RTL marks, zero-width, emoji), SQL-looking text, prototype-pollution keys, odd content types and Idempotency-Keys
 * — and every GET endpoint hostile query strings and path ids. Never a 5xx; a rejected request changes no row of
 * any table. Bounded in CI (a time budget per database); TRANCHE_DEEP=1 runs far more cases. The hostile values and
 * bodies are built in `fuzz-support.ts`; round-trips and refused fields are in `fuzz-fields.test.ts`.
 */
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import { DEEP, type People, people, ROUTES, type RouteCase, snapshot, World } from './fixtures.ts'
import { corpus, huge, type Json, type Req, requests, text } from './fuzz-support.ts'

/** Seconds of random cases per database (deterministic cases come on top). */
const BUDGET_S = DEEP ? 900 : 14

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
})
