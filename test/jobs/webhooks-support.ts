/**
 * Support for the webhook delivery tests (webhooks-*.test.ts): a real HTTP receiver on 127.0.0.1 and, per test, a
 * runtime from the harness (SQLite, manual clock) with the worker's delivery loop running, plus the helpers every
 * file uses (a subscriber with an endpoint, an offer that emits an event, the delivery log).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest'
import { call, startEnv, type TestEnv, terms, user } from '../support/harness.ts'

export type Behaviour = 'ok' | 'fail' | 'hang'

interface Received {
  readonly path: string
  readonly headers: IncomingMessage['headers']
  readonly body: string
  readonly at: number
}

/** A local receiver: each path answers as told (200, 500, or never); every request is recorded. */
export class Receiver {
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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function waitFor<T>(
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
export const TIMEOUT_MS = 1_000

/**
 * Call inside a `describe`: starts the receiver for the block and closes each test's runtime after it. `open` starts
 * the runtime of one test (and its worker, unless told not to) and returns it.
 */
export function webhookSuite() {
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

  return { receiver, open, subscriber, offer, deliveries, clockNow }
}
