/**
 * Graceful shutdown (SPEC §11: stop accepting, finish in-flight requests, release timer leases): a request in
 * flight on a keep-alive connection when the server closes is answered, and the close does not then wait for that
 * connection's keep-alive timeout (72 s) — past any supervisor's grace period.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/app/config.ts'
import { buildServer } from '../../src/http/server.ts'
import { createRuntime } from '../../src/main.ts'
import { silentLog } from '../support/harness.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('closing the server', () => {
  it('answers a request in flight on a keep-alive connection, then closes without waiting for it to time out', async () => {
    const rt = await createRuntime(loadConfig({ TRANCHE_DB: ':memory:', TRANCHE_LOG_LEVEL: 'silent' }), {
      log: silentLog,
    })
    const server = await buildServer(rt.app, { worker: rt.worker })
    await server.listen({ port: 0, host: '127.0.0.1' })
    const { port } = server.server.address() as AddressInfo
    const agent = new http.Agent({ keepAlive: true })
    try {
      const body = JSON.stringify({ email: 'nobody@tranche.test', password: 'wrong-password-1' })
      let sent!: () => void
      const inFlight = new Promise<void>((r) => {
        sent = r
      })
      const answered = new Promise<number>((resolve, reject) => {
        const req = http.request(
          {
            port,
            host: '127.0.0.1',
            path: '/v1/sessions',
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            res.resume()
            res.on('end', () => resolve(res.statusCode!))
          },
        )
        req.on('error', reject)
        req.write(body.slice(0, 10), () => sent()) // the request has begun...
        inFlight.then(() => sleep(200)).then(() => req.end(body.slice(10))) // ...and ends after the close began
      })
      await inFlight
      await sleep(50)
      const closed = server.close().then(() => 'closed' as const)
      expect(await answered).toBe(401) // the request in flight was finished
      expect(await Promise.race([closed, sleep(10_000).then(() => 'still open after 10 s' as const)])).toBe('closed')
    } finally {
      agent.destroy()
      await server.close()
      await rt.close()
    }
  }, 30_000)
})
