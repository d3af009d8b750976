/**
 * Webhook deliveries (SPEC §9) end to end: a real HTTP receiver on 127.0.0.1, a runtime from the harness (SQLite,
 * manual clock) with the worker's delivery loop running (webhooks-support.ts). Here: retries with backoff (500 and
 * timeout) and giving up. The rest is in the other `webhooks-*.test.ts` files.
 */
import { describe, expect, it } from 'vitest'
import { backoffMs, GIVE_UP_AFTER_MS, verifySignature } from '../../src/jobs/webhook-signature.ts'
import { advance, call, user } from '../support/harness.ts'
import { sleep, TIMEOUT_MS, waitFor, webhookSuite } from './webhooks-support.ts'

describe('webhook deliveries', () => {
  const { receiver, open, subscriber, offer, deliveries, clockNow } = webhookSuite()

  it('retries a 500 on schedule (1 min, then 5 min) and logs every attempt', async () => {
    const env = await open()
    const a = await subscriber('fail')
    const b = await user(env, 'other')
    await offer(a, b)
    const created = clockNow()
    await waitFor('the first attempt', () => receiver.at(a.path).length === 1)
    let [d] = await waitFor('attempt 1 logged', async () => {
      const list = await deliveries(a)
      return list[0]?.attempts === 1 && list
    })
    expect(d).toMatchObject({ status: 'pending', attempts: 1, last_response_status: 500, last_error: 'HTTP 500' })
    expect(Date.parse(d!.next_attempt_at!)).toBe(created + backoffMs(1))
    // not before its time …
    await advance(env, 59)
    await sleep(400)
    expect(receiver.at(a.path)).toHaveLength(1)
    // … and at its time
    await advance(env, 1)
    await waitFor('the retry', () => receiver.at(a.path).length === 2)
    ;[d] = await waitFor('attempt 2 logged', async () => {
      const list = await deliveries(a)
      return list[0]?.attempts === 2 && list
    })
    expect(d).toMatchObject({ status: 'pending', attempts: 2, last_response_status: 500 })
    expect(Date.parse(d!.next_attempt_at!)).toBe(created + backoffMs(1) + backoffMs(2))
    // every attempt carries the same event (consumers dedupe by its id), freshly signed
    const [first, second] = receiver.at(a.path)
    expect(JSON.parse(second!.body).id).toBe(JSON.parse(first!.body).id)
    expect(
      verifySignature(
        a.secret,
        second!.body,
        String(second!.headers['tranche-signature']),
        Math.floor(Date.now() / 1000),
      ),
    ).toBe(true)
    // the endpoint recovers: the next attempt is delivered
    receiver.behaviour.set(a.path, 'ok')
    await advance(env, 5 * 60)
    ;[d] = await waitFor('delivered', async () => {
      const list = await deliveries(a)
      return list[0]?.status === 'delivered' && list
    })
    expect(d).toMatchObject({ status: 'delivered', attempts: 3, last_response_status: 200, last_error: null })
    expect(receiver.at(a.path)).toHaveLength(3)
  })

  it('retries after a timeout (an endpoint that never answers)', async () => {
    const env = await open()
    const a = await subscriber('hang')
    const b = await user(env, 'other')
    await offer(a, b)
    await waitFor('the first attempt', () => receiver.at(a.path).length === 1)
    const [d] = await waitFor(
      'the timeout logged',
      async () => {
        const list = await deliveries(a)
        return list[0]?.attempts === 1 && list
      },
      TIMEOUT_MS + 8_000,
    )
    expect(d).toMatchObject({ status: 'pending', attempts: 1, last_response_status: null })
    expect(d!.last_error).toBe('timed out after 1 s')
    await advance(env, 60)
    await waitFor('the retry', () => receiver.at(a.path).length === 2)
  })

  it('backs off 1 min, 5 min, 30 min, 2 h, 5 h, then every 10 h, and gives up after 3 days (status failed)', async () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(backoffMs)).toEqual([1, 5, 30, 120, 300, 600, 600, 600].map((m) => m * 60_000))
    expect(GIVE_UP_AFTER_MS).toBe(3 * 86_400_000)
    // the schedule: attempt k+1 at (time of attempt k) + backoff(k), while it stays within 3 days of the event
    const schedule = [0]
    for (let k = 1; ; k++) {
      const next = schedule[k - 1]! + backoffMs(k)
      if (next > GIVE_UP_AFTER_MS) break
      schedule.push(next)
    }
    expect(schedule.length).toBe(12)

    const env = await open()
    const a = await subscriber('fail')
    const b = await user(env, 'other')
    await offer(a, b)
    const created = clockNow()
    for (let k = 1; k <= schedule.length; k++) {
      await waitFor(`attempt ${k}`, () => receiver.at(a.path).length === k)
      const [d] = await waitFor(`attempt ${k} logged`, async () => {
        const list = await deliveries(a)
        return list[0]?.attempts === k && list
      })
      expect(clockNow() - created).toBe(schedule[k - 1])
      if (k < schedule.length) {
        expect(d!.status).toBe('pending')
        expect(Date.parse(d!.next_attempt_at!)).toBe(created + schedule[k]!)
        await advance(env, backoffMs(k) / 1000)
      } else {
        // the next attempt would fall after 3 days: no more retries
        expect(d).toMatchObject({ status: 'failed', next_attempt_at: null, last_response_status: 500 })
      }
    }
    // nothing more is sent, however far the clock moves
    await advance(env, 86_400)
    await sleep(400)
    expect(receiver.at(a.path)).toHaveLength(schedule.length)
    const [failed] = await deliveries(a)
    expect(failed).toMatchObject({ status: 'failed', attempts: schedule.length })
    // a delivery that failed for good can still be sent by hand
    receiver.behaviour.set(a.path, 'ok')
    expect(
      (await call(env, 'POST', `/v1/webhook_deliveries/${failed!.id}/retry`, { token: a.token, body: {} })).status,
    ).toBe(202)
    await waitFor('delivered by hand', async () => {
      const list = await deliveries(a)
      return list[0]?.status === 'delivered' && list[0].attempts === schedule.length + 1
    })
  })
})
