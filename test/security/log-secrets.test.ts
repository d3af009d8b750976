/**
 * No password, token or secret in the logs (SPEC §11): a real server process (`src/cli/main.ts serve`, as a user
 * starts it) at TRANCHE_LOG_LEVEL=trace runs a full scenario over HTTP — sign up, a failed and good logins, the web
 * app's cookie with CSRF, an API key, a webhook endpoint whose deliveries arrive signed, an offer, funding,
 * submission, approval, the 5-day hold, a payout, log out — and its whole output is searched for every password,
 * token, API key secret and webhook secret used. A planted marker proves the search sees the logs.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createHmac, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DATABASES, PG_URL } from '../support/harness.ts'
import { DEEP } from './fixtures.ts'

const ROOT = resolve(import.meta.dirname, '../..')

// biome-ignore lint/suspicious/noExplicitAny: the JSON answers of the API; the test reads their fields
type Answer = any

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}

interface Hit {
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** A webhook consumer on 127.0.0.1 that keeps what it receives. */
async function receiver() {
  const hits: Hit[] = []
  const server: Server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => {
      body += c
    })
    req.on('end', () => {
      hits.push({ headers: req.headers, body })
      res.writeHead(200).end('ok')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { hits, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, close: () => server.close() }
}

describe.each(DATABASES)('logs of a full scenario on %s', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), 'tranche-logs-'))
  const pgDb = `tranche_logs_${randomBytes(5).toString('hex')}`
  const adminPassword = `admin-${randomBytes(12).toString('base64url')}`
  const marker = `MARKER${randomBytes(8).toString('hex')}`
  let child: ChildProcess
  let out = ''
  let base = ''
  let hook: Awaited<ReturnType<typeof receiver>>
  const secrets: Record<string, string> = { adminPassword }

  const adminDb = async (q: string) => {
    const c = new pg.Client({ connectionString: PG_URL! })
    await c.connect()
    try {
      await c.query(q)
    } finally {
      await c.end()
    }
  }

  beforeAll(async () => {
    hook = await receiver()
    const port = await freePort()
    base = `http://127.0.0.1:${port}`
    let databaseUrl: string | undefined
    if (kind === 'postgres') {
      await adminDb(`create database ${pgDb}`)
      const u = new URL(PG_URL!)
      u.pathname = `/${pgDb}`
      databaseUrl = u.toString()
    }
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      HOST: '127.0.0.1',
      TRANCHE_DB: join(dir, 'tranche.db'),
      TRANCHE_CLOCK: 'manual',
      TRANCHE_ADMIN_EMAIL: 'admin@logs.test',
      TRANCHE_ADMIN_PASSWORD: adminPassword,
      TRANCHE_LOG_LEVEL: 'trace',
      TRANCHE_WEBHOOK_ALLOW_PRIVATE: '1',
      TRANCHE_WORKER: 'inline',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    }
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], { cwd: ROOT, env })
    child.stdout!.on('data', (c) => {
      out += c
    })
    child.stderr!.on('data', (c) => {
      out += c
    })
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`the server exited: ${out}`)
      try {
        if ((await fetch(`${base}/readyz`)).ok) break
      } catch {}
      if (i > 300) throw new Error(`the server did not start: ${out}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }, 60_000)

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL')
    }
    hook?.close()
    if (kind === 'postgres') await adminDb(`drop database if exists ${pgDb} with (force)`).catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  })

  async function api(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) }
    if (opts.token) headers.authorization = `Bearer ${opts.token}`
    if (opts.body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    })
    const text = await res.text()
    let body: Answer = {}
    try {
      body = JSON.parse(text)
    } catch {}
    return { status: res.status, body, text, headers: res.headers }
  }
  const must = async (r: Promise<Awaited<ReturnType<typeof api>>>, status: number) => {
    const res = await r
    if (res.status !== status) throw new Error(`expected ${status}, got ${res.status} ${res.text}`)
    return res.body
  }

  it('runs the scenario, then finds none of its secrets in the logs (and does find a planted marker)', async () => {
    const pw = (tag: string) => `${tag}-${randomBytes(12).toString('base64url')}`
    const client = { email: `client-${randomBytes(4).toString('hex')}@logs.test`, password: pw('client') }
    const freelancer = { email: `freelancer-${randomBytes(4).toString('hex')}@logs.test`, password: pw('freelancer') }
    secrets.clientPassword = client.password
    secrets.freelancerPassword = freelancer.password
    secrets.wrongPassword = pw('wrong')

    await must(api('POST', '/v1/users', { body: { ...client, name: 'Client' } }), 201)
    await must(api('POST', '/v1/users', { body: { ...freelancer, name: 'Freelancer' } }), 201)
    await must(api('POST', '/v1/sessions', { body: { email: client.email, password: secrets.wrongPassword } }), 401)
    const cs = await api('POST', '/v1/sessions', { body: client })
    expect(cs.status).toBe(201)
    const clientToken = cs.body.token as string
    const cookies = cs.headers.getSetCookie().map((c) => c.split(';')[0]!)
    const csrf = cookies.find((c) => c.startsWith('tranche_csrf='))!.split('=')[1]!
    secrets.clientToken = clientToken
    secrets.csrf = csrf
    const freelancerToken = (await must(api('POST', '/v1/sessions', { body: freelancer }), 201)).token as string
    secrets.freelancerToken = freelancerToken
    const adminToken = (
      await must(api('POST', '/v1/sessions', { body: { email: 'admin@logs.test', password: adminPassword } }), 201)
    ).token
    secrets.adminToken = adminToken

    const key = await must(
      api('POST', '/v1/api_keys', { token: clientToken, body: { name: 'ci' }, headers: { 'idempotency-key': 'k1' } }),
      201,
    )
    secrets.apiKey = key.secret
    expect((await must(api('GET', '/v1/me', { token: key.secret }), 200)).email).toBe(client.email)
    const endpoint = await must(
      api('POST', '/v1/webhook_endpoints', { token: key.secret, body: { url: hook.url, enabled_events: ['*'] } }),
      201,
    )
    secrets.webhookSecret = endpoint.secret
    // a bearer token that is not valid must not be logged either
    secrets.bogusToken = `tks_${randomBytes(32).toString('base64url')}`
    await must(api('GET', '/v1/me', { token: secrets.bogusToken }), 401)

    const offer = await must(
      api('POST', '/v1/offers', {
        token: clientToken,
        headers: { 'idempotency-key': 'offer-1' },
        body: {
          role: 'client',
          counterparty_email: freelancer.email,
          title: 'Logged job',
          currency: 'USD',
          payment_mode: 'by_milestone',
          milestones: [{ title: 'One', amount: 100_000 }, ...(DEEP ? [{ title: 'Two', amount: 50_000 }] : [])],
        },
      }),
      201,
    )
    const accepted = await must(
      api('POST', `/v1/offers/${offer.id}/accept`, { token: freelancerToken, body: { revision: 1 } }),
      200,
    )
    const contract = await must(api('GET', `/v1/contracts/${accepted.contract_id}`, { token: clientToken }), 200)
    const ms = contract.milestones[0].id as string
    // the web app's way: the session cookie and the CSRF header
    await must(
      api('POST', `/v1/milestones/${ms}/fund`, {
        body: {},
        headers: { cookie: cookies.join('; '), 'x-csrf-token': csrf },
      }),
      200,
    )
    await must(api('POST', `/v1/milestones/${ms}/submit`, { token: freelancerToken, body: { message: 'done' } }), 200)
    await must(api('POST', `/v1/milestones/${ms}/approve`, { token: key.secret, body: {} }), 200)
    if (DEEP) {
      const second = contract.milestones[1].id as string
      await must(api('POST', `/v1/milestones/${second}/fund`, { token: clientToken, body: {} }), 200)
      await must(
        api('POST', `/v1/milestones/${second}/disputes`, {
          token: clientToken,
          body: { reason: 'late', release_amount: 0 },
        }),
        201,
      )
    }
    await must(api('POST', '/v1/test_clock/advance', { token: adminToken, body: { seconds: 5 * 86_400 + 60 } }), 200)
    await must(api('POST', '/v1/payouts', { token: freelancerToken, body: { amount: 50_000, currency: 'USD' } }), 201)
    await must(api('GET', `/v1/nowhere?marker=${marker}`), 404)
    await must(api('DELETE', '/v1/sessions/current', { token: clientToken }), 200)

    // the webhook deliveries arrive, signed with the secret (so the worker's path is in the logs too)
    for (let i = 0; i < 100 && hook.hits.length < 3; i++) await new Promise((r) => setTimeout(r, 100))
    expect(hook.hits.length).toBeGreaterThanOrEqual(3)
    const sig = String(hook.hits[0]!.headers['tranche-signature'])
    const [t, v1] = sig.split(',').map((x) => x.split('=')[1]) as [string, string]
    expect(createHmac('sha256', endpoint.secret).update(`${t}.${hook.hits[0]!.body}`).digest('hex')).toBe(v1)

    // stop the server as an operator does, and read everything it wrote
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGTERM')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))])

    if (process.env.TRANCHE_LOG_DUMP) writeFileSync(`${process.env.TRANCHE_LOG_DUMP}.${kind}.log`, out)
    expect(out.length).toBeGreaterThan(1000)
    const lines = out.split('\n').filter((l) => l.trim().startsWith('{'))
    expect(lines.length).toBeGreaterThan(20)
    // the request log has request ids
    expect(lines.some((l) => /"reqId":"req_/.test(l))).toBe(true)
    // the search sees the logs: the planted marker is there
    expect(out).toContain(marker)
    const found = Object.entries(secrets).filter(([, s]) => out.includes(s))
    expect(
      found.map(([name]) => name),
      'secrets found in the logs',
    ).toEqual([])
    expect(Object.keys(secrets).length).toBeGreaterThanOrEqual(11)
  }, 120_000)
})
