/** Disputes (SPEC §6): open, respond, propose, accept, escalate, admin decision, default outcome, deadlines. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminUser, advance, DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import {
  balance,
  contractOf,
  DAY,
  type Deal,
  eventTypes,
  expectError,
  funded,
  get,
  milestone,
  ok,
  type Party,
  post,
  type Res,
  revenue,
  user,
} from './helpers.ts'

describe.each(DATABASES)('disputes on %s', (kind) => {
  let env: TestEnv
  let admin: Party
  beforeAll(async () => {
    env = await startEnv(kind)
    admin = (await adminUser(env)) as Party
  })
  afterAll(async () => env.close())

  /** A funded 100,000 milestone with a dispute opened by the client proposing `release`. */
  async function disputed(release = 30_000): Promise<Deal & { dsp: Res['body'] }> {
    const d = await funded(env, {}, [100_000])
    const dsp = ok(
      await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/disputes`, {
        reason: 'not as agreed',
        release_amount: release,
      }),
      201,
    )
    return { ...d, dsp }
  }

  it('opens a dispute (201): awaiting_response, the filer’s proposal, a 5-day response deadline', async () => {
    const { dsp, ...d } = await disputed(30_000)
    expect(dsp).toMatchObject({
      object: 'dispute',
      milestone_id: d.ids[0],
      milestone_title: 'Stage 1',
      opened_by: d.client.id,
      status: 'awaiting_response',
      escrow_amount: 100_000,
      resolution: null,
    })
    expect(dsp.id).toMatch(/^dsp_/)
    expect(dsp.proposals).toHaveLength(1)
    expect(dsp.proposals[0]).toMatchObject({ by: d.client.id, release_amount: 30_000, status: 'open' })
    expect(Date.parse(dsp.response_deadline) - Date.parse(dsp.created_at)).toBe(5 * DAY * 1000)
    expect(await milestone(env, d.freelancer.token, d.ids[0]!)).toMatchObject({ state: 'disputed', dispute_id: dsp.id })
    expect(ok(await get(env, d.freelancer.token, `/v1/disputes/${dsp.id}`)).id).toBe(dsp.id)
    expect(ok(await get(env, admin.token, `/v1/disputes/${dsp.id}`)).id).toBe(dsp.id)
    expect(await eventTypes(env, d.freelancer.token, d.cid)).toContain('dispute.opened')
  })

  it('validates the proposal: 0..escrow', async () => {
    const d = await funded(env, {}, [100_000])
    const url = `/v1/milestones/${d.ids[0]}/disputes`
    expectError(
      await post(env, d.client.token, url, { reason: 'x', release_amount: 100_001 }),
      400,
      'amount_invalid',
      'release_amount',
    )
    expectError(
      await post(env, d.client.token, url, { reason: 'x', release_amount: 1.5 }),
      400,
      'amount_invalid',
      'release_amount',
    )
    expectError(
      await post(env, d.client.token, url, { reason: '', release_amount: 0 }),
      400,
      'parameter_invalid',
      'reason',
    )
    expect((await milestone(env, d.client.token, d.ids[0]!)).state).toBe('funded')
    ok(await post(env, d.freelancer.token, url, { reason: 'x', release_amount: 100_000 }), 201)
    expectError(
      await post(env, d.client.token, url, { reason: 'again', release_amount: 0 }),
      409,
      'invalid_state_transition',
    )
  })

  it('the other side responds (negotiation) and accepts a proposal: resolved by agreement with exact amounts', async () => {
    const { dsp, ...d } = await disputed(30_000)
    const before = await revenue(env, admin.token)
    const r = ok(
      await post(env, d.freelancer.token, `/v1/disputes/${dsp.id}/proposals`, {
        release_amount: 80_000,
        message: 'most is done',
      }),
      201,
    )
    expect(r.status).toBe('negotiation')
    expect(r.negotiation_deadline).not.toBeNull()
    const prop = r.proposals.find(
      (p: { by: string; status: string }) => p.by === d.freelancer.id && p.status === 'open',
    )
    expectError(
      await post(env, d.freelancer.token, `/v1/disputes/${dsp.id}/proposals/${prop.id}/accept`),
      403,
      'actor_not_allowed',
    )
    const c2 = ok(await post(env, d.client.token, `/v1/disputes/${dsp.id}/proposals`, { release_amount: 50_000 }), 201)
    expect(
      c2.proposals
        .filter((p: { by: string; status: string }) => p.by === d.client.id)
        .map((p: { status: string }) => p.status),
    ).toEqual(['superseded', 'open'])
    const final = c2.proposals.at(-1)
    const res = ok(await post(env, d.freelancer.token, `/v1/disputes/${dsp.id}/proposals/${final.id}/accept`))
    expect(res.status).toBe('resolved')
    expect(res.resolution).toMatchObject({ release_amount: 50_000, refund_amount: 50_000, by: 'agreement' })
    expect(await milestone(env, d.client.token, d.ids[0]!)).toMatchObject({
      state: 'released',
      released_amount: 50_000,
      refunded_amount: 50_000,
    })
    // release 50,000: freelancer 45,000; platform 5,000 + 2,500; client gets 50,000 + 2,500 back — no dispute fee
    expect(await balance(env, d.freelancer.token)).toEqual({ available: 0, pending: 45_000 })
    expect(await balance(env, d.client.token)).toEqual({ available: 52_500, pending: 0 })
    expect((await revenue(env, admin.token)) - before).toBe(7_500)
    expect((await contractOf(env, d.client.token, d.cid)).status).toBe('completed')
    expectError(
      await post(env, d.client.token, `/v1/disputes/${dsp.id}/proposals`, { release_amount: 1 }),
      409,
      'invalid_state_transition',
    )
    const late = await post(env, d.client.token, `/v1/disputes/${dsp.id}/escalate`)
    expectError(late, 409, 'invalid_state_transition')
    expect(late.body.error.message).toContain('resolved')
  })

  it('applies the filer’s proposal by default when the other side is silent for 5 days', async () => {
    const { dsp, ...d } = await disputed(30_000)
    await advance(env, 5 * DAY - 1)
    expect(ok(await get(env, d.client.token, `/v1/disputes/${dsp.id}`)).status).toBe('awaiting_response')
    await advance(env, 1)
    const res = ok(await get(env, d.client.token, `/v1/disputes/${dsp.id}`))
    expect(res).toMatchObject({
      status: 'resolved',
      resolution: { release_amount: 30_000, refund_amount: 70_000, by: 'default' },
    })
    expect(await balance(env, d.freelancer.token)).toEqual({ available: 0, pending: 27_000 })
    // refund 70,000 + (5,000 − fee(30,000) = 1,500)
    expect(await balance(env, d.client.token)).toEqual({ available: 73_500, pending: 0 })
    expect(await eventTypes(env, d.freelancer.token, d.cid)).toContain('dispute.resolved')
  })

  it('escalates to arbitration after 14 days of negotiation; the admin decides (final)', async () => {
    const { dsp, ...d } = await disputed(0)
    ok(await post(env, d.freelancer.token, `/v1/disputes/${dsp.id}/proposals`, { release_amount: 100_000 }), 201)
    await advance(env, 14 * DAY)
    expect(ok(await get(env, d.client.token, `/v1/disputes/${dsp.id}`)).status).toBe('arbitration')
    expectError(
      await post(env, d.client.token, `/v1/disputes/${dsp.id}/decide`, { release_amount: 0, note: 'mine' }),
      403,
      'admin_only',
    )
    expectError(
      await post(env, admin.token, `/v1/disputes/${dsp.id}/decide`, { release_amount: 100_001, note: 'x' }),
      400,
      'amount_invalid',
      'release_amount',
    )
    expectError(
      await post(env, admin.token, `/v1/disputes/${dsp.id}/decide`, { release_amount: 10 }),
      400,
      'parameter_missing',
      'note',
    )
    const res = ok(
      await post(env, admin.token, `/v1/disputes/${dsp.id}/decide`, {
        release_amount: 40_000,
        note: 'split on evidence',
      }),
    )
    expect(res).toMatchObject({
      status: 'resolved',
      resolution: { release_amount: 40_000, refund_amount: 60_000, by: 'arbitration', note: 'split on evidence' },
    })
    expect(await balance(env, d.freelancer.token)).toEqual({ available: 0, pending: 36_000 })
    expect(await balance(env, d.client.token)).toEqual({ available: 60_000 + 3_000, pending: 0 })
    const again = await post(env, admin.token, `/v1/disputes/${dsp.id}/decide`, { release_amount: 0, note: 'x' })
    expectError(again, 409, 'invalid_state_transition')
    expect(again.body.error.message).toContain('resolved')
  })

  it('either party escalates at once; the admin cannot decide before arbitration; full refund by decision', async () => {
    const { dsp, ...d } = await disputed(10_000)
    const early = await post(env, admin.token, `/v1/disputes/${dsp.id}/decide`, { release_amount: 0, note: 'x' })
    expectError(early, 409, 'invalid_state_transition')
    expect(early.body.error.message).toContain('awaiting_response')
    expectError(await post(env, admin.token, `/v1/disputes/${dsp.id}/escalate`), 403, 'actor_not_allowed')
    expect(
      ok(await post(env, d.freelancer.token, `/v1/disputes/${dsp.id}/escalate`, { reason: 'no progress' })).status,
    ).toBe('arbitration')
    expectError(await post(env, d.client.token, `/v1/disputes/${dsp.id}/escalate`), 409, 'invalid_state_transition')
    expectError(
      await post(env, d.client.token, `/v1/disputes/${dsp.id}/proposals`, { release_amount: 5 }),
      409,
      'invalid_state_transition',
    )
    const res = ok(
      await post(env, admin.token, `/v1/disputes/${dsp.id}/decide`, { release_amount: 0, note: 'no delivery' }),
    )
    expect(res.resolution).toMatchObject({ release_amount: 0, refund_amount: 100_000 })
    expect((await milestone(env, d.client.token, d.ids[0]!)).state).toBe('refunded')
    expect(await balance(env, d.client.token)).toEqual({ available: 105_000, pending: 0 })
  })

  it('an admin proposal needs both parties to accept', async () => {
    const { dsp, ...d } = await disputed(20_000)
    const res = ok(
      await post(env, admin.token, `/v1/disputes/${dsp.id}/proposals`, {
        release_amount: 60_000,
        message: 'fair middle',
      }),
      201,
    )
    const p = res.proposals.find((x: { by: string }) => x.by === 'admin')
    expect(p).toMatchObject({ release_amount: 60_000, status: 'open' })
    expect(ok(await post(env, d.client.token, `/v1/disputes/${dsp.id}/proposals/${p.id}/accept`)).status).not.toBe(
      'resolved',
    )
    const done = ok(await post(env, d.freelancer.token, `/v1/disputes/${dsp.id}/proposals/${p.id}/accept`))
    expect(done).toMatchObject({ status: 'resolved', resolution: { release_amount: 60_000, by: 'agreement' } })
    expectError(
      await post(env, d.client.token, `/v1/disputes/${dsp.id}/proposals/${p.id}/accept`),
      409,
      'invalid_state_transition',
    )
  })

  it('hides disputes from strangers (404); non-admins may not decide (403); bad proposal ids are 404', async () => {
    const { dsp, ...d } = await disputed(30_000)
    const s = await user(env, 'stranger')
    expectError(await get(env, s.token, `/v1/disputes/${dsp.id}`), 404, 'resource_missing')
    expectError(
      await post(env, s.token, `/v1/disputes/${dsp.id}/proposals`, { release_amount: 1 }),
      404,
      'resource_missing',
    )
    expectError(
      await post(env, s.token, `/v1/disputes/${dsp.id}/proposals/${dsp.proposals[0].id}/accept`),
      404,
      'resource_missing',
    )
    expectError(await post(env, s.token, `/v1/disputes/${dsp.id}/escalate`), 404, 'resource_missing')
    expectError(
      await post(env, s.token, `/v1/disputes/${dsp.id}/decide`, { release_amount: 1, note: 'x' }),
      403,
      'admin_only',
    )
    expectError(
      await post(env, d.freelancer.token, `/v1/disputes/${dsp.id}/decide`, { release_amount: 1, note: 'x' }),
      403,
      'admin_only',
    )
    expectError(await get(env, undefined, `/v1/disputes/${dsp.id}`), 401, 'authentication_required')
    expectError(await get(env, d.client.token, '/v1/disputes/dsp_doesnotexist'), 404, 'resource_missing')
    expectError(
      await post(env, d.freelancer.token, `/v1/disputes/${dsp.id}/proposals/prp_doesnotexist/accept`),
      404,
      'resource_missing',
    )
    expectError(
      await post(env, d.freelancer.token, `/v1/disputes/${dsp.id}/proposals`, { release_amount: 100_001 }),
      400,
      'amount_invalid',
      'release_amount',
    )
    expectError(
      await post(env, d.freelancer.token, `/v1/disputes/${dsp.id}/proposals`, { release_amount: 5, extra: 1 }),
      400,
      'parameter_unknown',
      'extra',
    )
  })

  it('a dispute over a refund request closes the request and freezes the refund timer', async () => {
    const d = await funded(env, {}, [40_000])
    const m = ok(await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/request_refund`, { reason: 'stop' }))
    const dsp = ok(
      await post(env, d.freelancer.token, `/v1/milestones/${d.ids[0]}/disputes`, {
        reason: 'I delivered',
        release_amount: 40_000,
      }),
      201,
    )
    expect(ok(await get(env, d.client.token, `/v1/refund_requests/${m.refund_request_id}`)).status).toBe('declined')
    ok(await post(env, d.client.token, `/v1/disputes/${dsp.id}/escalate`))
    await advance(env, 30 * DAY)
    expect((await milestone(env, d.client.token, d.ids[0]!)).state).toBe('disputed')
    expect(ok(await get(env, d.client.token, `/v1/disputes/${dsp.id}`)).status).toBe('arbitration')
  })
})
