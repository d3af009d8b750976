/**
 * DNS rebinding (SECURITY.md): a webhook host that answers a public address when the URL is checked and a private one
 * when the connection is made must reach nothing inside. The delivery connects to exactly the addresses its lookup
 * checked (`checkedLookup` in `jobs/url-guard.ts`); here a resolver given to the worker plays the rebinding name.
 */
import { describe, expect, it } from 'vitest'
import { checkedLookup, type ResolveHost } from '../../src/jobs/url-guard.ts'
import { postWebhook } from '../../src/jobs/webhook-post.ts'
import { Worker } from '../../src/jobs/worker.ts'
import { call, user } from '../support/harness.ts'
import { TIMEOUT_MS, waitFor, webhookSuite } from './webhooks-support.ts'

/** A name that answers `first` to its first lookup and `then` to every later one. */
function rebinding(first: string, then: string) {
  const asked: string[] = []
  const resolve: ResolveHost = async (host) => {
    asked.push(host)
    return [{ address: asked.length === 1 ? first : then, family: 4 }]
  }
  return { resolve, asked }
}

describe('webhook deliveries and DNS rebinding', () => {
  const { receiver, open, offer, deliveries } = webhookSuite()

  it('a name that turns private after the check reaches nothing: the connection uses the checked answer', async () => {
    // the endpoint is registered while private addresses are allowed (no lookup), then delivered by a worker that
    // refuses them, whose resolver answers a public address once and the receiver's loopback address after that
    const env = await open(TIMEOUT_MS, false)
    const port = new URL(receiver.base).port
    const u = await user(env, 'rebind')
    const ep = await call(env, 'POST', '/v1/webhook_endpoints', {
      token: u.token,
      body: { url: `http://rebind.test:${port}/rebound`, enabled_events: ['*'] },
    })
    expect(ep.status).toBe(201)
    await offer(u, await user(env, 'other'))

    const dns = rebinding('93.184.216.34', '127.0.0.1')
    const guarded = new Worker(
      { ...env.rt.app, config: { ...env.rt.app.config, webhookAllowPrivate: false } },
      dns.resolve,
    )
    expect(await guarded.dispatchDeliveries()).toBeGreaterThan(0)
    const [d] = await waitFor('the attempt', async () => {
      const list = await deliveries({ token: u.token, endpointId: ep.body.id })
      return list.length && list[0]!.attempts > 0 ? list : undefined
    })
    expect(d).toMatchObject({ status: 'pending', last_response_status: null })
    expect(d!.last_error).toMatch(/rebind\.test points to a private or loopback address \(127\.0\.0\.1\)/)
    // looked up twice: the check before sending (public), then the connection (private: refused, not connected)
    expect(dns.asked).toEqual(['rebind.test', 'rebind.test'])
    expect(receiver.at('/rebound')).toHaveLength(0)
  })

  it('sends to the receiver when the checked lookup allows its address, and refuses before connecting otherwise', async () => {
    await open(TIMEOUT_MS, false)
    const url = `http://hooks.test:${new URL(receiver.base).port}/direct`
    const allowAll: ResolveHost = async () => [{ address: '127.0.0.1', family: 4 }]
    // the lookup as the worker builds it refuses the loopback answer: no request arrives
    await expect(
      postWebhook(url, {}, '{}', { timeoutMs: TIMEOUT_MS, lookup: checkedLookup(allowAll) }),
    ).rejects.toThrow(/hooks\.test points to a private or loopback address/)
    expect(receiver.at('/direct')).toHaveLength(0)
    // control: the same request with the name resolved by a lookup that answers that address unchecked arrives
    const unchecked = ((_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) =>
      o.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as never
    expect(await postWebhook(url, {}, '{}', { timeoutMs: TIMEOUT_MS, lookup: unchecked })).toBe(200)
    expect(receiver.at('/direct')).toHaveLength(1)
  })
})

describe('checkedLookup', () => {
  it('hands the connection exactly the checked addresses, of the family asked', async () => {
    const resolve: ResolveHost = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
    ]
    const lookup = checkedLookup(resolve)
    const ask = (options: { all?: boolean; family?: number }) =>
      new Promise<unknown[]>((ok) => lookup('example.test', options as never, (...a: unknown[]) => ok(a)))
    expect(await ask({ all: true })).toEqual([
      null,
      [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
      ],
    ])
    expect(await ask({ family: 6 })).toEqual([null, '2606:2800:220:1:248:1893:25c8:1946', 6])
    expect(await ask({})).toEqual([null, '93.184.216.34', 4])
    // one internal address among public ones refuses the name
    const mixed = checkedLookup(async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ])
    const [err] = await new Promise<unknown[]>((ok) => mixed('mixed.test', {} as never, (...a: unknown[]) => ok(a)))
    expect((err as NodeJS.ErrnoException).code).toBe('EADDRINTERNAL')
  })
})
