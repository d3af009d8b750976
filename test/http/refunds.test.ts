/** Refund requests and refunds (SPEC §5): request_refund, accept, decline (→ dispute), expiry, the freelancer's refund. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminUser, advance, DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import {
  balance,
  contract,
  contractOf,
  DAY,
  eventTypes,
  expectError,
  fund,
  funded,
  get,
  milestone,
  ok,
  post,
  submitted,
  user,
} from './helpers.ts'

describe.each(DATABASES)('refunds on %s', (kind) => {
  let env: TestEnv
  beforeAll(async () => {
    env = await startEnv(kind)
  })
  afterAll(async () => env.close())

  it('request_refund (client, from funded): the freelancer accepts → refunded, principal and fee back', async () => {
    const d = await funded(env, {}, [100_000])
    const m = ok(
      await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/request_refund`, { reason: 'plans changed' }),
    )
    expect(m.state).toBe('refund_requested')
    const rr = ok(await get(env, d.freelancer.token, `/v1/refund_requests/${m.refund_request_id}`))
    expect(rr).toMatchObject({
      object: 'refund_request',
      milestone_id: d.ids[0],
      milestone_title: 'Stage 1', // named, so that the freelancer (and a webhook) knows which work is meant
      amount: 100_000,
      reason: 'plans changed',
      status: 'open',
      source: 'client',
    })
    expect(rr.id).toMatch(/^rfr_/)
    expect(Date.parse(rr.expires_at) - Date.parse(rr.created_at)).toBe(7 * DAY * 1000)
    expectError(
      await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/request_refund`, {}),
      400,
      'parameter_missing',
      'reason',
    )
    expectError(await post(env, d.client.token, `/v1/refund_requests/${rr.id}/accept`), 403, 'actor_not_allowed')
    const acc = ok(await post(env, d.freelancer.token, `/v1/refund_requests/${rr.id}/accept`, { reason: 'fair' }))
    expect(acc).toMatchObject({ id: rr.id, status: 'accepted' })
    expect(await milestone(env, d.client.token, d.ids[0]!)).toMatchObject({
      state: 'refunded',
      refunded_amount: 100_000,
      escrow_amount: 0,
    })
    expect(await balance(env, d.client.token)).toEqual({ available: 105_000, pending: 0 })
    expect(await balance(env, d.freelancer.token)).toEqual({ available: 0, pending: 0 })
    const c = await contractOf(env, d.client.token, d.cid)
    expect(c.status).toBe('completed')
    expect(c.totals).toMatchObject({ refunded: 100_000, released: 0 })
    expect(await eventTypes(env, d.client.token, d.cid)).toEqual(
      expect.arrayContaining([
        'refund_request.created',
        'refund_request.accepted',
        'milestone.refunded',
        'contract.completed',
      ]),
    )
    const again = await post(env, d.freelancer.token, `/v1/refund_requests/${rr.id}/accept`)
    expectError(again, 409, 'invalid_state_transition')
    expect(again.body.error.message).toContain('refunded')
  })

  it('request_refund from changes_requested; not from submitted (409 naming the state)', async () => {
    const d = await submitted(env)
    const bad = await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/request_refund`, { reason: 'x' })
    expectError(bad, 409, 'invalid_state_transition')
    expect(bad.body.error.message).toContain('submitted')
    ok(await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/request_changes`, { message: 'redo' }))
    expect(
      ok(await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/request_refund`, { reason: 'x' })).state,
    ).toBe('refund_requested')
  })

  it('decline_refund opens a dispute by the freelancer proposing the full release of the escrow', async () => {
    const d = await funded(env, {}, [80_000])
    const m = ok(await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/request_refund`, { reason: 'too slow' }))
    expectError(
      await post(env, d.client.token, `/v1/refund_requests/${m.refund_request_id}/decline`),
      403,
      'actor_not_allowed',
    )
    const rr = ok(
      await post(env, d.freelancer.token, `/v1/refund_requests/${m.refund_request_id}/decline`, {
        reason: 'work is done',
      }),
    )
    expect(rr.status).toBe('declined')
    const after = await milestone(env, d.client.token, d.ids[0]!)
    expect(after.state).toBe('disputed')
    const dsp = ok(await get(env, d.client.token, `/v1/disputes/${after.dispute_id}`))
    expect(dsp).toMatchObject({ opened_by: d.freelancer.id, status: 'awaiting_response', escrow_amount: 80_000 })
    expect(dsp.proposals).toHaveLength(1)
    expect(dsp.proposals[0]).toMatchObject({ by: d.freelancer.id, release_amount: 80_000, status: 'open' })
    expectError(
      await post(env, d.freelancer.token, `/v1/refund_requests/${m.refund_request_id}/accept`),
      409,
      'invalid_state_transition',
    )
  })

  it('a silent freelancer: the refund request expires after 7 days → refunded', async () => {
    const d = await funded(env, {}, [50_000])
    const m = ok(await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/request_refund`, { reason: 'gone' }))
    await advance(env, 7 * DAY - 1)
    expect((await milestone(env, d.client.token, d.ids[0]!)).state).toBe('refund_requested')
    await advance(env, 1)
    expect((await milestone(env, d.client.token, d.ids[0]!)).state).toBe('refunded')
    expect(ok(await get(env, d.client.token, `/v1/refund_requests/${m.refund_request_id}`)).status).toBe('expired')
    expect(await balance(env, d.client.token)).toEqual({ available: 52_500, pending: 0 })
    expect(await eventTypes(env, d.freelancer.token, d.cid)).toContain('refund_request.expired')
  })

  it('an expiring refund request after a partial approval ends the milestone released', async () => {
    const d = await submitted(env, {}, [100_000])
    ok(await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/approve`, { amount: 25_000 }))
    await advance(env, 7 * DAY)
    expect(await milestone(env, d.client.token, d.ids[0]!)).toMatchObject({
      state: 'released',
      released_amount: 25_000,
      refunded_amount: 75_000,
    })
    // released 25,000: fee 1,250 kept; refund 75,000 + 3,750
    expect(await balance(env, d.client.token)).toEqual({ available: 78_750, pending: 0 })
  })

  it('the freelancer refunds of their own accord from funded, submitted and changes_requested', async () => {
    const d = await funded(env, {}, [10_000, 20_000, 30_000])
    ok(await post(env, d.freelancer.token, `/v1/milestones/${d.ids[1]}/submit`, { message: 'x' }))
    ok(await post(env, d.freelancer.token, `/v1/milestones/${d.ids[2]}/submit`, { message: 'x' }))
    ok(await post(env, d.client.token, `/v1/milestones/${d.ids[2]}/request_changes`, { message: 'y' }))
    expectError(await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/refund`), 403, 'actor_not_allowed')
    for (const id of d.ids)
      expect(ok(await post(env, d.freelancer.token, `/v1/milestones/${id}/refund`, { reason: 'sorry' })).state).toBe(
        'refunded',
      )
    expect(await balance(env, d.client.token)).toEqual({ available: 63_000, pending: 0 })
    const again = await post(env, d.freelancer.token, `/v1/milestones/${d.ids[0]}/refund`)
    expectError(again, 409, 'invalid_state_transition')
    expect(again.body.error.message).toContain('refunded')
    expect((await contractOf(env, d.client.token, d.cid)).status).toBe('completed')
  })

  it('hides refund requests from strangers (404) and answers anonymous calls with 401', async () => {
    const d = await funded(env)
    const m = ok(await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/request_refund`, { reason: 'x' }))
    const s = await user(env, 'stranger')
    const id = m.refund_request_id
    expectError(await get(env, s.token, `/v1/refund_requests/${id}`), 404, 'resource_missing')
    expectError(await post(env, s.token, `/v1/refund_requests/${id}/accept`), 404, 'resource_missing')
    expectError(await post(env, s.token, `/v1/refund_requests/${id}/decline`), 404, 'resource_missing')
    expectError(await get(env, s.token, '/v1/refund_requests/rfr_doesnotexist'), 404, 'resource_missing')
    expectError(await get(env, undefined, `/v1/refund_requests/${id}`), 401, 'authentication_required')
    expectError(await post(env, undefined, `/v1/refund_requests/${id}/accept`), 401, 'authentication_required')
    expectError(
      await post(env, d.freelancer.token, `/v1/refund_requests/${id}/accept`, { extra: 1 }),
      400,
      'parameter_unknown',
      'extra',
    )
    expect(ok(await get(env, d.client.token, `/v1/refund_requests/${id}`)).status).toBe('open')
  })

  it('dormancy: funded, due date passed and 90 days without activity → a refund request by the system', async () => {
    const admin = await adminUser(env)
    const now = ok(await get(env, admin.token, '/v1/test_clock')).now as string
    const due = new Date(Date.parse(now) - 10 * DAY * 1000).toISOString().slice(0, 10)
    const d = await contract(env, { milestones: [{ title: 'Late', amount: 10_000, due_date: due }] })
    const quiet = await contract(env, { milestones: [{ title: 'No due date', amount: 10_000 }] })
    await fund(env, d)
    await fund(env, quiet)
    await advance(env, 90 * DAY - 60)
    expect((await milestone(env, d.client.token, d.ids[0]!)).state).toBe('funded')
    await advance(env, 60)
    const m = await milestone(env, d.client.token, d.ids[0]!)
    expect(m.state).toBe('refund_requested')
    const rr = ok(await get(env, d.freelancer.token, `/v1/refund_requests/${m.refund_request_id}`))
    expect(rr).toMatchObject({ source: 'dormancy', amount: 10_000, status: 'open' })
    expect(await eventTypes(env, d.freelancer.token, d.cid)).toEqual(
      expect.arrayContaining(['milestone.dormant', 'refund_request.created']),
    )
    expect((await milestone(env, quiet.client.token, quiet.ids[0]!)).state).toBe('funded')
    await advance(env, 7 * DAY)
    expect((await milestone(env, d.client.token, d.ids[0]!)).state).toBe('refunded')
    expect(await balance(env, d.client.token)).toEqual({ available: 10_500, pending: 0 })
  })
})
