/** Events and webhooks (SPEC §9): my events only, filters, pagination; endpoints CRUD, deliveries, redelivery. */
import { createHmac } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EVENT_TYPES } from '../../src/domain/types.ts'
import { verifySignature } from '../../src/jobs/webhook-signature.ts'
import { advance, call, DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import { contract, expectError, fund, get, ok, post, user } from './helpers.ts'

describe.each(DATABASES)('events and webhooks on %s', (kind) => {
  let env: TestEnv
  let hook: Server
  let hookUrl: string
  const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = []
  beforeAll(async () => {
    env = await startEnv(kind)
    hook = createServer((req, res) => {
      let body = ''
      req.on('data', (c) => {
        body += c
      })
      req.on('end', () => {
        received.push({ headers: req.headers, body })
        res.writeHead(200).end('ok')
      })
    })
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r))
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`
  })
  afterAll(async () => {
    await env.close()
    await new Promise((r) => hook.close(r))
  })

  it('lists only my events, newest first, with the event shape', async () => {
    const d = await contract(env, {}, [10_000, 20_000])
    await fund(env, d)
    const s = await user(env, 'stranger')
    const mine = ok(await get(env, d.client.token, '/v1/events'))
    expect(mine).toMatchObject({ object: 'list', has_more: false })
    expect(mine.data.map((e: { type: string }) => e.type)).toEqual([
      'milestone.funded',
      'milestone.funded',
      'contract.created',
      'offer.accepted',
      'offer.created',
    ])
    const e = mine.data[0]
    expect(e).toMatchObject({
      object: 'event',
      type: 'milestone.funded',
      data: { object: { object: 'milestone', id: d.ids[1], state: 'funded' } },
    })
    expect(e.id).toMatch(/^evt_/)
    expect(new Date(e.created_at).toISOString()).toBe(e.created_at)
    expect(ok(await get(env, d.freelancer.token, '/v1/events')).data.map((x: { id: string }) => x.id)).toEqual(
      mine.data.map((x: { id: string }) => x.id),
    )
    expect(ok(await get(env, s.token, '/v1/events')).data).toEqual([])
    expectError(await get(env, undefined, '/v1/events'), 401, 'authentication_required')
    // one event by id, exactly as listed (and sent), to each party who received it; 404 to anyone else
    for (const who of [d.client, d.freelancer]) expect(ok(await get(env, who.token, `/v1/events/${e.id}`))).toEqual(e)
    expectError(await get(env, s.token, `/v1/events/${e.id}`), 404, 'resource_missing')
    expectError(await get(env, d.client.token, '/v1/events/evt_doesnotexist'), 404, 'resource_missing')
  })

  it('filters by type (exact or prefix.*) and contract_id, and paginates with starting_after', async () => {
    const a = await contract(env, {}, [10_000])
    const b = await contract(env, {}, [10_000])
    // a's client also has a second contract (with b's freelancer); b's contract is none of its business
    const o = ok(
      await post(env, a.client.token, '/v1/offers', {
        role: 'client',
        counterparty_email: b.freelancer.email,
        title: 'Two',
        currency: 'USD',
        payment_mode: 'by_milestone',
        milestones: [{ title: 's', amount: 5_000 }],
      }),
      201,
    )
    const second = ok(await post(env, b.freelancer.token, `/v1/offers/${o.id}/accept`, { revision: 1 })).contract_id
    await fund(env, a)
    const t = a.client.token
    expect(
      ok(await get(env, t, '/v1/events?type=milestone.funded')).data.map(
        (e: { data: { object: { id: string } } }) => e.data.object.id,
      ),
    ).toEqual([a.ids[0]])
    expect(ok(await get(env, t, '/v1/events?type=offer.*')).data.map((e: { type: string }) => e.type)).toEqual([
      'offer.accepted',
      'offer.created',
      'offer.accepted',
      'offer.created',
    ])
    expect(ok(await get(env, t, `/v1/events?contract_id=${second}`)).data.map((e: { type: string }) => e.type)).toEqual(
      ['contract.created'],
    )
    expect(ok(await get(env, t, `/v1/events?contract_id=${a.cid}&type=contract.created`)).data).toHaveLength(1)
    expect(ok(await get(env, t, `/v1/events?contract_id=${b.cid}`)).data).toEqual([])
    const all = ok(await get(env, t, '/v1/events')).data.map((e: { id: string }) => e.id)
    expect(all).toHaveLength(7)
    const seen: string[] = []
    let after = ''
    for (let page = 0; page < 5; page++) {
      const p = ok(await get(env, t, `/v1/events?limit=3${after ? `&starting_after=${after}` : ''}`))
      seen.push(...p.data.map((e: { id: string }) => e.id))
      if (!p.has_more) break
      after = p.data.at(-1).id
    }
    expect(seen).toEqual(all)
  })

  it('creates a webhook endpoint (201, secret shown once), lists it without the secret, deletes it', async () => {
    const u = await user(env)
    const w = ok(
      await post(env, u.token, '/v1/webhook_endpoints', {
        url: hookUrl,
        enabled_events: ['milestone.funded', 'dispute.opened'],
      }),
      201,
    )
    expect(w).toMatchObject({
      object: 'webhook_endpoint',
      url: hookUrl,
      enabled_events: ['milestone.funded', 'dispute.opened'],
      enabled: true,
    })
    expect(w.id).toMatch(/^whe_/)
    expect(w.secret).toMatch(/^whsec_/)
    const list = ok(await get(env, u.token, '/v1/webhook_endpoints'))
    expect(list).toMatchObject({ object: 'list', has_more: false })
    expect(list.data.map((x: { id: string }) => x.id)).toEqual([w.id])
    expect(list.data[0].secret).toBeUndefined()
    expect(JSON.stringify(list)).not.toContain(w.secret)
    const one = ok(await get(env, u.token, `/v1/webhook_endpoints/${w.id}`))
    expect(one).toEqual(list.data[0])
    const other = await user(env)
    expect(ok(await get(env, other.token, '/v1/webhook_endpoints')).data).toEqual([])
    expectError(
      await call(env, 'DELETE', `/v1/webhook_endpoints/${w.id}`, { token: other.token }),
      404,
      'resource_missing',
    )
    expectError(await get(env, other.token, `/v1/webhook_endpoints/${w.id}/deliveries`), 404, 'resource_missing')
    expectError(await get(env, other.token, `/v1/webhook_endpoints/${w.id}`), 404, 'resource_missing')
    expect(ok(await call(env, 'DELETE', `/v1/webhook_endpoints/${w.id}`, { token: u.token }))).toMatchObject({
      id: w.id,
      deleted: true,
    })
    expect(ok(await get(env, u.token, '/v1/webhook_endpoints')).data).toEqual([])
    expectError(await call(env, 'DELETE', `/v1/webhook_endpoints/${w.id}`, { token: u.token }), 404, 'resource_missing')
    expectError(await get(env, u.token, `/v1/webhook_endpoints/${w.id}`), 404, 'resource_missing')
  })

  it('validates webhook endpoints', async () => {
    const u = await user(env)
    const url = '/v1/webhook_endpoints'
    expectError(
      await post(env, u.token, url, { url: 'ftp://example.com/x', enabled_events: ['*'] }),
      400,
      'parameter_invalid',
      'url',
    )
    expectError(
      await post(env, u.token, url, { url: 'not a url at all', enabled_events: ['*'] }),
      400,
      'parameter_invalid',
      'url',
    )
    expectError(
      await post(env, u.token, url, { url: 'https://user:pw@example.com/x', enabled_events: ['*'] }),
      400,
      'parameter_invalid',
      'url',
    )
    expectError(
      await post(env, u.token, url, { url: hookUrl, enabled_events: [] }),
      400,
      'parameter_invalid',
      'enabled_events',
    )
    expectError(
      await post(env, u.token, url, { url: hookUrl, enabled_events: ['Not An Event'] }),
      400,
      'parameter_invalid',
      'enabled_events[0]',
    )
    // only the event types there are (SPEC §9): an endpoint for a made-up one would never hear anything
    expectError(
      await post(env, u.token, url, { url: hookUrl, enabled_events: ['milestone.funded', 'milestone.paid'] }),
      400,
      'parameter_invalid',
      'enabled_events[1]',
    )
    ok(await post(env, u.token, url, { url: hookUrl, enabled_events: [...EVENT_TYPES] }), 201)
    // fields the endpoint does not keep are refused, not dropped
    expectError(
      await post(env, u.token, url, { url: hookUrl, enabled_events: ['*'], description: 'billing system' }),
      400,
      'parameter_unknown',
      'description',
    )
    expectError(await post(env, u.token, url, { url: hookUrl }), 400, 'parameter_missing', 'enabled_events')
    expectError(
      await post(env, u.token, url, { url: hookUrl, enabled_events: ['*'], secret: 'mine' }),
      400,
      'parameter_unknown',
      'secret',
    )
    expectError(
      await post(env, undefined, url, { url: hookUrl, enabled_events: ['*'] }),
      401,
      'authentication_required',
    )
    expectError(await get(env, undefined, url), 401, 'authentication_required')
  })

  it('refuses private webhook URLs unless TRANCHE_WEBHOOK_ALLOW_PRIVATE is set', async () => {
    const strict = await startEnv(kind, { TRANCHE_WEBHOOK_ALLOW_PRIVATE: '' })
    try {
      const u = await user(strict)
      for (const bad of [
        'http://127.0.0.1:8080/x',
        'http://10.1.2.3/x',
        'http://192.168.0.1/x',
        'http://[::1]/x',
        'http://169.254.169.254/latest',
      ]) {
        expectError(
          await post(strict, u.token, '/v1/webhook_endpoints', { url: bad, enabled_events: ['*'] }),
          400,
          'parameter_invalid',
          'url',
        )
      }
    } finally {
      await strict.close()
    }
  })

  it('changes an endpoint (PATCH): URL, events, and disabled — no new deliveries, pending ones skipped', async () => {
    const d = await contract(env, {}, [10_000, 20_000])
    const t = d.freelancer.token
    const w = ok(await post(env, t, '/v1/webhook_endpoints', { url: hookUrl, enabled_events: ['*'] }), 201)
    const patch = (body: unknown, token = t) => call(env, 'PATCH', `/v1/webhook_endpoints/${w.id}`, { token, body })
    const deliveries = async () =>
      ok(await get(env, t, `/v1/webhook_endpoints/${w.id}/deliveries`)).data as { status: string }[]

    await fund(env, d, [d.ids[0]!]) // pending while the endpoint is enabled
    expect((await deliveries()).map((x) => x.status)).toEqual(['pending'])
    expect(ok(await patch({ enabled: false }))).toMatchObject({ id: w.id, enabled: false, enabled_events: ['*'] })
    await fund(env, d, [d.ids[1]!]) // while disabled: nothing is logged
    expect(await deliveries()).toHaveLength(1)
    await env.rt.worker.dispatchDeliveries()
    let statuses: string[] = []
    for (let i = 0; i < 100 && statuses[0] !== 'skipped'; i++) {
      await new Promise((r) => setTimeout(r, 10))
      statuses = (await deliveries()).map((x) => x.status)
    }
    expect(statuses).toEqual(['skipped'])

    const again = ok(await patch({ enabled: true, enabled_events: ['milestone.*'], url: `${hookUrl}?v=2` }))
    expect(again).toMatchObject({ enabled: true, enabled_events: ['milestone.*'], url: `${hookUrl}?v=2` })
    expect(ok(await get(env, t, `/v1/webhook_endpoints/${w.id}`))).toEqual(again)
    expect(ok(await patch({}))).toEqual(again) // nothing to change
    // refused like a new endpoint, naming the field, and changing nothing
    expectError(await patch({ url: 'ftp://example.com/x' }), 400, 'parameter_invalid', 'url')
    expectError(await patch({ enabled_events: ['milestone.paid'] }), 400, 'parameter_invalid', 'enabled_events[0]')
    expectError(await patch({ secret: 'mine' }), 400, 'parameter_unknown', 'secret')
    expect(ok(await get(env, t, `/v1/webhook_endpoints/${w.id}`))).toEqual(again)
    // someone else's endpoint does not exist for them
    expectError(await patch({ enabled: false }, d.client.token), 404, 'resource_missing')
    ok(await call(env, 'DELETE', `/v1/webhook_endpoints/${w.id}`, { token: t }))
    expectError(await patch({ enabled: true }), 404, 'resource_missing')
  })

  it('rolls an endpoint secret: both sign until the old one expires, then only the new one', async () => {
    const d = await contract(env, {}, [10_000, 20_000, 30_000])
    const t = d.freelancer.token
    const w = ok(
      await post(env, t, '/v1/webhook_endpoints', { url: hookUrl, enabled_events: ['milestone.funded'] }),
      201,
    )
    const roll = (body: unknown, token = t) => post(env, token, `/v1/webhook_endpoints/${w.id}/roll_secret`, body)
    /** funds the i-th milestone and returns the signature header of its delivery */
    const delivered = async (i: number) => {
      received.length = 0
      await fund(env, d, [d.ids[i]!])
      await env.rt.worker.dispatchDeliveries()
      for (let k = 0; k < 100 && received.length < 1; k++) await new Promise((r) => setTimeout(r, 20))
      expect(received).toHaveLength(1)
      return { header: String(received[0]!.headers['tranche-signature']), body: received[0]!.body }
    }
    const valid = (secret: string, got: { header: string; body: string }) =>
      verifySignature(secret, got.body, got.header, Math.floor(Date.now() / 1000))

    expect(w.previous_secret_expires_at).toBeNull()
    const rolled = ok(await roll({ keep_hours: 1 }))
    expect(rolled).toMatchObject({ id: w.id, object: 'webhook_endpoint', enabled: true })
    // the answer says until when the old secret signs too (the test clock stands still: an hour after creation)
    expect(Date.parse(rolled.previous_secret_expires_at) - Date.parse(w.created_at)).toBe(3_600_000)
    const { secret: _, ...shown } = rolled
    expect(ok(await get(env, t, `/v1/webhook_endpoints/${w.id}`))).toEqual(shown)
    expect(rolled.secret).toMatch(/^whsec_/)
    expect(rolled.secret).not.toBe(w.secret)
    const both = await delivered(0)
    expect(both.header.match(/v1=/g)).toHaveLength(2)
    expect([valid(rolled.secret, both), valid(w.secret, both)]).toEqual([true, true])

    await advance(env, 3_601) // the old secret's hour is over
    const onlyNew = await delivered(1)
    expect(onlyNew.header.match(/v1=/g)).toHaveLength(1)
    expect([valid(rolled.secret, onlyNew), valid(w.secret, onlyNew)]).toEqual([true, false])

    const now = ok(await roll({ keep_hours: 0 })) // the old one stops at once
    expect(now.previous_secret_expires_at).toBeNull()
    const last = await delivered(2)
    expect([valid(now.secret, last), valid(rolled.secret, last)]).toEqual([true, false])

    expectError(await roll({ keep_hours: 73 }), 400, 'parameter_invalid', 'keep_hours')
    expectError(await roll({}, d.client.token), 404, 'resource_missing')
  })

  it('logs deliveries for matching events, delivers them signed, and redelivers on request (202)', async () => {
    const d = await contract(env, {}, [10_000])
    const all = ok(
      await post(env, d.freelancer.token, '/v1/webhook_endpoints', { url: hookUrl, enabled_events: ['*'] }),
      201,
    )
    const some = ok(
      await post(env, d.freelancer.token, '/v1/webhook_endpoints', {
        url: hookUrl,
        enabled_events: ['milestone.submitted'],
      }),
      201,
    )
    // groups: every type of an object, as given (`milestone.*`), not expanded when stored
    const group = ok(
      await post(env, d.freelancer.token, '/v1/webhook_endpoints', {
        url: hookUrl,
        enabled_events: ['milestone.*'],
      }),
      201,
    )
    expect(group.enabled_events).toEqual(['milestone.*'])
    const otherGroup = ok(
      await post(env, d.freelancer.token, '/v1/webhook_endpoints', { url: hookUrl, enabled_events: ['contract.*'] }),
      201,
    )
    await fund(env, d)
    const viaGroup = ok(await get(env, d.freelancer.token, `/v1/webhook_endpoints/${group.id}/deliveries`)).data
    expect(viaGroup).toHaveLength(1)
    expect(ok(await get(env, d.freelancer.token, `/v1/webhook_endpoints/${otherGroup.id}/deliveries`)).data).toEqual([])
    for (const id of [group.id, otherGroup.id])
      ok(await call(env, 'DELETE', `/v1/webhook_endpoints/${id}`, { token: d.freelancer.token }))
    const log = ok(await get(env, d.freelancer.token, `/v1/webhook_endpoints/${all.id}/deliveries`))
    expect(log).toMatchObject({ object: 'list', has_more: false })
    expect(log.data).toHaveLength(1)
    const funded = ok(await get(env, d.freelancer.token, '/v1/events?type=milestone.funded')).data[0]
    expect(log.data[0]).toMatchObject({
      object: 'webhook_delivery',
      endpoint_id: all.id,
      event_id: funded.id,
      status: 'pending',
      attempts: 0,
    })
    expect(log.data[0].id).toMatch(/^whd_/)
    expect(ok(await get(env, d.freelancer.token, `/v1/webhook_endpoints/${some.id}/deliveries`)).data).toEqual([])
    // the client has no endpoint: nothing is logged for it
    expect(ok(await get(env, d.client.token, '/v1/webhook_endpoints')).data).toEqual([])

    received.length = 0
    await env.rt.worker.dispatchDeliveries()
    for (let i = 0; i < 100 && received.length < 1; i++) await new Promise((r) => setTimeout(r, 20))
    expect(received).toHaveLength(1)
    const got = received[0]!
    expect(JSON.parse(got.body)).toMatchObject({ id: funded.id, object: 'event', type: 'milestone.funded' })
    const sig = String(got.headers['tranche-signature'])
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig)
    expect(m).not.toBeNull()
    expect(m![2]).toBe(createHmac('sha256', all.secret).update(`${m![1]}.${got.body}`).digest('hex'))
    let status = ''
    for (let i = 0; i < 100 && status !== 'delivered'; i++) {
      await new Promise((r) => setTimeout(r, 20))
      status = ok(await get(env, d.freelancer.token, `/v1/webhook_endpoints/${all.id}/deliveries`)).data[0].status
    }
    expect(status).toBe('delivered')

    const retried = await post(env, d.freelancer.token, `/v1/webhook_deliveries/${log.data[0].id}/retry`)
    expect(retried.status).toBe(202)
    expect(retried.body).toMatchObject({ id: log.data[0].id, status: 'pending' })
    expectError(
      await post(env, d.client.token, `/v1/webhook_deliveries/${log.data[0].id}/retry`),
      404,
      'resource_missing',
    )
    expectError(
      await post(env, d.freelancer.token, '/v1/webhook_deliveries/whd_doesnotexist/retry'),
      404,
      'resource_missing',
    )
    expectError(
      await post(env, d.freelancer.token, `/v1/webhook_deliveries/${log.data[0].id}/retry`, { now: true }),
      400,
      'parameter_unknown',
      'now',
    )
    expectError(
      await post(env, undefined, `/v1/webhook_deliveries/${log.data[0].id}/retry`),
      401,
      'authentication_required',
    )
    received.length = 0
    await env.rt.worker.dispatchDeliveries()
    for (let i = 0; i < 100 && received.length < 1; i++) await new Promise((r) => setTimeout(r, 20))
    expect(received.map((r) => JSON.parse(r.body).id)).toEqual([funded.id])
  })

  it('paginates the delivery log', async () => {
    const d = await contract(env, {}, [10_000, 10_000, 10_000])
    const w = ok(
      await post(env, d.client.token, '/v1/webhook_endpoints', { url: hookUrl, enabled_events: ['milestone.funded'] }),
      201,
    )
    await fund(env, d)
    const p1 = ok(await get(env, d.client.token, `/v1/webhook_endpoints/${w.id}/deliveries?limit=2`))
    expect(p1.data).toHaveLength(2)
    expect(p1.has_more).toBe(true)
    const p2 = ok(
      await get(
        env,
        d.client.token,
        `/v1/webhook_endpoints/${w.id}/deliveries?limit=2&starting_after=${p1.data[1].id}`,
      ),
    )
    expect(p2.data).toHaveLength(1)
    expect(p2.has_more).toBe(false)
    expect(new Set([...p1.data, ...p2.data].map((x: { event_id: string }) => x.event_id)).size).toBe(3)
  })
})
