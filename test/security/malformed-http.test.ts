/**
 * Requests that Node's HTTP parser refuses before the application sees them are answered in the API's error shape
 * too (SECURITY.md: malformed requests answer 4xx in the API's error shape), over a real socket.
 */

import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/app/config.ts'
import { buildServer } from '../../src/http/server.ts'
import { createRuntime, type Runtime } from '../../src/main.ts'
import { silentLog } from '../support/harness.ts'

describe('malformed HTTP', () => {
  let rt: Runtime
  let server: Awaited<ReturnType<typeof buildServer>>
  let port: number
  beforeAll(async () => {
    rt = await createRuntime(loadConfig({ TRANCHE_DB: ':memory:', TRANCHE_LOG_LEVEL: 'silent' }), { log: silentLog })
    server = await buildServer(rt.app, { worker: rt.worker })
    await server.listen({ port: 0, host: '127.0.0.1' })
    port = (server.server.address() as AddressInfo).port
  })
  afterAll(async () => {
    await server.close()
    await rt.close()
  })

  /** Sends `raw` and reads the whole answer (the server closes the connection after it). */
  const send = (raw: string) =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(raw))
      let data = ''
      socket.on('data', (b) => (data += b))
      socket.on('error', reject)
      socket.on('close', () => {
        const [head, body] = data.split('\r\n\r\n')
        resolve({ status: Number(head!.split(' ')[1]), body: JSON.parse(body!) })
      })
    })

  it('answers each in the error shape of the API, naming no field', async () => {
    const requests = [
      'GET v1/me HTTP/1.1\r\nHost: x\r\n\r\n', // no leading slash
      'BREW /v1/me HTTP/1.1\r\nHost: x\r\n\r\n', // a method HTTP does not have
      'POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      'POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}',
    ]
    for (const raw of requests) {
      const r = await send(raw)
      expect([r.status, r.body], raw).toEqual([
        400,
        {
          error: {
            type: 'invalid_request_error',
            code: 'parameter_invalid',
            message: 'The request is not valid HTTP.',
          },
        },
      ])
    }
    const big = await send(`GET /v1/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
    expect(big.status).toBe(431)
    expect(big.body).toMatchObject({ error: { code: 'parameter_invalid' } })
  })
})
