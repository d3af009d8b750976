/** Reputation and the milestone planner (SPEC §8). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { advance, DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import { DAY, expectError, funded, get, ok, post, submit, user } from './helpers.ts'

describe.each(DATABASES)('trust on %s', (kind) => {
  let env: TestEnv
  beforeAll(async () => {
    env = await startEnv(kind)
  })
  afterAll(async () => env.close())

  it('shows a user with no history as such (any signed-in user may ask)', async () => {
    const a = await user(env)
    const b = await user(env)
    const r = ok(await get(env, b.token, `/v1/users/${a.id}/reputation`))
    expect(r).toMatchObject({
      object: 'reputation',
      user_id: a.id,
      has_history: false,
      as_client: null,
      as_freelancer: null,
    })
    expectError(await get(env, b.token, '/v1/users/usr_doesnotexist/reputation'), 404, 'resource_missing')
    expectError(await get(env, undefined, `/v1/users/${a.id}/reputation`), 401, 'authentication_required')
  })

  it('derives reputation from history: funded, released on review vs auto-released, hours to release, disputes', async () => {
    const d = await funded(env, { review_days: 3 }, [10_000, 20_000, 30_000])
    await submit(env, d, d.ids[0]!)
    await advance(env, 2 * 3600)
    ok(await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/approve`))
    await submit(env, d, d.ids[1]!)
    await advance(env, 3 * DAY)
    ok(
      await post(env, d.freelancer.token, `/v1/milestones/${d.ids[2]}/disputes`, {
        reason: 'paid?',
        release_amount: 30_000,
      }),
      201,
    )
    await advance(env, 5 * DAY)
    const s = await user(env, 'someone')
    const c = ok(await get(env, s.token, `/v1/users/${d.client.id}/reputation`))
    expect(c.has_history).toBe(true)
    expect(c.as_client).toMatchObject({
      milestones_funded: 3,
      amount_funded: [{ currency: 'USD', amount: 60_000 }],
      released_on_review: 1,
      auto_released: 1,
      refund_requests: 0,
    })
    expect(c.as_client.median_hours_to_release).toBeCloseTo((2 + 72) / 2, 1)
    expect(c.as_client.disputes).toMatchObject({ opened: 0, lost: 1, by_default: 1 })
    const f = ok(await get(env, s.token, `/v1/users/${d.freelancer.id}/reputation`))
    expect(f.as_freelancer).toMatchObject({
      milestones_released: 3,
      amount_earned: [{ currency: 'USD', amount: 60_000 }],
    })
    expect(f.as_freelancer.disputes).toMatchObject({ opened: 1, won: 1 })
  })

  it('plans a schedule that starts small with a client without history, and compares the modes', async () => {
    const u = await user(env)
    const p = ok(
      await post(env, u.token, '/v1/plans', {
        total: 100_000,
        currency: 'USD',
        payment_mode: 'by_milestone',
        counterparty_id: u.id,
      }),
    )
    expect(p).toMatchObject({ object: 'plan', total: 100_000, currency: 'USD', payment_mode: 'by_milestone' })
    const amounts = p.milestones.map((m: { amount: number }) => m.amount)
    expect(amounts.reduce((s: number, x: number) => s + x, 0)).toBe(100_000)
    expect(amounts[0]).toBeLessThanOrEqual(10_000)
    for (let i = 1; i < amounts.length; i++) expect(amounts[i]).toBeLessThanOrEqual(2 * amounts[i - 1])
    expect(amounts.every((x: number) => Number.isInteger(x) && x >= 500)).toBe(true)
    expect(p.comparison.by_project).toMatchObject({ largest_at_risk: 100_000 })
    expect(p.comparison.by_milestone.largest_at_risk).toBeLessThan(100_000)
    expect(p.comparison.by_milestone).toHaveProperty('review_cycles')
    expect(p.comparison.reasons.length + p.reasons.length).toBeGreaterThan(0)
    const e = ok(
      await post(env, u.token, '/v1/plans', {
        total: 20_000,
        currency: 'USD',
        payment_mode: 'by_entry',
        entries: 20,
        unit_price: 1_000,
      }),
    )
    expect(e.milestones.reduce((s: number, m: { amount: number }) => s + m.amount, 0)).toBe(20_000)
    const proj = ok(
      await post(env, u.token, '/v1/plans', { total: 5_000, currency: 'JPY', payment_mode: 'by_project' }),
    )
    expect(proj.total).toBe(5_000)
  })

  it('refuses bad planner input (400)', async () => {
    const u = await user(env)
    const plan = (b: Record<string, unknown>) =>
      post(env, u.token, '/v1/plans', { total: 100_000, currency: 'USD', payment_mode: 'by_milestone', ...b })
    expectError(await plan({ total: 100 }), 400, 'amount_invalid', 'total')
    expectError(await plan({ currency: 'usd' }), 400, 'currency_unsupported', 'currency')
    expectError(await plan({ payment_mode: 'weekly' }), 400, 'parameter_invalid', 'payment_mode')
    expectError(await plan({ upfront_bps: 6_000 }), 400, 'parameter_invalid', 'upfront_bps')
    expectError(await plan({ payment_mode: 'by_entry' }), 400, 'parameter_missing', 'entries')
    expectError(await plan({ payment_mode: 'by_entry', entries: 10 }), 400, 'parameter_missing', 'unit_price')
    expectError(await plan({ payment_mode: 'by_entry', unit_price: 10_000 }), 400, 'parameter_missing', 'entries')
    expectError(
      await plan({ payment_mode: 'by_entry', total: 10_000, entries: 3, unit_price: 1_000 }),
      400,
      'amount_invalid',
      'total',
    )
    expectError(await plan({ counterparty_id: 'usr_doesnotexist' }), 404, 'resource_missing')
    expectError(await plan({ colour: 'red' }), 400, 'parameter_unknown', 'colour')
    expectError(
      await post(env, u.token, '/v1/plans', { currency: 'USD', payment_mode: 'by_milestone' }),
      400,
      'parameter_missing',
      'total',
    )
    expectError(
      await post(env, undefined, '/v1/plans', { total: 100_000, currency: 'USD', payment_mode: 'by_milestone' }),
      401,
      'authentication_required',
    )
  })

  it('answers a total that is not a valid amount (0, 1.5, "100", > 10^12) with 400 amount_invalid', async () => {
    const u = await user(env)
    for (const total of [0, 1.5, '100', 1_000_000_000_001]) {
      const res = await post(env, u.token, '/v1/plans', { total, currency: 'USD', payment_mode: 'by_milestone' })
      expectError(res, 400, 'amount_invalid', 'total')
    }
  })
})
