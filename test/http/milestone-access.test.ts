/** Who may do what on a milestone (SPEC §2, §5): 401 anonymous, 404 strangers, 403 the other role, 409 wrong state. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminUser, DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import { contract, type Deal, expectError, get, milestone, ok, type Party, post, user } from './helpers.ts'

type Who = 'client' | 'freelancer' | 'party'
const COMMANDS: { name: string; body: Record<string, unknown>; who: Who }[] = [
  { name: 'fund', body: {}, who: 'client' },
  { name: 'submit', body: { message: 'm' }, who: 'freelancer' },
  { name: 'request_changes', body: { message: 'm' }, who: 'client' },
  { name: 'approve', body: {}, who: 'client' },
  { name: 'request_refund', body: { reason: 'r' }, who: 'client' },
  { name: 'refund', body: {}, who: 'freelancer' },
  { name: 'disputes', body: { reason: 'r', release_amount: 0 }, who: 'party' },
]

describe.each(DATABASES)('milestone access on %s', (kind) => {
  let env: TestEnv
  let d: Deal
  let stranger: Party
  let admin: Party
  beforeAll(async () => {
    env = await startEnv(kind)
    d = await contract(env, {}, [100_000, 50_000])
    stranger = await user(env, 'stranger')
    admin = (await adminUser(env)) as Party
  })
  afterAll(async () => env.close())

  it('answers every milestone endpoint without credentials with 401', async () => {
    expectError(await get(env, undefined, `/v1/milestones/${d.ids[0]}`), 401, 'authentication_required')
    for (const c of COMMANDS)
      expectError(
        await post(env, undefined, `/v1/milestones/${d.ids[0]}/${c.name}`, c.body),
        401,
        'authentication_required',
      )
  })

  it('tells a stranger the milestone does not exist (404) for reads and every command', async () => {
    expectError(await get(env, stranger.token, `/v1/milestones/${d.ids[0]}`), 404, 'resource_missing')
    for (const c of COMMANDS)
      expectError(
        await post(env, stranger.token, `/v1/milestones/${d.ids[0]}/${c.name}`, c.body),
        404,
        'resource_missing',
      )
    expectError(await get(env, stranger.token, `/v1/contracts/${d.cid}`), 404, 'resource_missing')
    expect(ok(await get(env, stranger.token, '/v1/contracts')).data).toEqual([])
  })

  it('lets both parties and the admin read it', async () => {
    for (const t of [d.client.token, d.freelancer.token, admin.token]) {
      expect(await milestone(env, t, d.ids[0]!)).toMatchObject({
        id: d.ids[0],
        contract_id: d.cid,
        position: 1,
        state: 'pending',
      })
    }
  })

  it('refuses a command of the other role with 403 actor_not_allowed (the admin is no party either)', async () => {
    for (const c of COMMANDS.filter((x) => x.who !== 'party')) {
      const wrong = c.who === 'client' ? d.freelancer : d.client
      expectError(
        await post(env, wrong.token, `/v1/milestones/${d.ids[0]}/${c.name}`, c.body),
        403,
        'actor_not_allowed',
      )
      expectError(
        await post(env, admin.token, `/v1/milestones/${d.ids[0]}/${c.name}`, c.body),
        403,
        'actor_not_allowed',
      )
    }
    expectError(
      await post(env, admin.token, `/v1/milestones/${d.ids[0]}/disputes`, { reason: 'r', release_amount: 0 }),
      403,
      'actor_not_allowed',
    )
    expect((await milestone(env, d.client.token, d.ids[0]!)).state).toBe('pending')
  })

  it('refuses commands in the wrong state with 409 invalid_state_transition naming the state', async () => {
    for (const c of COMMANDS.filter((x) => x.name !== 'fund')) {
      const actor = c.who === 'freelancer' ? d.freelancer : d.client
      const res = await post(env, actor.token, `/v1/milestones/${d.ids[0]}/${c.name}`, c.body)
      expectError(res, 409, 'invalid_state_transition')
      expect(res.body.error.message).toContain('pending')
    }
    ok(await post(env, d.client.token, `/v1/milestones/${d.ids[1]}/fund`))
    const twice = await post(env, d.client.token, `/v1/milestones/${d.ids[1]}/fund`)
    expectError(twice, 409, 'invalid_state_transition')
    expect(twice.body.error.message).toContain('funded')
    ok(await post(env, d.client.token, `/v1/milestones/${d.ids[1]}/approve`))
    for (const c of COMMANDS) {
      const actor = c.who === 'freelancer' ? d.freelancer : d.client
      const res = await post(env, actor.token, `/v1/milestones/${d.ids[1]}/${c.name}`, c.body)
      expectError(res, 409, 'invalid_state_transition')
      expect(res.body.error.message).toContain('released')
    }
  })

  it('validates command bodies (unknown and missing fields, wrong types)', async () => {
    const url = (n: string) => `/v1/milestones/${d.ids[0]}/${n}`
    expectError(await post(env, d.client.token, url('fund'), { amount: 5 }), 400, 'parameter_unknown', 'amount')
    expectError(
      await post(env, d.client.token, url('fund'), { payment_method: 7 }),
      400,
      'parameter_invalid',
      'payment_method',
    )
    expectError(await post(env, d.freelancer.token, url('submit'), {}), 400, 'parameter_missing', 'message')
    expectError(
      await post(env, d.freelancer.token, url('submit'), { message: '' }),
      400,
      'parameter_invalid',
      'message',
    )
    expectError(
      await post(env, d.freelancer.token, url('submit'), { message: 'm', links: 'x' }),
      400,
      'parameter_invalid',
      'links',
    )
    expectError(await post(env, d.client.token, url('approve'), { rest: 'keep' }), 400, 'parameter_invalid', 'rest')
    expectError(
      await post(env, d.client.token, url('disputes'), { reason: 'r' }),
      400,
      'parameter_missing',
      'release_amount',
    )
    expectError(
      await post(env, d.client.token, url('disputes'), { reason: 'r', release_amount: -1 }),
      400,
      'amount_invalid',
      'release_amount',
    )
  })
})
