/** Shared helpers of the HTTP suites (on top of test/support/harness.ts). */
import { randomBytes } from 'node:crypto'
import { expect } from 'vitest'
import { call, type TestEnv, terms } from '../support/harness.ts'

export type Res = Awaited<ReturnType<typeof call>>
export interface Party {
  readonly id: string
  readonly email: string
  readonly password: string
  readonly token: string
}
export type Deal = Awaited<ReturnType<typeof contract>>

const PASSWORD = 'correct-horse-battery-9'
let seq = 0

async function signUp(env: TestEnv): Promise<Party> {
  const email = `user-${++seq}-${randomBytes(4).toString('hex')}@tranche.test`
  const created = await call(env, 'POST', '/v1/users', { body: { email, password: PASSWORD, name: 'Test user' } })
  if (created.status !== 201) throw new Error(`sign up failed: ${created.text}`)
  const session = await call(env, 'POST', '/v1/sessions', { body: { email, password: PASSWORD } })
  if (session.status !== 201) throw new Error(`log in failed: ${session.text}`)
  return { id: created.body.id, email, password: PASSWORD, token: session.body.token }
}

/**
 * A fresh user (signed up and logged in), like the harness's `user`. Password hashing (argon2id) is most of a test's
 * cost and runs on libuv's thread pool, so users are made four at a time and handed out one by one; every user is
 * still used by one test only. A batch is awaited whole, so nothing is left in flight when an env closes.
 */
const pools = new WeakMap<TestEnv, Party[]>()
export async function user(env: TestEnv, _tag = 'user'): Promise<Party> {
  const pool = pools.get(env) ?? []
  pools.set(env, pool)
  if (!pool.length) pool.push(...(await Promise.all([1, 2, 3, 4].map(() => signUp(env)))))
  return pool.shift()!
}

/** A contract between a fresh client and freelancer (the client offers, the freelancer accepts), like the harness's. */
export async function contract(env: TestEnv, over: Record<string, unknown> = {}, amounts: number[] = [100_000]) {
  const client = await user(env)
  const freelancer = await user(env)
  const body = { role: 'client', counterparty_email: freelancer.email, ...terms(over, amounts) }
  const offer = await call(env, 'POST', '/v1/offers', { token: client.token, body })
  if (offer.status !== 201) throw new Error(`offer failed: ${offer.text}`)
  const accepted = await call(env, 'POST', `/v1/offers/${offer.body.id}/accept`, {
    token: freelancer.token,
    body: { revision: 1 },
  })
  const c = await call(env, 'GET', `/v1/contracts/${accepted.body.contract_id}`, { token: client.token })
  const ids = (c.body.milestones as { id: string }[]).map((m) => m.id)
  return { client, freelancer, contract: c.body, cid: c.body.id as string, ids }
}

export const DAY = 86_400

const TYPE_OF_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'payment_error',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'conflict_error',
  413: 'invalid_request_error',
  429: 'rate_limit_error',
  500: 'api_error',
}

/** Asserts a Stripe-style error: status, type, code and (when given) param. */
export function expectError(res: Res, status: number, code: string, param?: string) {
  expect(res.status, res.text).toBe(status)
  expect(res.body?.error?.code, res.text).toBe(code)
  expect(res.body.error.type).toBe(TYPE_OF_STATUS[status])
  expect(typeof res.body.error.message).toBe('string')
  if (param !== undefined) expect(res.body.error.param, res.text).toBe(param)
}

/** Asserts a 2xx (or the given status) and returns the body. */
export function ok(res: Res, status = 200) {
  expect(res.status, res.text).toBe(status)
  return res.body
}

export const post = (env: TestEnv, token: string | undefined, url: string, body: unknown = {}, idem?: string) =>
  call(env, 'POST', url, { ...(token ? { token } : {}), body, ...(idem ? { idem } : {}) })

export const get = (env: TestEnv, token: string | undefined, url: string) =>
  call(env, 'GET', url, token ? { token } : {})

/** A raw request (string payload, any headers). */
export async function raw(
  env: TestEnv,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  headers: Record<string, string>,
  payload?: string,
) {
  const res = await env.server.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}) })
  // biome-ignore lint/suspicious/noExplicitAny: the parsed JSON answer of any endpoint; tests assert on its fields
  let body: any
  try {
    body = res.body ? JSON.parse(res.body) : undefined
  } catch {
    body = undefined
  }
  return { status: res.statusCode, body, headers: res.headers, text: res.body }
}

export const milestone = async (env: TestEnv, token: string, id: string) =>
  ok(await get(env, token, `/v1/milestones/${id}`))
export const contractOf = async (env: TestEnv, token: string, id: string) =>
  ok(await get(env, token, `/v1/contracts/${id}`))

/** Funds the given milestones (default: all) of a deal, one by one. */
export async function fund(env: TestEnv, d: Deal, ids: string[] = d.ids) {
  for (const id of ids) ok(await post(env, d.client.token, `/v1/milestones/${id}/fund`))
}

export async function submit(env: TestEnv, d: Deal, id: string, body: Record<string, unknown> = { message: 'done' }) {
  return ok(await post(env, d.freelancer.token, `/v1/milestones/${id}/submit`, body))
}

/** A contract whose milestones are all funded. */
export async function funded(env: TestEnv, over: Record<string, unknown> = {}, amounts: number[] = [100_000]) {
  const d = await contract(env, over, amounts)
  await fund(env, d)
  return d
}

/** A contract whose first milestone is submitted (the others funded). */
export async function submitted(env: TestEnv, over: Record<string, unknown> = {}, amounts: number[] = [100_000]) {
  const d = await funded(env, over, amounts)
  await submit(env, d, d.ids[0]!)
  return d
}

/** The user's balance in one currency (zeros when there is none). */
export async function balance(env: TestEnv, token: string, currency = 'USD') {
  const b = ok(await get(env, token, '/v1/balances'))
  const row = (b.data as { currency: string; available: number; pending: number }[]).find(
    (x) => x.currency === currency,
  )
  return { available: row?.available ?? 0, pending: row?.pending ?? 0 }
}

/** The platform's fee revenue in one currency. */
export async function revenue(env: TestEnv, adminToken: string, currency = 'USD') {
  const r = ok(await get(env, adminToken, '/v1/admin/revenue'))
  return (r.data as { currency: string; fees: number }[]).find((x) => x.currency === currency)?.fees ?? 0
}

/** Event types the user sees, newest first (optionally for one contract). */
export async function eventTypes(env: TestEnv, token: string, contractId?: string) {
  const q = contractId ? `&contract_id=${contractId}` : ''
  const r = ok(await get(env, token, `/v1/events?limit=100${q}`))
  return (r.data as { type: string }[]).map((e) => e.type)
}

/** A freshly opened (client-authored) offer between two fresh users. */
export async function openOffer(env: TestEnv, termsOver: Record<string, unknown> = {}, amounts: number[] = [100_000]) {
  const client = await user(env, 'client')
  const freelancer = await user(env, 'freelancer')
  const res = await post(env, client.token, '/v1/offers', {
    role: 'client',
    counterparty_email: freelancer.email,
    ...offerTerms(termsOver, amounts),
  })
  return { client, freelancer, offer: ok(res, 201) }
}

export function offerTerms(over: Record<string, unknown> = {}, amounts: number[] = [100_000]) {
  return {
    title: 'Test job',
    description: 'Work',
    currency: 'USD',
    payment_mode: 'by_milestone',
    milestones: amounts.map((amount, i) => ({ title: `Stage ${i + 1}`, amount })),
    ...over,
  }
}
