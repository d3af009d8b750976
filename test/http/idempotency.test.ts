/** Idempotency-Key on POST (SPEC §10): replay, reuse, per-user scope, nothing stored for rejected requests. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import { balance, contract, expectError, fund, get, milestone, offerTerms, ok, post, user } from './helpers.ts'

describe.each(DATABASES)('idempotency on %s', (kind) => {
  let env: TestEnv
  beforeAll(async () => {
    env = await startEnv(kind)
  })
  afterAll(async () => env.close())

  const offerBody = (email: string, over: Record<string, unknown> = {}) => ({
    role: 'client',
    counterparty_email: email,
    ...offerTerms(over),
  })

  it('replays the first response (status and identical body) with Idempotent-Replayed: true', async () => {
    const a = await user(env)
    const b = await user(env)
    const first = await post(env, a.token, '/v1/offers', offerBody(b.email), 'offer-1')
    expect(first.status).toBe(201)
    expect(first.headers['idempotent-replayed']).toBeUndefined()
    const again = await post(env, a.token, '/v1/offers', offerBody(b.email), 'offer-1')
    expect(again.status).toBe(201)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.text).toBe(first.text)
    expect(ok(await get(env, a.token, '/v1/offers')).data).toHaveLength(1)
  })

  it('answers the same key with a different body (or another endpoint) with 409 idempotency_key_reused', async () => {
    const a = await user(env)
    const b = await user(env)
    ok(await post(env, a.token, '/v1/offers', offerBody(b.email), 'k'), 201)
    expectError(
      await post(env, a.token, '/v1/offers', offerBody(b.email, { title: 'Other' }), 'k'),
      409,
      'idempotency_key_reused',
    )
    const d = await contract(env)
    ok(await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/fund`, {}, 'fund-key'))
    expectError(
      await post(env, d.client.token, `/v1/contracts/${d.cid}/fund`, { milestone_ids: d.ids }, 'fund-key'),
      409,
      'idempotency_key_reused',
    )
    expect(ok(await get(env, a.token, '/v1/offers')).data).toHaveLength(1)
  })

  it('scopes keys per user', async () => {
    const a = await user(env)
    const b = await user(env)
    const c = await user(env)
    const one = ok(await post(env, a.token, '/v1/offers', offerBody(c.email), 'shared'), 201)
    const two = await post(env, b.token, '/v1/offers', offerBody(c.email, { title: 'Mine' }), 'shared')
    expect(two.status).toBe(201)
    expect(two.headers['idempotent-replayed']).toBeUndefined()
    expect(two.body.id).not.toBe(one.id)
    const same = await post(env, b.token, '/v1/offers', offerBody(c.email), 'shared-2')
    const sameA = await post(env, a.token, '/v1/offers', offerBody(c.email), 'shared-2')
    expect(sameA.body.id).not.toBe(same.body.id)
    expect(ok(await get(env, c.token, '/v1/offers')).data).toHaveLength(4)
  })

  it('stores nothing for a request rejected by validation: the key is free afterwards', async () => {
    const a = await user(env)
    const b = await user(env)
    expectError(
      await post(env, a.token, '/v1/offers', { ...offerBody(b.email), colour: 'red' }, 'v1'),
      400,
      'parameter_unknown',
    )
    const later = await post(env, a.token, '/v1/offers', offerBody(b.email), 'v1')
    expect(later.status).toBe(201)
    expect(later.headers['idempotent-replayed']).toBeUndefined()
    // a rule of §4 (domain validation) stores nothing either
    expectError(
      await post(
        env,
        a.token,
        '/v1/offers',
        offerBody(b.email, {
          payment_mode: 'by_project',
          milestones: [
            { title: 'a', amount: 1_000 },
            { title: 'b', amount: 1_000 },
          ],
        }),
        'v2',
      ),
      400,
      'terms_invalid',
    )
    expectError(
      await post(env, a.token, '/v1/offers', offerBody('nobody@tranche.test'), 'v2'),
      400,
      'counterparty_unknown',
    )
    const ok2 = await post(env, a.token, '/v1/offers', offerBody(b.email, { title: 'Second' }), 'v2')
    expect(ok2.status).toBe(201)
    expect(ok2.headers['idempotent-replayed']).toBeUndefined()
  })

  it('does not store the response of a failed (409) command', async () => {
    const d = await contract(env)
    const url = `/v1/milestones/${d.ids[0]}/submit`
    expectError(await post(env, d.freelancer.token, url, { message: 'early' }, 'sub'), 409, 'invalid_state_transition')
    await fund(env, d)
    const res = await post(env, d.freelancer.token, url, { message: 'early' }, 'sub')
    expect(res.status).toBe(200)
    expect(res.headers['idempotent-replayed']).toBeUndefined()
    expect(res.body.state).toBe('submitted')
    const replay = await post(env, d.freelancer.token, url, { message: 'early' }, 'sub')
    expect(replay.headers['idempotent-replayed']).toBe('true')
    expect(replay.text).toBe(res.text)
  })

  it('does not store a 402 card_declined either', async () => {
    const d = await contract(env)
    const url = `/v1/milestones/${d.ids[0]}/fund`
    expectError(
      await post(env, d.client.token, url, { payment_method: 'pm_sandbox_decline' }, 'pay'),
      402,
      'card_declined',
    )
    expect((await milestone(env, d.client.token, d.ids[0]!)).state).toBe('pending')
    expectError(
      await post(env, d.client.token, url, { payment_method: 'pm_sandbox_decline' }, 'pay'),
      402,
      'card_declined',
    )
  })

  it('charges once when a fund is replayed', async () => {
    const d = await contract(env, {}, [100_000, 40_000])
    const body = { milestone_ids: d.ids }
    const first = await post(env, d.client.token, `/v1/contracts/${d.cid}/fund`, body, 'fund-all')
    expect(first.status).toBe(200)
    const again = await post(env, d.client.token, `/v1/contracts/${d.cid}/fund`, body, 'fund-all')
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.text).toBe(first.text)
    const lines = ok(await get(env, d.client.token, `/v1/statements?currency=USD`))
    expect(lines.data).toEqual([])
    const c = ok(await get(env, d.client.token, `/v1/contracts/${d.cid}`))
    expect(c.totals).toMatchObject({ funded: 140_000, in_escrow: 140_000 })
    const ev = ok(await get(env, d.client.token, `/v1/events?type=milestone.funded&contract_id=${d.cid}`))
    expect(ev.data).toHaveLength(2)
    expect(await balance(env, d.client.token)).toEqual({ available: 0, pending: 0 })
  })

  it('handles two concurrent requests with one key: one runs, the other is replayed or 409 idempotency_key_in_use', async () => {
    const a = await user(env)
    const b = await user(env)
    const [r1, r2] = await Promise.all([
      post(env, a.token, '/v1/offers', offerBody(b.email), 'race'),
      post(env, a.token, '/v1/offers', offerBody(b.email), 'race'),
    ])
    const fresh = [r1, r2].filter((r) => r.status === 201 && r.headers['idempotent-replayed'] === undefined)
    expect(fresh).toHaveLength(1)
    const other = fresh[0] === r1 ? r2 : r1
    if (other.status === 409) expectError(other, 409, 'idempotency_key_in_use')
    else expect(other.headers['idempotent-replayed']).toBe('true')
    expect(ok(await get(env, a.token, '/v1/offers')).data).toHaveLength(1)
  })

  it('refuses a key longer than 255 characters (400) and accepts 255', async () => {
    const a = await user(env)
    const b = await user(env)
    const long = await post(env, a.token, '/v1/offers', offerBody(b.email), 'k'.repeat(256))
    expect(long.status).toBe(400)
    expect(long.body.error.type).toBe('invalid_request_error')
    ok(await post(env, a.token, '/v1/offers', offerBody(b.email), 'k'.repeat(255)), 201)
    expect(ok(await get(env, a.token, '/v1/offers')).data).toHaveLength(1)
  })

  it('honours the key on every POST: an API key is not created twice', async () => {
    const a = await user(env)
    const k1 = await post(env, a.token, '/v1/api_keys', { name: 'ci' }, 'key-once')
    const k2 = await post(env, a.token, '/v1/api_keys', { name: 'ci' }, 'key-once')
    expect(ok(await get(env, a.token, '/v1/api_keys')).data).toHaveLength(1)
    expect(k2.headers['idempotent-replayed']).toBe('true')
    expect(k2.body.id).toBe(k1.body.id)
  })

  it('honours the key on every POST: a webhook endpoint is not created twice', async () => {
    const a = await user(env)
    const body = { url: 'http://127.0.0.1:9/hook', enabled_events: ['*'] }
    const w1 = await post(env, a.token, '/v1/webhook_endpoints', body, 'hook-once')
    const w2 = await post(env, a.token, '/v1/webhook_endpoints', body, 'hook-once')
    expect(ok(await call(env, 'GET', '/v1/webhook_endpoints', { token: a.token })).data).toHaveLength(1)
    expect(w2.headers['idempotent-replayed']).toBe('true')
    expect(w2.body.id).toBe(w1.body.id)
  })
})
