/**
 * Webhook deliveries (SPEC §9) end to end: a real HTTP receiver on 127.0.0.1, a runtime from the harness (SQLite,
 * manual clock) with the worker's delivery loop running. Signature, retries with backoff (500 and timeout), the
 * delivery log, manual redelivery, disabled/deleted endpoints, enabled_events, slow endpoints, giving up.
 */
import { createHmac } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { backoffMs, GIVE_UP_AFTER_MS, verifySignature } from '../../src/jobs/webhook-signature.ts'
import { advance, call, startEnv, type TestEnv, terms, user } from '../support/harness.ts'

type Behaviour = 'ok' | 'fail' | 'hang'

interface Received {
  readonly path: string
  readonly headers: IncomingMessage['headers']
  readonly body: string
  readonly at: number
}

/** A local receiver: each path answers as told (200, 500, or never); every request is recorded. */
class Receiver {
  readonly received: Received[] = []
  readonly behaviour = new Map<string, Behaviour>()
  private readonly hanging = new Set<ServerResponse>()
  private server!: Server
  base = ''

  async start() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const path = req.url ?? '/'
        this.received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() })
        const b = this.behaviour.get(path) ?? 'ok'
        if (b === 'hang') {
          this.hanging.add(res)
          res.on('close', () => this.hanging.delete(res))
          return
        }
        res.writeHead(b === 'ok' ? 200 : 500, { 'content-type': 'text/plain' })
        res.end(b === 'ok' ? 'thanks' : 'boom')
      })
    })
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  at(path: string) {
    return this.received.filter((r) => r.path === path)
  }

  /** Requests still waiting for an answer. */
  get open() {
    return this.hanging.size
  }

  async stop() {
    for (const r of this.hanging) r.destroy()
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function waitFor<T>(
  what: string,
  f: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 8_000,
): Promise<T> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const v = await f()
    if (v) return v
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

/** The webhook timeout of the worker in these tests (TRANCHE_WEBHOOK_TIMEOUT_MS, read when the worker is built). */
const TIMEOUT_MS = 1_000

describe('webhook deliveries', () => {
  const receiver = new Receiver()
  let env: TestEnv
  let savedTimeout: string | undefined
  let n = 0

  beforeAll(async () => {
    savedTimeout = process.env.TRANCHE_WEBHOOK_TIMEOUT_MS
    await receiver.start()
  })
  afterAll(async () => {
    await receiver.stop()
    if (savedTimeout === undefined) delete process.env.TRANCHE_WEBHOOK_TIMEOUT_MS
    else process.env.TRANCHE_WEBHOOK_TIMEOUT_MS = savedTimeout
  })

  async function open(timeoutMs: number | null = TIMEOUT_MS, startWorker = true) {
    if (timeoutMs === null) delete process.env.TRANCHE_WEBHOOK_TIMEOUT_MS
    else process.env.TRANCHE_WEBHOOK_TIMEOUT_MS = String(timeoutMs)
    env = await startEnv('sqlite')
    if (startWorker) env.rt.worker.start()
    return env
  }

  beforeEach(() => {
    n++
  })
  afterEach(async () => {
    // answer (by closing) what still hangs so the worker's stop does not wait for the timeout
    for (const _ of Array.from({ length: 3 })) {
      if (!receiver.open) break
      await receiver.stop().catch(() => undefined)
      await receiver.start()
    }
    await env?.close()
  })

  /** A user with a webhook endpoint at a fresh path of the receiver. */
  async function subscriber(behaviour: Behaviour, events: string[] = ['*'], tag = 'hook') {
    const u = await user(env, tag)
    const path = `/${tag}/${n}/${u.id}`
    receiver.behaviour.set(path, behaviour)
    const ep = await call(env, 'POST', '/v1/webhook_endpoints', {
      token: u.token,
      body: { url: `${receiver.base}${path}`, enabled_events: events },
    })
    expect(ep.status).toBe(201)
    expect(ep.body.secret).toMatch(/^whsec_/)
    return { ...u, path, endpointId: ep.body.id as string, secret: ep.body.secret as string }
  }

  /** An offer from `from` (the client) to `to`: one `offer.created` event for both. */
  async function offer(from: { token: string }, to: { email: string }) {
    const res = await call(env, 'POST', '/v1/offers', {
      token: from.token,
      body: { role: 'client', counterparty_email: to.email, ...terms() },
    })
    expect(res.status).toBe(201)
    return res.body.id as string
  }

  async function deliveries(s: { token: string; endpointId: string }) {
    const res = await call(env, 'GET', `/v1/webhook_endpoints/${s.endpointId}/deliveries`, { token: s.token })
    expect(res.status).toBe(200)
    return res.body.data as {
      id: string
      event_id: string
      status: string
      attempts: number
      next_attempt_at: string | null
      last_response_status: number | null
      last_error: string | null
      created_at: string
      delivered_at: string | null
    }[]
  }

  const clockNow = () => env.rt.app.clock.now()

  it('signs each delivery: Tranche-Signature t=…,v1=HMAC-SHA256(secret, "<t>.<raw body>")', async () => {
    await open()
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

  it('retries a 500 on schedule (1 min, then 5 min) and logs every attempt', async () => {
    await open()
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
    await open()
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

  it('a delivery can be sent again by hand (POST /v1/webhook_deliveries/{id}/retry)', async () => {
    await open()
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
  })

  it('after a failed attempt, a retry by hand is sent at once (no waiting for the backoff)', async () => {
    await open()
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

  it('skips deliveries of a deleted or disabled endpoint; a deleted endpoint gets no new deliveries', async () => {
    await open(TIMEOUT_MS, false)
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
    await open()
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

  it('a hanging endpoint does not slow commands (default 10 s timeout)', async () => {
    await open(null)
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
    await open(null)
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

    await open()
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
