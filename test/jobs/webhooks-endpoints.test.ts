/**
 * Webhook deliveries (SPEC §9) end to end: a real HTTP receiver on 127.0.0.1, a runtime from the harness (SQLite,
 * manual clock) with the worker's delivery loop running (webhooks-support.ts; started only once the endpoints are
 * gone in the first test). Here: which endpoints are sent what — disabled/deleted endpoints, enabled_events. The rest
 * is in the other `webhooks-*.test.ts` files.
 */
import { describe, expect, it } from 'vitest'
import { call, user } from '../support/harness.ts'
import { sleep, TIMEOUT_MS, waitFor, webhookSuite } from './webhooks-support.ts'

describe('webhook deliveries', () => {
  const { receiver, open, subscriber, offer, deliveries } = webhookSuite()

  it('skips deliveries of a deleted or disabled endpoint; a deleted endpoint gets no new deliveries', async () => {
    const env = await open(TIMEOUT_MS, false)
    const deleted = await subscriber('ok', ['*'], 'deleted')
    const disabled = await subscriber('ok', ['*'], 'disabled')
    const live = await subscriber('ok', ['*'], 'live')
    const other = await user(env, 'other')
    await offer(deleted, other)
    await offer(disabled, other)
    await offer(live, other)
    // the events are in the outbox; now the endpoints go away before the worker sends them
    expect(
      (await call(env, 'DELETE', `/v1/webhook_endpoints/${deleted.endpointId}`, { token: deleted.token })).body,
    ).toMatchObject({ deleted: true })
    await env.rt.store.db
      .updateTable('webhook_endpoints')
      .set({ enabled: 0 })
      .where('id', '=', disabled.endpointId)
      .execute()
    env.rt.worker.start()
    await waitFor('the live endpoint served', () => receiver.at(live.path).length === 1)
    const rows = await waitFor('both skipped', async () => {
      const r = await env.rt.store.db
        .selectFrom('webhook_deliveries')
        .select(['endpoint_id', 'status', 'attempts', 'last_error'])
        .where('endpoint_id', 'in', [deleted.endpointId, disabled.endpointId])
        .execute()
      return r.length === 2 && r.every((x) => x.status === 'skipped') && r
    })
    for (const r of rows) expect(Number(r.attempts)).toBe(0)
    expect(receiver.at(deleted.path)).toHaveLength(0)
    expect(receiver.at(disabled.path)).toHaveLength(0)
    // new events create no delivery for them at all
    await offer(deleted, other)
    await offer(disabled, other)
    await offer(live, other)
    await waitFor('the live endpoint served again', () => receiver.at(live.path).length === 2)
    const count = await env.rt.store.db
      .selectFrom('webhook_deliveries')
      .select(['endpoint_id'])
      .where('endpoint_id', 'in', [deleted.endpointId, disabled.endpointId])
      .execute()
    expect(count).toHaveLength(2)
    // the deleted endpoint is gone from the list and its log
    expect(
      (await call(env, 'GET', `/v1/webhook_endpoints/${deleted.endpointId}/deliveries`, { token: deleted.token }))
        .status,
    ).toBe(404)
    expect((await call(env, 'GET', '/v1/webhook_endpoints', { token: deleted.token })).body.data).toEqual([])
  })

  it('enabled_events filters what is sent', async () => {
    const env = await open()
    const only = await subscriber('ok', ['offer.declined'], 'only')
    const all = await subscriber('ok', ['*'], 'all')
    const offerId = await offer(only, all)
    await waitFor('offer.created to the * endpoint', () => receiver.at(all.path).length === 1)
    const declined = await call(env, 'POST', `/v1/offers/${offerId}/decline`, { token: all.token, body: {} })
    expect(declined.status).toBe(200)
    await waitFor(
      'offer.declined to both',
      () => receiver.at(only.path).length === 1 && receiver.at(all.path).length === 2,
    )
    await sleep(300)
    expect(receiver.at(only.path).map((r) => JSON.parse(r.body).type)).toEqual(['offer.declined'])
    expect(receiver.at(all.path).map((r) => JSON.parse(r.body).type)).toEqual(['offer.created', 'offer.declined'])
    expect((await deliveries(only)).map((d) => d.status)).toEqual(['delivered'])
  })
})
