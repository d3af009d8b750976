/**
 * A worker of its own (`tranche worker`: its runtime built as the CLI builds it, createRuntime + worker.start) on the
 * database of a server, with the manual test clock. The worker serves no requests, which is where a server re-reads
 * the clock; its delivery loop re-reads it itself, so events written after the clock was advanced are delivered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRuntime, type Runtime } from '../../src/main.ts'
import { adminUser, call, DATABASES, silentLog, startEnv, type TestEnv, terms, user } from '../support/harness.ts'
import { Receiver, sleep } from './webhooks-support.ts'

describe.each(DATABASES)('a separate worker process with the manual clock on %s', (kind) => {
  let env: TestEnv
  let worker: Runtime
  const receiver = new Receiver()
  beforeAll(async () => {
    await receiver.start()
    env = await startEnv(kind, { TRANCHE_WORKER: 'off' }) // the API server; its inline worker is not started
    worker = await createRuntime(env.config, { log: silentLog, store: env.rt.store }) // `tranche worker`
    worker.worker.start()
  })
  afterAll(async () => {
    await worker.worker.stop()
    await env.close()
    await receiver.stop()
  })

  async function offerWithHook(path: string) {
    const client = await user(env, 'client')
    const freelancer = await user(env, 'freelancer')
    const ep = await call(env, 'POST', '/v1/webhook_endpoints', {
      token: client.token,
      body: { url: `${receiver.base}${path}`, enabled_events: ['offer.created'] },
    })
    expect(ep.status).toBe(201)
    const offer = await call(env, 'POST', '/v1/offers', {
      token: client.token,
      body: { role: 'client', counterparty_email: freelancer.email, ...terms() },
    })
    expect(offer.status).toBe(201)
  }

  async function delivered(path: string, ms: number) {
    const until = Date.now() + ms
    while (Date.now() < until && receiver.at(path).length === 0) await sleep(50)
    return receiver.at(path).length
  }

  it('delivers an event written before the clock moved (the reference)', async () => {
    await offerWithHook('/before')
    expect(await delivered('/before', 5_000)).toBe(1)
  })

  it('delivers an event written after the clock was advanced through the server', async () => {
    const admin = await adminUser(env)
    const adv = await call(env, 'POST', '/v1/test_clock/advance', { token: admin.token, body: { seconds: 3600 } })
    expect(adv.status).toBe(200)
    await offerWithHook('/after')
    expect(await delivered('/after', 5_000)).toBe(1)
    expect(worker.app.clock.now()).toBe(env.rt.app.clock.now())
  })
})
