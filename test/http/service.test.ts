/** Service endpoints (SPEC §10, §11): /healthz, /readyz, /metrics, /openapi.json, /docs — open to anyone. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import { get, ok, raw } from './helpers.ts'

const SPEC_CODES = [
  'parameter_invalid',
  'parameter_missing',
  'parameter_unknown',
  'amount_invalid',
  'currency_unsupported',
  'authentication_required',
  'invalid_credentials',
  'actor_not_allowed',
  'resource_missing',
  'email_taken',
  'invalid_state_transition',
  'offer_revision_stale',
  'revision_limit_reached',
  'milestone_frozen',
  'milestones_awaiting_action',
  'insufficient_funds',
  'card_declined',
  'idempotency_key_reused',
  'idempotency_key_in_use',
  'rate_limited',
]

const SPEC_PATHS: [string, string][] = [
  ['post', '/v1/users'],
  ['post', '/v1/sessions'],
  ['delete', '/v1/sessions/current'],
  ['get', '/v1/me'],
  ['post', '/v1/api_keys'],
  ['get', '/v1/api_keys'],
  ['delete', '/v1/api_keys/{id}'],
  ['post', '/v1/offers'],
  ['get', '/v1/offers'],
  ['get', '/v1/offers/{id}'],
  ['post', '/v1/offers/{id}/counter'],
  ['post', '/v1/offers/{id}/accept'],
  ['post', '/v1/offers/{id}/decline'],
  ['post', '/v1/offers/{id}/withdraw'],
  ['get', '/v1/contracts'],
  ['get', '/v1/contracts/{id}'],
  ['post', '/v1/contracts/{id}/fund'],
  ['post', '/v1/contracts/{id}/end'],
  ['post', '/v1/contracts/{id}/amendments'],
  ['post', '/v1/amendments/{id}/accept'],
  ['post', '/v1/amendments/{id}/reject'],
  ['post', '/v1/amendments/{id}/withdraw'],
  ['post', '/v1/milestones/{id}/fund'],
  ['post', '/v1/milestones/{id}/submit'],
  ['post', '/v1/milestones/{id}/request_changes'],
  ['post', '/v1/milestones/{id}/approve'],
  ['post', '/v1/milestones/{id}/request_refund'],
  ['post', '/v1/milestones/{id}/refund'],
  ['post', '/v1/refund_requests/{id}/accept'],
  ['post', '/v1/refund_requests/{id}/decline'],
  ['post', '/v1/milestones/{id}/disputes'],
  ['get', '/v1/disputes/{id}'],
  ['post', '/v1/disputes/{id}/proposals'],
  ['post', '/v1/disputes/{id}/proposals/{pid}/accept'],
  ['post', '/v1/disputes/{id}/escalate'],
  ['post', '/v1/disputes/{id}/decide'],
  ['get', '/v1/balances'],
  ['post', '/v1/payouts'],
  ['get', '/v1/payouts'],
  ['get', '/v1/statements'],
  ['get', '/v1/ledger/entries'],
  ['get', '/v1/events'],
  ['post', '/v1/webhook_endpoints'],
  ['get', '/v1/webhook_endpoints'],
  ['delete', '/v1/webhook_endpoints/{id}'],
  ['get', '/v1/webhook_endpoints/{id}/deliveries'],
  ['post', '/v1/webhook_deliveries/{id}/retry'],
  ['get', '/v1/users/{id}/reputation'],
  ['post', '/v1/plans'],
  ['get', '/v1/admin/disputes'],
  ['get', '/v1/admin/verify'],
  ['get', '/v1/admin/revenue'],
  ['get', '/v1/test_clock'],
  ['post', '/v1/test_clock/advance'],
]

describe.each(DATABASES)('service endpoints on %s', (kind) => {
  let env: TestEnv
  beforeAll(async () => {
    env = await startEnv(kind)
  })
  afterAll(async () => env.close())

  it('GET /healthz and /readyz answer without credentials', async () => {
    expect(ok(await get(env, undefined, '/healthz'))).toEqual({ status: 'ok' })
    expect(ok(await get(env, undefined, '/readyz'))).toEqual({ status: 'ready' })
  })

  it('GET /metrics is Prometheus text with the request counter', async () => {
    await get(env, undefined, '/healthz')
    const res = await raw(env, 'GET', '/metrics', {})
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/plain/)
    expect(res.text).toMatch(/^# HELP /m)
    expect(res.text).toMatch(/^# TYPE tranche_http_requests_total counter$/m)
    expect(res.text).toMatch(/tranche_http_requests_total\{[^}]*route="\/healthz"[^}]*\} \d+/)
    expect(res.text).toContain('tranche_http_request_duration_seconds_bucket')
  })

  it('GET /openapi.json is OpenAPI 3.1 with the error code table and every endpoint', async () => {
    const doc = ok(await get(env, undefined, '/openapi.json'))
    expect(doc.openapi).toMatch(/^3\.1\./)
    expect(doc.info.title).toBeTruthy()
    const description: string = doc.info.description
    expect(description).toMatch(/\|\s*code\s*\|/)
    for (const code of SPEC_CODES) expect(description, code).toMatch(new RegExp(`\\|\\s*\`?${code}\`?\\s*\\|`))
    expect(description).toMatch(/payload_too_large.*413/)
    expect(description).toMatch(/rate_limited.*429/)
    const missing = SPEC_PATHS.filter(([m, p]) => !doc.paths?.[p]?.[m]).map(([m, p]) => `${m.toUpperCase()} ${p}`)
    expect(missing).toEqual([])
    expect(doc.paths['/v1/offers'].post.requestBody).toBeDefined()
  })

  it('GET /docs serves the HTML documentation', async () => {
    let res = await raw(env, 'GET', '/docs', {})
    if (res.status >= 300 && res.status < 400) res = await raw(env, 'GET', String(res.headers.location), {})
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toMatch(/text\/html/)
    expect(res.text).toMatch(/<html/i)
  })
})
