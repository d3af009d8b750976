import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { advance, call, contract, DATABASES, startEnv, type TestEnv } from '../support/harness.ts'

describe.each(DATABASES)('smoke on %s', (kind) => {
  let env: TestEnv
  beforeAll(async () => {
    env = await startEnv(kind)
  })
  afterAll(async () => env.close())

  it('funds, submits and auto-releases after the review window', async () => {
    const d = await contract(env, { review_days: 2 }, [50_000])
    expect(
      (await call(env, 'POST', `/v1/milestones/${d.ids[0]}/fund`, { token: d.client.token, body: {} })).status,
    ).toBe(200)
    expect(
      (
        await call(env, 'POST', `/v1/milestones/${d.ids[0]}/submit`, {
          token: d.freelancer.token,
          body: { message: 'done' },
        })
      ).status,
    ).toBe(200)
    await advance(env, 2 * 86_400)
    const m = await call(env, 'GET', `/v1/milestones/${d.ids[0]}`, { token: d.client.token })
    expect(m.body.state).toBe('released')
    expect(m.body.released_amount).toBe(50_000)
    const b = await call(env, 'GET', '/v1/balances', { token: d.freelancer.token })
    expect(b.body.data).toEqual([{ object: 'balance', currency: 'USD', available: 0, pending: 45_000 }])
  })
})
