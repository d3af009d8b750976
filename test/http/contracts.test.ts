/** Contracts (SPEC §5, §10): list, read, fund several milestones atomically, end early. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminUser, advance, call, DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import {
  balance,
  contract,
  contractOf,
  expectError,
  fund,
  funded,
  get,
  milestone,
  ok,
  type Party,
  post,
  submit,
  user,
} from './helpers.ts'

describe.each(DATABASES)('contracts on %s', (kind) => {
  let env: TestEnv
  let admin: Party
  beforeAll(async () => {
    env = await startEnv(kind)
    admin = (await adminUser(env)) as Party
  })
  afterAll(async () => env.close())

  it('shows a contract with its snapshot of terms and fees, milestones, totals and exposure', async () => {
    const d = await contract(env, { review_days: 10, revision_limit: 2 }, [30_000, 70_000])
    const c = await contractOf(env, d.freelancer.token, d.cid)
    expect(c).toMatchObject({
      object: 'contract',
      status: 'active',
      client_id: d.client.id,
      freelancer_id: d.freelancer.id,
      title: 'Test job',
      currency: 'USD',
      payment_mode: 'by_milestone',
      review_days: 10,
      revision_limit: 2,
      client_fee_bps: 500,
      service_fee_bps: 1000,
      unit_name: null,
      unit_price: null,
      totals: { amount: 100_000, funded: 0, in_escrow: 0, released: 0, refunded: 0 },
    })
    expect(c.id).toMatch(/^ctr_/)
    expect(c.offer_id).toMatch(/^off_/)
    expect(
      c.milestones.map((m: { position: number; amount: number; state: string }) => [m.position, m.amount, m.state]),
    ).toEqual([
      [1, 30_000, 'pending'],
      [2, 70_000, 'pending'],
    ])
    expect(c.milestones[0].id).toMatch(/^ms_/)
    expect(c.exposure.freelancer).toMatchObject({
      unfunded_pending: 100_000,
      unfunded_milestones: 2,
      submitted_awaiting_release: 0,
    })
    expect(new Date(c.created_at).toISOString()).toBe(c.created_at)
    // the admin sees it too; a stranger does not
    expect((await contractOf(env, admin.token, d.cid)).id).toBe(d.cid)
    const s = await user(env, 'stranger')
    expectError(await get(env, s.token, `/v1/contracts/${d.cid}`), 404, 'resource_missing')
    expectError(await get(env, undefined, `/v1/contracts/${d.cid}`), 401, 'authentication_required')
  })

  it('names the parties (id, name, email) on GET, one contract or a list, for both sides and the admin', async () => {
    const d = await contract(env)
    ok(await call(env, 'PATCH', '/v1/me', { token: d.client.token, body: { name: 'Carla Client' } }))
    ok(await call(env, 'PATCH', '/v1/me', { token: d.freelancer.token, body: { name: 'Fred Freelancer' } }))
    const parties = {
      client: { id: d.client.id, name: 'Carla Client', email: d.client.email },
      freelancer: { id: d.freelancer.id, name: 'Fred Freelancer', email: d.freelancer.email },
    }
    for (const token of [d.client.token, d.freelancer.token, admin.token]) {
      expect(ok(await get(env, token, `/v1/contracts/${d.cid}`)).parties).toEqual(parties)
      const listed = ok(await get(env, token, '/v1/contracts?limit=100')).data.find(
        (c: { id: string }) => c.id === d.cid,
      )
      expect(listed.parties).toEqual(parties)
    }
    // a rename shows at once: the names are read with each answer, not stored in the contract
    ok(await call(env, 'PATCH', '/v1/me', { token: d.client.token, body: { name: 'Carla C.' } }))
    expect(ok(await get(env, d.freelancer.token, `/v1/contracts/${d.cid}`)).parties.client.name).toBe('Carla C.')
  })

  it('lists my contracts newest first with status filter and pagination; the admin lists all', async () => {
    const a = await user(env)
    const b = await user(env)
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      await advance(env, 1)
      const o = ok(
        await post(env, a.token, '/v1/offers', {
          role: 'client',
          counterparty_email: b.email,
          title: `C${i}`,
          currency: 'USD',
          payment_mode: 'by_milestone',
          milestones: [{ title: 's', amount: 1_000 }],
        }),
        201,
      )
      ids.push(ok(await post(env, b.token, `/v1/offers/${o.id}/accept`, { revision: 1 })).contract_id)
    }
    ok(await post(env, b.token, `/v1/contracts/${ids[0]}/end`))
    const all = ok(await get(env, a.token, '/v1/contracts'))
    expect(all).toMatchObject({ object: 'list', has_more: false })
    expect(all.data.map((c: { id: string }) => c.id)).toEqual([...ids].reverse())
    const p1 = ok(await get(env, b.token, '/v1/contracts?limit=2'))
    expect(p1.data.map((c: { id: string }) => c.id)).toEqual([ids[2], ids[1]])
    expect(p1.has_more).toBe(true)
    const p2 = ok(await get(env, b.token, `/v1/contracts?limit=2&starting_after=${ids[1]}`))
    expect(p2).toMatchObject({ has_more: false })
    expect(p2.data.map((c: { id: string }) => c.id)).toEqual([ids[0]])
    expect(ok(await get(env, a.token, '/v1/contracts?status=ended')).data.map((c: { id: string }) => c.id)).toEqual([
      ids[0],
    ])
    expect(ok(await get(env, a.token, '/v1/contracts?status=active')).data).toHaveLength(2)
    const adminAll = ok(await get(env, admin.token, '/v1/contracts?limit=100'))
    expect(adminAll.data.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining(ids))
  })

  it('funds several milestones in one atomic call (client fee on each)', async () => {
    const d = await contract(env, {}, [10_000, 20_000, 30_000])
    const c = ok(
      await post(env, d.client.token, `/v1/contracts/${d.cid}/fund`, { milestone_ids: [d.ids[0], d.ids[2]] }),
    )
    expect(c.object).toBe('contract')
    expect(
      c.milestones.map((m: { state: string; escrow_fee_amount: number }) => [m.state, m.escrow_fee_amount]),
    ).toEqual([
      ['funded', 500],
      ['pending', 0],
      ['funded', 1_500],
    ])
    expect(c.totals).toMatchObject({ funded: 40_000, in_escrow: 40_000 })
    // all or nothing: one milestone in the wrong state → none is funded
    const res = await post(env, d.client.token, `/v1/contracts/${d.cid}/fund`, { milestone_ids: [d.ids[1], d.ids[0]] })
    expectError(res, 409, 'invalid_state_transition')
    expect(res.body.error.message).toContain('funded')
    expect((await milestone(env, d.client.token, d.ids[1]!)).state).toBe('pending')
    expectError(
      await post(env, d.client.token, `/v1/contracts/${d.cid}/fund`, { milestone_ids: [d.ids[1], d.ids[1]] }),
      400,
      'parameter_invalid',
      'milestone_ids',
    )
    expectError(
      await post(env, d.client.token, `/v1/contracts/${d.cid}/fund`, { milestone_ids: [] }),
      400,
      'parameter_invalid',
      'milestone_ids',
    )
    expectError(
      await post(env, d.client.token, `/v1/contracts/${d.cid}/fund`, {}),
      400,
      'parameter_missing',
      'milestone_ids',
    )
    expectError(
      await post(env, d.client.token, `/v1/contracts/${d.cid}/fund`, { milestone_ids: ['ms_notinthiscontract'] }),
      404,
      'resource_missing',
    )
    expectError(
      await post(env, d.freelancer.token, `/v1/contracts/${d.cid}/fund`, { milestone_ids: [d.ids[1]] }),
      403,
      'actor_not_allowed',
    )
    const s = await user(env, 'stranger')
    expectError(
      await post(env, s.token, `/v1/contracts/${d.cid}/fund`, { milestone_ids: [d.ids[1]] }),
      404,
      'resource_missing',
    )
    expect((await milestone(env, d.client.token, d.ids[1]!)).state).toBe('pending')
  })

  it('a declined card (402 card_declined) changes nothing', async () => {
    const d = await contract(env, {}, [10_000, 20_000])
    const res = await post(env, d.client.token, `/v1/contracts/${d.cid}/fund`, {
      milestone_ids: d.ids,
      payment_method: 'pm_sandbox_decline',
    })
    expectError(res, 402, 'card_declined')
    const c = await contractOf(env, d.client.token, d.cid)
    expect(c.milestones.map((m: { state: string }) => m.state)).toEqual(['pending', 'pending'])
    expect(c.totals.in_escrow).toBe(0)
    expect(ok(await get(env, d.client.token, '/v1/events?type=milestone.funded')).data).toEqual([])
    expect(ok(await get(env, admin.token, '/v1/admin/verify')).ok).toBe(true)
  })

  it('client ends: pending → cancelled, funded → refund requests; refused while one is submitted', async () => {
    const d = await contract(env, {}, [10_000, 20_000, 30_000])
    await fund(env, d, [d.ids[1]!, d.ids[2]!])
    await submit(env, d, d.ids[2]!)
    const blocked = await post(env, d.client.token, `/v1/contracts/${d.cid}/end`, { reason: 'done' })
    expectError(blocked, 409, 'milestones_awaiting_action')
    ok(await post(env, d.client.token, `/v1/milestones/${d.ids[2]}/approve`))
    const c = ok(await post(env, d.client.token, `/v1/contracts/${d.cid}/end`, { reason: 'no longer needed' }))
    expect(c.status).toBe('ended')
    expect(c.ended_at).not.toBeNull()
    expect(c.milestones.map((m: { state: string }) => m.state)).toEqual(['cancelled', 'refund_requested', 'released'])
    expect(c.refund_requests[0]).toMatchObject({
      milestone_id: d.ids[1],
      amount: 20_000,
      source: 'contract_end',
      status: 'open',
      reason: 'no longer needed', // the client's reason reaches the freelancer
    })
    const again = await post(env, d.client.token, `/v1/contracts/${d.cid}/end`)
    expectError(again, 409, 'invalid_state_transition')
    expect(again.body.error.message).toContain('ended')
    // the freelancer still answers the refund request on the ended contract
    ok(
      await post(env, d.freelancer.token, `/v1/refund_requests/${c.refund_requests[0].id}/accept`, {
        reason: 'fair enough',
      }),
    )
    expect(await balance(env, d.client.token)).toEqual({ available: 21_000, pending: 0 })
    expect((await contractOf(env, d.client.token, d.cid)).status).toBe('ended')
    // every reason given is kept in the audit log
    const reasons = (await env.rt.store.db.selectFrom('audit_log').select('record').execute())
      .map((r) => JSON.parse(r.record) as { action: string; target: string; data: { reason?: string } })
      .filter((r) => r.target === d.cid && r.data.reason)
      .map((r) => [r.action, r.data.reason])
    expect(reasons).toEqual([
      ['contract.end', 'no longer needed'],
      ['milestone.accept_refund', 'fair enough'],
    ])
  })

  it('freelancer ends: pending → cancelled, funded/submitted → refunded; refused while one is disputed', async () => {
    const d = await contract(env, {}, [10_000, 20_000, 30_000])
    await fund(env, d, [d.ids[1]!, d.ids[2]!])
    await submit(env, d, d.ids[2]!)
    const c = ok(await post(env, d.freelancer.token, `/v1/contracts/${d.cid}/end`))
    expect(c.status).toBe('ended')
    expect(c.milestones.map((m: { state: string }) => m.state)).toEqual(['cancelled', 'refunded', 'refunded'])
    expect(await balance(env, d.client.token)).toEqual({ available: 52_500, pending: 0 })
    const e = await funded(env, {}, [10_000])
    ok(
      await post(env, e.client.token, `/v1/milestones/${e.ids[0]}/disputes`, { reason: 'late', release_amount: 0 }),
      201,
    )
    expectError(await post(env, e.freelancer.token, `/v1/contracts/${e.cid}/end`), 409, 'milestones_awaiting_action')
    expectError(await post(env, e.client.token, `/v1/contracts/${e.cid}/end`), 409, 'milestones_awaiting_action')
  })

  it('end: 404 for strangers, 403 for the admin, 400 for unknown fields, 409 on a completed contract', async () => {
    const d = await funded(env, {}, [10_000])
    const s = await user(env, 'stranger')
    expectError(await post(env, s.token, `/v1/contracts/${d.cid}/end`), 404, 'resource_missing')
    expectError(await post(env, admin.token, `/v1/contracts/${d.cid}/end`), 403, 'actor_not_allowed')
    expectError(
      await post(env, d.client.token, `/v1/contracts/${d.cid}/end`, { force: true }),
      400,
      'parameter_unknown',
      'force',
    )
    expectError(await post(env, undefined, `/v1/contracts/${d.cid}/end`), 401, 'authentication_required')
    ok(await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/approve`))
    const done = await post(env, d.client.token, `/v1/contracts/${d.cid}/end`)
    expectError(done, 409, 'invalid_state_transition')
    expect(done.body.error.message).toContain('completed')
  })
})
