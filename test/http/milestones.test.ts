/** Milestone money flows with exact amounts (SPEC §3, §5, §7): fund, submit, request changes, approve, auto-release. */
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
  type Party,
  post,
  revenue,
  submit,
  submitted,
} from './helpers.ts'

describe.each(DATABASES)('milestones on %s', (kind) => {
  let env: TestEnv
  let admin: Party
  beforeAll(async () => {
    env = await startEnv(kind)
    admin = (await adminUser(env)) as Party
  })
  afterAll(async () => env.close())

  it('funds: principal in escrow, the 5% client fee held with it; nothing reaches anyone yet', async () => {
    const d = await contract(env, {}, [100_000, 20_000])
    const m = ok(
      await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/fund`, { payment_method: 'pm_sandbox_ok' }),
    )
    expect(m).toMatchObject({
      object: 'milestone',
      state: 'funded',
      amount: 100_000,
      escrow_amount: 100_000,
      escrow_fee_amount: 5_000,
      released_amount: 0,
    })
    expect(m.funded_at).not.toBeNull()
    const c = await contractOf(env, d.client.token, d.cid)
    expect(c.totals).toMatchObject({ amount: 120_000, funded: 100_000, in_escrow: 100_000, released: 0, refunded: 0 })
    expect(c.exposure.client).toMatchObject({ in_escrow: 100_000, escrow_awaiting_review: 0 })
    expect(c.exposure.freelancer).toMatchObject({
      protected_in_escrow: 100_000,
      unfunded_pending: 20_000,
      unfunded_milestones: 1,
    })
    expect(await balance(env, d.freelancer.token)).toEqual({ available: 0, pending: 0 })
    expect(await eventTypes(env, d.freelancer.token, d.cid)).toEqual(['milestone.funded', 'contract.created'])
    // the whole charge (principal + fee) comes back when the freelancer refunds it
    ok(await post(env, d.freelancer.token, `/v1/milestones/${d.ids[0]}/refund`, { reason: 'cannot do it' }))
    expect(await balance(env, d.client.token)).toEqual({ available: 105_000, pending: 0 })
    expect(ok(await get(env, admin.token, '/v1/admin/verify')).ok).toBe(true)
  })

  it('rounds fees half up: 1005 → client fee 50, service fee 101; 1010 → 51 and 101', async () => {
    const d = await contract(env, {}, [1_005, 1_010])
    const before = await revenue(env, admin.token)
    const c = ok(await post(env, d.client.token, `/v1/contracts/${d.cid}/fund`, { milestone_ids: d.ids }))
    expect(c.milestones.map((m: { escrow_fee_amount: number }) => m.escrow_fee_amount)).toEqual([50, 51])
    for (const id of d.ids) ok(await post(env, d.client.token, `/v1/milestones/${id}/approve`))
    // freelancer: 1005 − 101 + 1010 − 101; platform: (101 + 50) + (101 + 51)
    expect(await balance(env, d.freelancer.token)).toEqual({ available: 0, pending: 904 + 909 })
    expect((await revenue(env, admin.token)) - before).toBe(303)
    expect((await contractOf(env, d.client.token, d.cid)).status).toBe('completed')
  })

  it('uses the client’s available credit first when funding', async () => {
    const d = await contract(env, {}, [100_000, 60_000, 80_000])
    const [m1, m2, m3] = d.ids as [string, string, string]
    ok(await post(env, d.client.token, `/v1/milestones/${m1}/fund`))
    ok(await post(env, d.freelancer.token, `/v1/milestones/${m1}/refund`))
    expect(await balance(env, d.client.token)).toEqual({ available: 105_000, pending: 0 })
    ok(await post(env, d.client.token, `/v1/milestones/${m2}/fund`))
    expect(await balance(env, d.client.token)).toEqual({ available: 105_000 - 63_000, pending: 0 })
    // 84,000 needed: 42,000 from credit, the rest from the rail (a declined card changes nothing)
    expectError(
      await post(env, d.client.token, `/v1/milestones/${m3}/fund`, { payment_method: 'pm_sandbox_decline' }),
      402,
      'card_declined',
    )
    expect(await balance(env, d.client.token)).toEqual({ available: 42_000, pending: 0 })
    expect((await milestone(env, d.client.token, m3)).state).toBe('pending')
    // the sandbox takes any other payment method (SPEC §7)
    ok(await post(env, d.client.token, `/v1/milestones/${m3}/fund`, { payment_method: 'tok_visa' }))
    expect(await balance(env, d.client.token)).toEqual({ available: 0, pending: 0 })
    const lines = ok(await get(env, d.client.token, '/v1/ledger/entries')).data
    expect(lines.map((l: { kind: string; amount: number }) => [l.kind, l.amount])).toEqual([
      ['fund', -42_000],
      ['fund', -63_000],
      ['refund', 105_000],
    ])
  })

  it('submits: review_deadline = now + review_days; a resubmission restarts the whole window', async () => {
    const d = await funded(env, { review_days: 3 })
    const clock = ok(await get(env, admin.token, '/v1/test_clock'))
    const m = await submit(env, d, d.ids[0]!, { message: 'Here it is', links: ['https://example.com/x'] })
    expect(m.state).toBe('submitted')
    expect(m.submission).toMatchObject({
      message: 'Here it is',
      links: ['https://example.com/x'],
      entries: null,
      submitted_at: clock.now,
    })
    expect(Date.parse(m.review_deadline) - Date.parse(clock.now)).toBe(3 * DAY * 1000)
    expect((await contractOf(env, d.freelancer.token, d.cid)).exposure.freelancer.submitted_awaiting_release).toBe(
      100_000,
    )
    await advance(env, 2 * DAY)
    const ch = ok(
      await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/request_changes`, { message: 'fix the footer' }),
    )
    expect(ch).toMatchObject({
      state: 'changes_requested',
      revisions_used: 1,
      revisions_left: 2,
      review_deadline: null,
    })
    await advance(env, 2 * DAY)
    const again = await submit(env, d, d.ids[0]!, { message: 'fixed' })
    const now = ok(await get(env, admin.token, '/v1/test_clock')).now
    expect(Date.parse(again.review_deadline) - Date.parse(now)).toBe(3 * DAY * 1000)
    await advance(env, 3 * DAY - 60)
    expect((await milestone(env, d.client.token, d.ids[0]!)).state).toBe('submitted')
    await advance(env, 60)
    expect((await milestone(env, d.client.token, d.ids[0]!)).state).toBe('released')
  })

  it("keeps the client's change request on the milestone: shown after resubmission, replaced by the next", async () => {
    const d = await submitted(env, {}, [100_000])
    const id = d.ids[0]!
    expect((await milestone(env, d.client.token, id)).change_request).toBeNull()
    const now = ok(await get(env, admin.token, '/v1/test_clock')).now
    const note = 'Add the pricing section.\nAnd a footer — “soon”.'
    const m = ok(await post(env, d.client.token, `/v1/milestones/${id}/request_changes`, { message: note }))
    expect(m.change_request).toEqual({ message: note, requested_at: now })
    expect(m).toMatchObject({ revisions_used: 1, revisions_left: 2 })
    expect((await milestone(env, d.freelancer.token, id)).change_request.message).toBe(note)
    await advance(env, DAY)
    const again = await submit(env, d, id, { message: 'Pricing added.' })
    expect(again.change_request).toEqual({ message: note, requested_at: now })
    const next = ok(await post(env, d.client.token, `/v1/milestones/${id}/request_changes`, { message: 'Footer too.' }))
    expect(next.change_request.message).toBe('Footer too.')
    expect(next.revisions_left).toBe(1)
  })

  it('refuses request_changes at the revision limit (409 revision_limit_reached)', async () => {
    const d = await submitted(env, { revision_limit: 1 })
    ok(await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/request_changes`, { message: 'once' }))
    await submit(env, d, d.ids[0]!)
    expectError(
      await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/request_changes`, { message: 'twice' }),
      409,
      'revision_limit_reached',
    )
    expectError(
      await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/request_changes`, {}),
      400,
      'parameter_missing',
      'message',
    )
    const zero = await submitted(env, { revision_limit: 0 })
    expectError(
      await post(env, zero.client.token, `/v1/milestones/${zero.ids[0]}/request_changes`, { message: 'x' }),
      409,
      'revision_limit_reached',
    )
  })

  it('approves in full: released, 10% service fee deducted, held 5 days, then available', async () => {
    const d = await submitted(env, {}, [100_000])
    const before = await revenue(env, admin.token)
    const m = ok(await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/approve`, { message: 'great' }))
    expect(m).toMatchObject({
      state: 'released',
      escrow_amount: 0,
      escrow_fee_amount: 0,
      released_amount: 100_000,
      refunded_amount: 0,
      review_deadline: null,
      // the client's message reaches the freelancer with the milestone
      approval: { message: 'great', approved_at: expect.any(String) },
    })
    expect(await balance(env, d.freelancer.token)).toEqual({ available: 0, pending: 90_000 })
    expect((await revenue(env, admin.token)) - before).toBe(15_000)
    const c = await contractOf(env, d.client.token, d.cid)
    expect(c.status).toBe('completed')
    expect(c.totals).toMatchObject({ released: 100_000, in_escrow: 0 })
    expect((await eventTypes(env, d.client.token, d.cid)).slice(0, 2).sort()).toEqual([
      'contract.completed',
      'milestone.released',
    ])
    // the client's message is kept with the approval's audit record
    const records = (await env.rt.store.db.selectFrom('audit_log').select('record').execute()).map(
      (r) => JSON.parse(r.record) as { action: string; target: string; data: { message?: string } },
    )
    expect(
      records.filter((r) => r.target === d.cid && r.action === 'milestone.approve').map((r) => r.data.message),
    ).toEqual(['great'])
    await advance(env, 5 * DAY - 1)
    expect(await balance(env, d.freelancer.token)).toEqual({ available: 0, pending: 90_000 })
    await advance(env, 1)
    expect(await balance(env, d.freelancer.token)).toEqual({ available: 90_000, pending: 0 })
    expect((await eventTypes(env, d.freelancer.token))[0]).toBe('balance.available')
    expect(await eventTypes(env, d.client.token)).not.toContain('balance.available')
    // the event tells the balances after the hold is over, not before
    const [event] = ok(await get(env, d.freelancer.token, '/v1/events?limit=1')).data as { data: { object: unknown } }[]
    expect(event!.data.object).toMatchObject({ object: 'balance', available: 90_000, pending: 0, amount: 90_000 })
  })

  it('approves part: the rest becomes a refund request; accepting it refunds principal and its fee', async () => {
    const d = await submitted(env, {}, [100_000])
    const m = ok(
      await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/approve`, { amount: 60_000, message: 'Half done.' }),
    )
    // a partial approval's message is the reason of its refund request, not an approval of the milestone
    expect(m.approval).toBeNull()
    expect(
      (await contractOf(env, d.client.token, d.cid)).refund_requests.map((r: { reason: string }) => r.reason),
    ).toEqual(['Half done.'])
    expect(m).toMatchObject({
      state: 'refund_requested',
      released_amount: 60_000,
      escrow_amount: 40_000,
      escrow_fee_amount: 2_000,
    })
    expect(await balance(env, d.freelancer.token)).toEqual({ available: 0, pending: 54_000 })
    const rr = ok(await get(env, d.freelancer.token, `/v1/refund_requests/${m.refund_request_id}`))
    expect(rr).toMatchObject({
      object: 'refund_request',
      milestone_id: d.ids[0],
      amount: 40_000,
      status: 'open',
      source: 'partial_approve',
    })
    const accepted = ok(await post(env, d.freelancer.token, `/v1/refund_requests/${rr.id}/accept`))
    expect(accepted.status).toBe('accepted')
    expect(await milestone(env, d.client.token, d.ids[0]!)).toMatchObject({
      state: 'released',
      released_amount: 60_000,
      refunded_amount: 40_000,
      escrow_amount: 0,
    })
    expect(await balance(env, d.client.token)).toEqual({ available: 42_000, pending: 0 })
    expect((await contractOf(env, d.client.token, d.cid)).status).toBe('completed')
  })

  it('approves with a bonus: charged with the client fee (credit first), paid less the service fee', async () => {
    const d = await funded(env, {}, [100_000])
    const before = await revenue(env, admin.token)
    const m = ok(await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/approve`, { bonus: 10_000 }))
    expect(m).toMatchObject({ state: 'released', released_amount: 100_000, bonus_amount: 10_000 })
    expect(await balance(env, d.freelancer.token)).toEqual({ available: 0, pending: 90_000 + 9_000 })
    expect((await revenue(env, admin.token)) - before).toBe(15_000 + 1_500)
    expect((await contractOf(env, d.client.token, d.cid)).totals.bonus).toBe(10_000)
  })

  it('validates approve amounts against the escrow', async () => {
    const d = await submitted(env, {}, [100_000])
    const url = `/v1/milestones/${d.ids[0]}/approve`
    const over = await post(env, d.client.token, url, { amount: 100_001 })
    expectError(over, 400, 'amount_invalid', 'amount')
    expect(over.body.error.message).toBe(
      'The amount must be between 0 and the USD 1,000.00 (100000 minor units) held in escrow.',
    )
    expectError(await post(env, d.client.token, url, { amount: 0 }), 400, 'amount_invalid', 'amount')
    expectError(await post(env, d.client.token, url, { amount: 10.5 }), 400, 'amount_invalid', 'amount')
    expectError(await post(env, d.client.token, url, { bonus: -1 }), 400, 'amount_invalid', 'bonus')
    expectError(
      await post(env, d.client.token, url, { accepted_entries: [1] }),
      400,
      'parameter_invalid',
      'accepted_entries',
    )
    expectError(await post(env, d.client.token, url, { rest: 'rework' }), 400, 'parameter_invalid', 'rest')
    expect((await milestone(env, d.client.token, d.ids[0]!)).state).toBe('submitted')
  })

  it('releases a deposit milestone as soon as it is funded', async () => {
    const d = await contract(env, {
      milestones: [
        { title: 'Deposit', amount: 20_000, deposit: true },
        { title: 'Work', amount: 80_000 },
      ],
    })
    const m = ok(await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/fund`))
    expect(m).toMatchObject({ deposit: true, state: 'released', released_amount: 20_000, escrow_amount: 0 })
    expect(await balance(env, d.freelancer.token)).toEqual({ available: 0, pending: 18_000 })
    expect((await contractOf(env, d.client.token, d.cid)).status).toBe('active')
  })

  it('auto-releases at the review deadline with reminders 72 h and 24 h before (skipped when too early)', async () => {
    const long = await submitted(env, { review_days: 5 }, [50_000])
    const short = await submitted(env, { review_days: 2 }, [50_000])
    const one = await submitted(env, { review_days: 1 }, [50_000])
    await advance(env, 5 * DAY)
    const count = (types: string[], t: string) => types.filter((x) => x === t).length
    const lt = await eventTypes(env, long.freelancer.token, long.cid)
    expect(count(lt, 'milestone.review_reminder')).toBe(2)
    expect(lt[0]).toBe('contract.completed')
    expect(lt).toContain('milestone.auto_released')
    expect(count(await eventTypes(env, short.client.token, short.cid), 'milestone.review_reminder')).toBe(1)
    expect(count(await eventTypes(env, one.client.token, one.cid), 'milestone.review_reminder')).toBe(0)
    for (const d of [long, short, one]) {
      expect(await milestone(env, d.client.token, d.ids[0]!)).toMatchObject({
        state: 'released',
        released_amount: 50_000,
      })
      expect(
        (await balance(env, d.freelancer.token)).pending + (await balance(env, d.freelancer.token)).available,
      ).toBe(45_000)
    }
  })

  it('does not auto-release while changes are requested (the clock stops)', async () => {
    const d = await submitted(env, { review_days: 2 })
    ok(await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/request_changes`, { message: 'no' }))
    await advance(env, 10 * DAY)
    expect((await milestone(env, d.client.token, d.ids[0]!)).state).toBe('changes_requested')
  })

  it('by_entry: entries delivered and accepted one by one (rest "rework"), paid per unit', async () => {
    const d = await contract(env, {
      payment_mode: 'by_entry',
      unit_name: 'article',
      unit_price: 1_000,
      milestones: [{ title: 'Articles', entries: 5 }],
    })
    await fund(env, d)
    const id = d.ids[0]!
    expectError(
      await post(env, d.freelancer.token, `/v1/milestones/${id}/submit`, { message: 'x', entries: [6] }),
      400,
      'parameter_invalid',
      'entries',
    )
    expect((await submit(env, d, id, { message: 'first two', entries: [2, 1] })).submission.entries).toEqual([1, 2])
    expectError(
      await post(env, d.client.token, `/v1/milestones/${id}/approve`, { amount: 2_000 }),
      400,
      'parameter_invalid',
      'amount',
    )
    const m = ok(
      await post(env, d.client.token, `/v1/milestones/${id}/approve`, {
        accepted_entries: [1, 2],
        rest: 'rework',
        message: 'Articles 3 to 5 need sources.',
      }),
    )
    expect(m.change_request.message).toBe('Articles 3 to 5 need sources.')
    expect(m).toMatchObject({
      state: 'changes_requested',
      accepted_entries: [1, 2],
      released_amount: 2_000,
      escrow_amount: 3_000,
      revisions_used: 1,
    })
    expect(await balance(env, d.freelancer.token)).toEqual({ available: 0, pending: 1_800 })
    expectError(
      await post(env, d.freelancer.token, `/v1/milestones/${id}/submit`, { message: 'again', entries: [1] }),
      400,
      'parameter_invalid',
      'entries',
    )
    expect((await submit(env, d, id, { message: 'the rest' })).submission.entries).toEqual([3, 4, 5])
    const done = ok(await post(env, d.client.token, `/v1/milestones/${id}/approve`))
    expect(done).toMatchObject({
      state: 'released',
      released_amount: 5_000,
      escrow_amount: 0,
      accepted_entries: [1, 2, 3, 4, 5],
    })
    expect(await balance(env, d.freelancer.token)).toEqual({ available: 0, pending: 4_500 })
  })
})
