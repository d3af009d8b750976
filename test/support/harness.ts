/**
 * Test harness: a real Tranche runtime (store, manual clock, worker) and its Fastify server for `inject`, on
 * SQLite (a temp file) or on the real PostgreSQL server (a fresh schema) when TRANCHE_TEST_DATABASE_URL is set.
 */

import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { type Config, loadConfig } from '../../src/app/config.ts'
import { buildServer } from '../../src/http/server.ts'
import { createRuntime, type Runtime } from '../../src/main.ts'

export type DbKind = 'sqlite' | 'postgres'

export const PG_URL = process.env.TRANCHE_TEST_DATABASE_URL ?? null

/** The databases a suite runs on: SQLite always, PostgreSQL when TRANCHE_TEST_DATABASE_URL is set. */
export const DATABASES: DbKind[] = PG_URL ? ['sqlite', 'postgres'] : ['sqlite']

export const ADMIN = { email: 'admin@tranche.test', password: 'admin-password-1' }

export const silentLog = { info() {}, warn() {}, error() {} }

export interface TestEnv {
  readonly rt: Runtime
  readonly server: FastifyInstance
  readonly config: Config
  close(): Promise<void>
}

export async function startEnv(kind: DbKind = 'sqlite', over: Partial<Record<string, string>> = {}): Promise<TestEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'tranche-test-'))
  const schema = kind === 'postgres' ? `t_${randomBytes(6).toString('hex')}` : undefined
  const config = loadConfig({
    TRANCHE_DB: join(dir, 'tranche.db'),
    TRANCHE_CLOCK: 'manual',
    TRANCHE_ADMIN_EMAIL: ADMIN.email,
    TRANCHE_ADMIN_PASSWORD: ADMIN.password,
    TRANCHE_WEBHOOK_ALLOW_PRIVATE: '1',
    TRANCHE_LOG_LEVEL: 'silent',
    ...(kind === 'postgres' ? { DATABASE_URL: PG_URL! } : {}),
    ...over,
  })
  const rt = await createRuntime(config, { log: silentLog, ...(schema ? { schema } : {}) })
  const server = await buildServer(rt.app, { worker: rt.worker })
  await server.ready()
  return {
    rt,
    server,
    config,
    async close() {
      await server.close()
      await rt.close()
      if (schema) await dropSchema(schema)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export async function dropSchema(schema: string) {
  const c = new pg.Client({ connectionString: PG_URL! })
  await c.connect()
  try {
    await c.query(`drop schema if exists "${schema}" cascade`)
  } finally {
    await c.end()
  }
}

/** One HTTP call through `inject`; returns status, parsed body and headers. */
export async function call(
  env: TestEnv,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  opts: { token?: string; body?: unknown; idem?: string; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  if (opts.idem) headers['idempotency-key'] = opts.idem
  const res = await env.server.inject({
    method,
    url,
    headers,
    ...(opts.body !== undefined ? { payload: opts.body as object } : {}),
  })
  // biome-ignore lint/suspicious/noExplicitAny: the JSON answer of any endpoint; tests assert on its fields
  let body: any
  try {
    body = res.body ? JSON.parse(res.body) : undefined
  } catch {
    body = undefined
  }
  return { status: res.statusCode, body, headers: res.headers, text: res.body }
}

let seq = 0
/** Signs up and logs in a fresh user; returns {id, email, token}. */
export async function user(env: TestEnv, tag = 'user') {
  const email = `${tag}-${++seq}-${randomBytes(3).toString('hex')}@tranche.test`
  const password = 'correct-horse-battery-9'
  const created = await call(env, 'POST', '/v1/users', { body: { email, password, name: tag } })
  if (created.status !== 201) throw new Error(`sign up failed: ${created.text}`)
  const session = await call(env, 'POST', '/v1/sessions', { body: { email, password } })
  return { id: created.body.id as string, email, password, token: session.body.token as string }
}

export async function adminUser(env: TestEnv) {
  const session = await call(env, 'POST', '/v1/sessions', { body: ADMIN })
  return { id: session.body.user.id as string, email: ADMIN.email, token: session.body.token as string }
}

/** Offer terms with sensible defaults. */
export function terms(over: Record<string, unknown> = {}, amounts: number[] = [100_000]) {
  return {
    title: 'Test job',
    description: 'Work',
    currency: 'USD',
    payment_mode: 'by_milestone',
    milestones: amounts.map((amount, i) => ({ title: `Stage ${i + 1}`, amount })),
    ...over,
  }
}

/** A contract between a fresh client and freelancer (the client offers, the freelancer accepts). */
export async function contract(env: TestEnv, over: Record<string, unknown> = {}, amounts: number[] = [100_000]) {
  const client = await user(env, 'client')
  const freelancer = await user(env, 'freelancer')
  const offer = await call(env, 'POST', '/v1/offers', {
    token: client.token,
    body: { role: 'client', counterparty_email: freelancer.email, ...terms(over, amounts) },
  })
  if (offer.status !== 201) throw new Error(`offer failed: ${offer.text}`)
  const accepted = await call(env, 'POST', `/v1/offers/${offer.body.id}/accept`, {
    token: freelancer.token,
    body: { revision: 1 },
  })
  const c = await call(env, 'GET', `/v1/contracts/${accepted.body.contract_id}`, { token: client.token })
  return {
    client,
    freelancer,
    contract: c.body,
    cid: c.body.id as string,
    ids: (c.body.milestones as { id: string }[]).map((m) => m.id),
  }
}

export async function advance(env: TestEnv, seconds: number) {
  await env.rt.worker.advance(seconds)
}
