/**
 * One webhook delivery over HTTP(S): a POST that answers the response's status, never follows a redirect, and gives
 * up after `timeoutMs`. Its connection may take a `lookup` (`checkedLookup`), so it goes only where the guard allows.
 */
import http from 'node:http'
import https from 'node:https'
import type { LookupFunction } from 'node:net'

const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) }

export class DeliveryTimeout extends Error {}

export function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  opts: { timeoutMs: number; lookup?: LookupFunction | undefined },
): Promise<number> {
  const u = new URL(url)
  const tls = u.protocol === 'https:'
  const signal = AbortSignal.timeout(opts.timeoutMs)
  return new Promise((resolve, reject) => {
    const req = (tls ? https : http).request(
      u,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: tls ? agents.https : agents.http,
        signal,
        ...(opts.lookup ? { lookup: opts.lookup } : {}),
      },
      (res) => {
        // the status is the answer; the body is read and dropped so the connection can be used again
        resolve(res.statusCode ?? 0)
        res.resume()
        res.on('error', () => undefined)
      },
    )
    req.on('error', (e) => reject(signal.aborted ? new DeliveryTimeout('timed out') : e))
    req.end(body)
  })
}
