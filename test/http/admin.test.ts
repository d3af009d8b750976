/** The admin's endpoints and the manual test clock (SPEC §2, §7, §10). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildServer } from '../../src/http/server.ts'
import { createRuntime } from '../../src/main.ts'
import { ADMIN, adminUser, DATABASES, silentLog, startEnv, type TestEnv } from '../support/harness.ts'
import { DAY, expectError, funded, get, milestone, ok, type Party, post, revenue, submitted, user } from './helpers.ts'

const ADMIN_GETS = ['/v1/admin/verify', '/v1/admin/revenue', '/v1/admin/disputes', '/v1/test_clock']

describe.each(DATABASES)('admin on %s', (kind) => {
  let env: TestEnv
  let admin: Party
  let plain: Party
  beforeAll(async () => {
    env = await startEnv(kind)
    admin = (await adminUser(env)) as Party
    plain = await user(env, 'plain')
  })
  afterAll(async () => env.close())

  it('creates the admin from TRANCHE_ADMIN_EMAIL / TRANCHE_ADMIN_PASSWORD', async () => {
    expect(ok(await get(env, admin.token, '/v1/me'))).toMatchObject({ email: ADMIN.email, is_admin: true })
  })

  it('does not make an admin of a user who signed up with TRANCHE_ADMIN_EMAIL first, and warns', async () => {
    const early = await user(env, 'early')
    const warnings: string[] = []
    const log = { ...silentLog, warn: (_: object, msg?: string) => void warnings.push(msg ?? '') }
    const config = { ...env.config, adminEmail: early.email, adminPassword: 'operator-password-1' }
    const rt2 = await createRuntime(config, { log, store: env.rt.store })
    try {
      expect(warnings).toEqual([expect.stringMatching(/TRANCHE_ADMIN_EMAIL belongs to a user who is not an admin/)])
      expect(ok(await get(env, early.token, '/v1/me')).is_admin).toBe(false)
    } finally {
      await rt2.worker.stop()
    }
  })

  it('refuses non-admins (403) and anonymous callers (401) on every admin endpoint', async () => {
    for (const url of ADMIN_GETS) {
      expectError(await get(env, plain.token, url), 403, 'admin_only')
      expectError(await get(env, undefined, url), 401, 'authentication_required')
    }
    expectError(await post(env, plain.token, '/v1/test_clock/advance', { seconds: 60 }), 403, 'admin_only')
    expectError(await post(env, undefined, '/v1/test_clock/advance', { seconds: 60 }), 401, 'authentication_required')
  })

  it('verifies the ledger invariants', async () => {
    const d = await submitted(env, {}, [10_000])
    ok(await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/approve`, { amount: 4_000 }))
    const v = ok(await get(env, admin.token, '/v1/admin/verify'))
    expect(v).toMatchObject({ object: 'verification', ok: true, problems: [] })
    expect(v.checked.entries).toBeGreaterThan(0)
  })

  it('reports platform revenue per currency (client fee + service fee of what is released)', async () => {
    const before = await revenue(env, admin.token, 'JPY')
    const d = await funded(env, { currency: 'JPY' }, [10_001])
    ok(await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/approve`))
    // service fee round_half_up(1000.1) = 1000; client fee round_half_up(500.05) = 500
    expect((await revenue(env, admin.token, 'JPY')) - before).toBe(1_500)
    const r = ok(await get(env, admin.token, '/v1/admin/revenue'))
    expect(r).toMatchObject({ object: 'list', has_more: false })
    expect(r.data).toEqual(expect.arrayContaining([{ object: 'revenue', currency: 'JPY', fees: 1_500 + before }]))
  })

  it('lists disputes for mediation, filtered by status, with pagination', async () => {
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      const d = await funded(env, {}, [10_000])
      ids.push(
        ok(
          await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/disputes`, {
            reason: `r${i}`,
            release_amount: 0,
          }),
          201,
        ).id,
      )
      if (i === 0) ok(await post(env, d.freelancer.token, `/v1/disputes/${ids[0]}/escalate`))
      await post(env, admin.token, '/v1/test_clock/advance', { seconds: 1 })
    }
    const all = ok(await get(env, admin.token, '/v1/admin/disputes?limit=100'))
    expect(all.object).toBe('list')
    expect(all.data.map((x: { id: string }) => x.id)).toEqual(expect.arrayContaining(ids))
    expect(all.data[0]).toMatchObject({ object: 'dispute' })
    const arb = ok(await get(env, admin.token, '/v1/admin/disputes?status=arbitration'))
    expect(arb.data.map((x: { id: string }) => x.id)).toContain(ids[0])
    expect(arb.data.every((x: { status: string }) => x.status === 'arbitration')).toBe(true)
    const p1 = ok(await get(env, admin.token, '/v1/admin/disputes?status=awaiting_response&limit=1'))
    expect(p1.data.map((x: { id: string }) => x.id)).toEqual([ids[2]])
    expect(p1.has_more).toBe(true)
    const p2 = ok(
      await get(env, admin.token, `/v1/admin/disputes?status=awaiting_response&limit=1&starting_after=${ids[2]}`),
    )
    expect(p2.data.map((x: { id: string }) => x.id)).toEqual([ids[1]])
  })

  it('goes on after a dispute that left the filtered status since the last page', async () => {
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      await post(env, admin.token, '/v1/test_clock/advance', { seconds: 1 })
      const d = await funded(env, {}, [10_000])
      const dsp = ok(
        await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/disputes`, { reason: 'late', release_amount: 0 }),
        201,
      )
      ok(await post(env, d.client.token, `/v1/disputes/${dsp.id}/escalate`))
      ids.push(dsp.id)
    }
    const [d1, d2, d3] = ids
    const page1 = ok(await get(env, admin.token, '/v1/admin/disputes?status=arbitration&limit=2'))
    expect(page1.data.map((x: { id: string }) => x.id)).toEqual([d3, d2])
    // the admin decides the last one of the page, then asks for the next page after it
    ok(await post(env, admin.token, `/v1/disputes/${d2}/decide`, { release_amount: 0, note: 'no delivery' }))
    const page2 = ok(await get(env, admin.token, `/v1/admin/disputes?status=arbitration&limit=1&starting_after=${d2}`))
    expect(page2.data.map((x: { id: string }) => x.id)).toEqual([d1])
    expectError(
      await get(env, admin.token, '/v1/admin/disputes?starting_after=dsp_nothing'),
      404,
      'resource_missing',
      'starting_after',
    )
  })

  it('reads and advances the test clock; due timers run before the call answers', async () => {
    const t0 = ok(await get(env, admin.token, '/v1/test_clock'))
    expect(t0.object).toBe('test_clock')
    const d = await submitted(env, { review_days: 1 }, [10_000])
    const t1 = ok(await post(env, admin.token, '/v1/test_clock/advance', { seconds: DAY }))
    expect(Date.parse(t1.now) - Date.parse(t0.now)).toBe(DAY * 1000)
    expect(ok(await get(env, admin.token, '/v1/test_clock')).now).toBe(t1.now)
    expect((await milestone(env, d.client.token, d.ids[0]!)).state).toBe('released')
    ok(await post(env, admin.token, '/v1/test_clock/advance', { seconds: 0 }))
    expectError(
      await post(env, admin.token, '/v1/test_clock/advance', { seconds: -1 }),
      400,
      'parameter_invalid',
      'seconds',
    )
    expectError(
      await post(env, admin.token, '/v1/test_clock/advance', { seconds: 1.5 }),
      400,
      'parameter_invalid',
      'seconds',
    )
    expectError(await post(env, admin.token, '/v1/test_clock/advance', {}), 400, 'parameter_missing', 'seconds')
    expectError(
      await post(env, admin.token, '/v1/test_clock/advance', { seconds: 1, to: 'x' }),
      400,
      'parameter_unknown',
      'to',
    )
  })

  it('is one clock for every server of the database: advanced through one, it is the time of all', async () => {
    // a second server with its own runtime (and clock) on the same database, as `tranche serve` run twice
    const rt2 = await createRuntime(env.config, { log: silentLog, store: env.rt.store })
    const env2: TestEnv = { ...env, rt: rt2, server: await buildServer(rt2.app, { worker: rt2.worker }) }
    try {
      await env2.server.ready()
      const before = ok(await get(env2, admin.token, '/v1/test_clock')).now
      const moved = ok(await post(env, admin.token, '/v1/test_clock/advance', { seconds: 3 * DAY })).now
      expect(Date.parse(moved) - Date.parse(before)).toBe(3 * DAY * 1000)
      expect(ok(await get(env2, admin.token, '/v1/test_clock')).now).toBe(moved)
      // and the commands it serves run at that time
      const d = await funded(env2, {}, [10_000])
      expect(Date.parse((await milestone(env2, d.client.token, d.ids[0]!)).funded_at)).toBeGreaterThanOrEqual(
        Date.parse(moved),
      )
      // advances through both at once add up, and the clock never goes back behind one already answered
      const t0 = Date.parse(ok(await get(env, admin.token, '/v1/test_clock')).now)
      const [a, b] = await Promise.all([
        post(env, admin.token, '/v1/test_clock/advance', { seconds: 10 * DAY }),
        post(env2, admin.token, '/v1/test_clock/advance', { seconds: DAY }),
      ])
      const days = (iso: string) => (Date.parse(iso) - t0) / 1000 / DAY
      // whichever went first answered its own step (10 or 1 day), the other the sum
      const [da, db] = [days(ok(a).now), days(ok(b).now)]
      expect(da === 10 ? [da, db] : [db, da]).toEqual(da === 10 ? [10, 11] : [1, 11])
      expect(days(ok(await get(env, admin.token, '/v1/test_clock')).now)).toBe(11)
      expect(days(ok(await get(env2, admin.token, '/v1/test_clock')).now)).toBe(11)
    } finally {
      await env2.server.close()
      await rt2.worker.stop()
    }
  })
})

describe.each(DATABASES)('test clock with the system clock on %s', (kind) => {
  let env: TestEnv
  beforeAll(async () => {
    env = await startEnv(kind, { TRANCHE_CLOCK: 'system' })
  })
  afterAll(async () => env.close())

  it('does not exist (404) unless TRANCHE_CLOCK=manual', async () => {
    const admin = await adminUser(env)
    expectError(await get(env, admin.token, '/v1/test_clock'), 404, 'resource_missing')
    expectError(await post(env, admin.token, '/v1/test_clock/advance', { seconds: 60 }), 404, 'resource_missing')
  })
})
