/**
 * Webhook deliveries (SPEC §9) end to end: a real HTTP receiver on 127.0.0.1, a runtime from the harness (SQLite,
 * manual clock) with the worker's delivery loop running (webhooks-support.ts). Here: slow endpoints (one that never
 * answers) hold back neither commands nor deliveries to other endpoints. The rest is in the other `webhooks-*.test.ts`
 * files.
 */
import { describe, expect, it } from 'vitest'
import { call, user } from '../support/harness.ts'
import { waitFor, webhookSuite } from './webhooks-support.ts'

describe('webhook deliveries', () => {
  const { receiver, open, subscriber, offer, deliveries } = webhookSuite()

  it('a hanging endpoint does not slow commands (default 10 s timeout)', async () => {
    const env = await open(null)
    expect(env.rt.worker.deliveryTimeoutMs).toBe(10_000)
    const a = await subscriber('hang')
    const b = await user(env, 'other')
    await offer(a, b)
    await waitFor('the delivery hangs', () => receiver.open === 1)
    // while the endpoint holds the delivery, commands (each emitting more events for it) answer at once
    const started = Date.now()
    for (let i = 0; i < 5; i++) {
      const t = Date.now()
      await offer(a, b)
      expect(Date.now() - t).toBeLessThan(3_000)
    }
    expect(Date.now() - started).toBeLessThan(8_000)
    expect(receiver.open).toBeGreaterThanOrEqual(1)
    // the first delivery is still waiting for its answer (well inside the 10 s timeout)
    const first = (
      await env.rt.store.db.selectFrom('webhook_deliveries').select(['status', 'attempts']).orderBy('id').execute()
    )[0]!
    expect(first.status).toBe('pending')
    expect(Number(first.attempts)).toBe(0)
  })

  it('a hanging endpoint does not hold back deliveries to other endpoints', async () => {
    const env = await open(null)
    const slow = await subscriber('hang', ['*'], 'slow')
    const fast = await subscriber('ok', ['*'], 'fast')
    const other = await user(env, 'other')
    // more events for the hanging endpoint than the worker sends at once
    for (let i = 0; i < 10; i++) await offer(slow, other)
    await waitFor('the slow endpoint hangs', () => receiver.open >= 1)
    const t = Date.now()
    await offer(fast, other)
    await waitFor('the fast endpoint served', () => receiver.at(fast.path).length === 1, 9_000)
    // well before the slow deliveries time out (10 s), which is when it would be sent if they held every slot
    expect(Date.now() - t).toBeLessThan(7_000)
    expect(receiver.open).toBeGreaterThanOrEqual(1)
  })

  it('a manual retry while an attempt hangs is sent, not written over by that attempt when it times out', async () => {
    const env = await open() // 1 s delivery timeout
    const a = await subscriber('hang')
    await offer(a, await user(env, 'other'))
    await waitFor('the first attempt hangs', () => receiver.at(a.path).length === 1 && receiver.open === 1)
    const [d] = await deliveries(a)
    // the endpoint is fixed, and its owner asks for the delivery again now
    receiver.behaviour.set(a.path, 'ok')
    const retry = await call(env, 'POST', `/v1/webhook_deliveries/${d!.id}/retry`, { token: a.token, body: {} })
    expect([retry.status, retry.body.status]).toEqual([202, 'pending'])
    await waitFor('the retry delivered', async () => (await deliveries(a))[0]!.status === 'delivered', 8_000)
    expect(receiver.at(a.path).length).toBe(2)
    // the hanging attempt ended meanwhile (timed out) and left the delivered retry as it was
    await waitFor('the hanging attempt over', () => receiver.open === 0, 8_000)
    await new Promise((r) => setTimeout(r, 300))
    expect((await deliveries(a))[0]).toMatchObject({ status: 'delivered', last_error: null })
  }, 20_000)
})
