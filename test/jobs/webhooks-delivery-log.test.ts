/**
 * Webhook deliveries (SPEC §9) end to end: a real HTTP receiver on 127.0.0.1, a runtime from the harness (SQLite,
 * manual clock) with the worker's delivery loop running (webhooks-support.ts). Here: the signature, the delivery log
 * and manual redelivery. The rest is in the other `webhooks-*.test.ts` files.
 */
import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { verifySignature } from '../../src/jobs/webhook-signature.ts'
import { call, user } from '../support/harness.ts'
import { waitFor, webhookSuite } from './webhooks-support.ts'

describe('webhook deliveries', () => {
  const { receiver, open, subscriber, offer, deliveries } = webhookSuite()

  it('signs each delivery: Tranche-Signature t=…,v1=HMAC-SHA256(secret, "<t>.<raw body>")', async () => {
    const env = await open()
    const a = await subscriber('ok')
    const b = await user(env, 'other')
    const offerId = await offer(a, b)
    const [req] = await waitFor('the delivery', () => receiver.at(a.path).length >= 1 && receiver.at(a.path))
    const header = String(req!.headers['tranche-signature'])
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/)
    expect(req!.headers['content-type']).toBe('application/json')
    const nowSec = Math.floor(Date.now() / 1000)
    // the library check a receiver would use
    expect(verifySignature(a.secret, req!.body, header, nowSec)).toBe(true)
    // an independent HMAC over "<t>.<raw body>"
    const t = /t=(\d+)/.exec(header)![1]!
    expect(Math.abs(Number(t) - nowSec)).toBeLessThanOrEqual(5)
    const mac = createHmac('sha256', a.secret).update(`${t}.${req!.body}`).digest('hex')
    expect(header).toBe(`t=${t},v1=${mac}`)
    // the wrong secret, a changed body or an old stamp do not verify
    expect(verifySignature(`${a.secret}x`, req!.body, header, nowSec)).toBe(false)
    expect(verifySignature(a.secret, `${req!.body} `, header, nowSec)).toBe(false)
    expect(verifySignature(a.secret, req!.body, header, nowSec + 3600)).toBe(false)
    // the body is the event as listed at /v1/events
    const event = JSON.parse(req!.body)
    expect(event).toMatchObject({
      object: 'event',
      type: 'offer.created',
      data: { object: { id: offerId, object: 'offer' } },
    })
    expect(event.id).toMatch(/^evt_/)
    const listed = await call(env, 'GET', '/v1/events', { token: a.token })
    expect(listed.body.data.find((e: { id: string }) => e.id === event.id)).toEqual(event)
    // the delivery log
    const [d] = await waitFor('delivered in the log', async () => {
      const list = await deliveries(a)
      return list[0]?.status === 'delivered' && list
    })
    expect(d).toMatchObject({
      event_id: event.id,
      status: 'delivered',
      attempts: 1,
      last_response_status: 200,
      last_error: null,
      next_attempt_at: null,
    })
    expect(d!.delivered_at).not.toBeNull()
    expect(receiver.at(a.path)).toHaveLength(1)
  })

  it('a delivery can be sent again by hand (POST /v1/webhook_deliveries/{id}/retry)', async () => {
    const env = await open()
    const a = await subscriber('ok')
    const b = await user(env, 'other')
    await offer(a, b)
    const [d] = await waitFor('delivered', async () => {
      const list = await deliveries(a)
      return list[0]?.status === 'delivered' && list
    })
    // not someone else's delivery
    const stranger = await user(env, 'stranger')
    expect(
      (await call(env, 'POST', `/v1/webhook_deliveries/${d!.id}/retry`, { token: stranger.token, body: {} })).status,
    ).toBe(404)
    const retry = await call(env, 'POST', `/v1/webhook_deliveries/${d!.id}/retry`, { token: a.token, body: {} })
    expect(retry.status).toBe(202)
    expect(retry.body).toMatchObject({ id: d!.id, object: 'webhook_delivery', status: 'pending' })
    await waitFor('sent again', () => receiver.at(a.path).length === 2)
    const [first, again] = receiver.at(a.path)
    expect(again!.body).toBe(first!.body)
    const [after] = await waitFor('delivered again', async () => {
      const list = await deliveries(a)
      return list[0]?.status === 'delivered' && list[0].attempts === 2 && list
    })
    expect(after).toMatchObject({ id: d!.id, attempts: 2, last_response_status: 200 })
    // with its endpoint deleted, the delivery is gone with it (as its log is)
    expect((await call(env, 'DELETE', `/v1/webhook_endpoints/${a.endpointId}`, { token: a.token })).status).toBe(200)
    const gone = await call(env, 'POST', `/v1/webhook_deliveries/${d!.id}/retry`, { token: a.token, body: {} })
    expect([gone.status, gone.body.error?.code]).toEqual([404, 'resource_missing'])
  })

  it('after a failed attempt, a retry by hand is sent at once (no waiting for the backoff)', async () => {
    const env = await open()
    const a = await subscriber('fail')
    const b = await user(env, 'other')
    await offer(a, b)
    await waitFor('attempt 1', () => receiver.at(a.path).length === 1)
    const [d] = await waitFor('attempt 1 logged', async () => {
      const list = await deliveries(a)
      return list[0]?.attempts === 1 && list
    })
    receiver.behaviour.set(a.path, 'ok')
    expect(
      (await call(env, 'POST', `/v1/webhook_deliveries/${d!.id}/retry`, { token: a.token, body: {} })).status,
    ).toBe(202)
    await waitFor('delivered by hand', async () => {
      const list = await deliveries(a)
      return list[0]?.status === 'delivered' && list[0].attempts === 2
    })
  })
})
