/** Amendments (SPEC §5): propose add/edit/remove, accept, reject, withdraw; funded milestones are frozen. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminUser, DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import { contract, contractOf, eventTypes, expectError, fund, get, ok, type Party, post, user } from './helpers.ts'

describe.each(DATABASES)('amendments on %s', (kind) => {
  let env: TestEnv
  let admin: Party
  beforeAll(async () => {
    env = await startEnv(kind)
    admin = (await adminUser(env)) as Party
  })
  afterAll(async () => env.close())

  it('proposes (201) and the other party accepts: milestones added, edited, removed (cancelled)', async () => {
    const d = await contract(env, {}, [10_000, 20_000, 30_000])
    const body = {
      add: [{ title: 'Extra', description: 'more work', amount: 15_000, due_date: '2030-01-31' }],
      edit: [{ id: d.ids[0], title: 'Renamed', amount: 12_000 }],
      remove: [d.ids[2]],
      message: 'scope change',
    }
    const a = ok(await post(env, d.freelancer.token, `/v1/contracts/${d.cid}/amendments`, body), 201)
    expect(a).toMatchObject({
      object: 'amendment',
      contract_id: d.cid,
      proposed_by: d.freelancer.id,
      status: 'proposed',
      remove: [d.ids[2]],
    })
    expect(a.id).toMatch(/^amd_/)
    expect(a.add).toEqual([
      {
        title: 'Extra',
        description: 'more work',
        acceptance_criteria: '',
        amount: 15_000,
        due_date: '2030-01-31',
        entries: null,
      },
    ])
    expect(a.edit).toEqual([{ milestone_id: d.ids[0], title: 'Renamed', amount: 12_000 }])
    expect(ok(await get(env, d.client.token, `/v1/amendments/${a.id}`)).status).toBe('proposed')
    // nothing changes before acceptance
    expect((await contractOf(env, d.client.token, d.cid)).milestones).toHaveLength(3)
    expectError(await post(env, d.freelancer.token, `/v1/amendments/${a.id}/accept`), 403, 'actor_not_allowed')
    const acc = ok(await post(env, d.client.token, `/v1/amendments/${a.id}/accept`))
    expect(acc).toMatchObject({ id: a.id, status: 'accepted' })
    expect(acc.decided_at).not.toBeNull()
    const c = await contractOf(env, d.client.token, d.cid)
    expect(
      c.milestones.map((m: { title: string; amount: number; state: string; position: number }) => [
        m.position,
        m.title,
        m.amount,
        m.state,
      ]),
    ).toEqual([
      [1, 'Renamed', 12_000, 'pending'],
      [2, 'Stage 2', 20_000, 'pending'],
      [3, 'Stage 3', 30_000, 'cancelled'],
      [4, 'Extra', 15_000, 'pending'],
    ])
    expect(c.milestones[3].due_date).toBe('2030-01-31')
    expect(c.totals.amount).toBe(12_000 + 20_000 + 15_000)
    expect(await eventTypes(env, d.freelancer.token, d.cid)).toEqual(
      expect.arrayContaining(['amendment.proposed', 'amendment.accepted']),
    )
  })

  it('rejects (the other party) and withdraws (the author only); then every answer is 409 naming the status', async () => {
    const d = await contract(env, {}, [10_000])
    const a = ok(
      await post(env, d.client.token, `/v1/contracts/${d.cid}/amendments`, { add: [{ title: 'B', amount: 5_000 }] }),
      201,
    )
    expectError(await post(env, d.client.token, `/v1/amendments/${a.id}/reject`), 403, 'actor_not_allowed')
    expect(ok(await post(env, d.freelancer.token, `/v1/amendments/${a.id}/reject`, { reason: 'no' })).status).toBe(
      'rejected',
    )
    const late = await post(env, d.freelancer.token, `/v1/amendments/${a.id}/accept`)
    expectError(late, 409, 'invalid_state_transition')
    expect(late.body.error.message).toContain('rejected')
    const b = ok(
      await post(env, d.client.token, `/v1/contracts/${d.cid}/amendments`, { add: [{ title: 'C', amount: 5_000 }] }),
      201,
    )
    expectError(await post(env, d.freelancer.token, `/v1/amendments/${b.id}/withdraw`), 403, 'actor_not_allowed')
    expect(ok(await post(env, d.client.token, `/v1/amendments/${b.id}/withdraw`)).status).toBe('withdrawn')
    const again = await post(env, d.client.token, `/v1/amendments/${b.id}/withdraw`)
    expectError(again, 409, 'invalid_state_transition')
    expect(again.body.error.message).toContain('withdrawn')
    expect((await contractOf(env, d.client.token, d.cid)).milestones).toHaveLength(1)
    expect(await eventTypes(env, d.freelancer.token, d.cid)).toEqual(
      expect.arrayContaining(['amendment.rejected', 'amendment.withdrawn']),
    )
  })

  it('refuses to edit or remove a funded milestone (409 milestone_frozen), at proposal and at acceptance', async () => {
    const d = await contract(env, {}, [10_000, 20_000])
    await fund(env, d, [d.ids[0]!])
    expectError(
      await post(env, d.client.token, `/v1/contracts/${d.cid}/amendments`, { edit: [{ id: d.ids[0], amount: 9_000 }] }),
      409,
      'milestone_frozen',
    )
    expectError(
      await post(env, d.client.token, `/v1/contracts/${d.cid}/amendments`, { remove: [d.ids[0]] }),
      409,
      'milestone_frozen',
    )
    const a = ok(
      await post(env, d.client.token, `/v1/contracts/${d.cid}/amendments`, {
        edit: [{ milestone_id: d.ids[1], amount: 25_000 }],
      }),
      201,
    )
    await fund(env, d, [d.ids[1]!])
    expectError(await post(env, d.freelancer.token, `/v1/amendments/${a.id}/accept`), 409, 'milestone_frozen')
    expect((await contractOf(env, d.client.token, d.cid)).milestones[1].amount).toBe(20_000)
  })

  it('validates amendments', async () => {
    const d = await contract(env, {}, [10_000])
    const url = `/v1/contracts/${d.cid}/amendments`
    expectError(await post(env, d.client.token, url, {}), 400, 'parameter_missing')
    expectError(await post(env, d.client.token, url, { add: [{ title: 'Small', amount: 499 }] }), 400, 'amount_invalid')
    expectError(
      await post(env, d.client.token, url, { add: [{ title: 'Zero', amount: 0 }] }),
      400,
      'amount_invalid',
      'add[0].amount',
    )
    expectError(
      await post(env, d.client.token, url, { edit: [{ id: d.ids[0], due_date: '2031-02-29' }] }),
      400,
      'parameter_invalid',
      'edit[0].due_date',
    )
    expectError(
      await post(env, d.client.token, url, { add: [{ title: 'Dep', amount: 1_000, deposit: true }] }),
      400,
      'terms_invalid',
      'add[0].deposit',
    )
    expectError(
      await post(env, d.client.token, url, { add: [{ title: 'x'.repeat(201), amount: 1_000 }] }),
      400,
      'parameter_invalid',
      'add[0].title',
    )
    expectError(
      await post(env, d.client.token, url, { edit: [{ title: 'no id' }] }),
      400,
      'parameter_missing',
      'edit[0].id',
    )
    expectError(await post(env, d.client.token, url, { add: [], colour: 'red' }), 400, 'parameter_unknown', 'colour')
    expectError(await post(env, d.client.token, url, { remove: ['ms_notinthiscontract'] }), 404, 'resource_missing')
    const p = await contract(env, { payment_mode: 'by_project' }, [10_000])
    expectError(
      await post(env, p.client.token, `/v1/contracts/${p.cid}/amendments`, { add: [{ title: 'B', amount: 5_000 }] }),
      400,
      'terms_invalid',
    )
  })

  it('names the request field in `param` for a line below the minimum (add[i].amount)', async () => {
    const d = await contract(env, {}, [10_000])
    const url = `/v1/contracts/${d.cid}/amendments`
    const body = {
      add: [
        { title: 'Fine', amount: 1_000 },
        { title: 'Small', amount: 499 },
      ],
    }
    expectError(await post(env, d.client.token, url, body), 400, 'amount_invalid', 'add[1].amount')
  })

  it('hides amendments from strangers (404), refuses the admin (403) and anonymous callers (401)', async () => {
    const d = await contract(env, {}, [10_000])
    const a = ok(
      await post(env, d.client.token, `/v1/contracts/${d.cid}/amendments`, { add: [{ title: 'B', amount: 5_000 }] }),
      201,
    )
    const s = await user(env, 'stranger')
    expectError(
      await post(env, s.token, `/v1/contracts/${d.cid}/amendments`, { add: [{ title: 'B', amount: 5_000 }] }),
      404,
      'resource_missing',
    )
    expectError(await get(env, s.token, `/v1/amendments/${a.id}`), 404, 'resource_missing')
    for (const verb of ['accept', 'reject', 'withdraw']) {
      expectError(await post(env, s.token, `/v1/amendments/${a.id}/${verb}`), 404, 'resource_missing')
      expectError(await post(env, undefined, `/v1/amendments/${a.id}/${verb}`), 401, 'authentication_required')
    }
    expectError(
      await post(env, admin.token, `/v1/contracts/${d.cid}/amendments`, { add: [{ title: 'B', amount: 5_000 }] }),
      403,
      'actor_not_allowed',
    )
    expect(ok(await get(env, admin.token, `/v1/amendments/${a.id}`)).id).toBe(a.id)
    expectError(await get(env, d.client.token, '/v1/amendments/amd_doesnotexist'), 404, 'resource_missing')
  })

  it('refuses amendments on an ended contract (409 naming the status)', async () => {
    const d = await contract(env, {}, [10_000])
    const a = ok(
      await post(env, d.client.token, `/v1/contracts/${d.cid}/amendments`, { add: [{ title: 'B', amount: 5_000 }] }),
      201,
    )
    ok(await post(env, d.client.token, `/v1/contracts/${d.cid}/end`))
    const res = await post(env, d.client.token, `/v1/contracts/${d.cid}/amendments`, {
      add: [{ title: 'C', amount: 5_000 }],
    })
    expectError(res, 409, 'invalid_state_transition')
    expect(res.body.error.message).toContain('ended')
    const acc = await post(env, d.freelancer.token, `/v1/amendments/${a.id}/accept`)
    expectError(acc, 409, 'invalid_state_transition')
    expect(acc.body.error.message).toContain('ended')
  })

  it('by_entry amendments compute amounts from entries', async () => {
    const d = await contract(env, {
      payment_mode: 'by_entry',
      unit_name: 'page',
      unit_price: 700,
      milestones: [{ title: 'P', entries: 10 }],
    })
    const a = ok(
      await post(env, d.client.token, `/v1/contracts/${d.cid}/amendments`, {
        add: [{ title: 'More', entries: 3 }],
        edit: [{ id: d.ids[0], entries: 12 }],
      }),
      201,
    )
    expect(a.add[0]).toMatchObject({ amount: 2_100, entries: 3 })
    expect(a.edit[0]).toMatchObject({ entries: 12, amount: 8_400 })
    ok(await post(env, d.freelancer.token, `/v1/amendments/${a.id}/accept`))
    const c = await contractOf(env, d.client.token, d.cid)
    expect(c.milestones.map((m: { amount: number; entries: number }) => [m.amount, m.entries])).toEqual([
      [8_400, 12],
      [2_100, 3],
    ])
  })
})
