/**
 * Setting up the escrow mix over HTTP, as a real client would: sign up client/freelancer pairs, open offers with
 * many milestones, accept them. Everything here runs before the timed window starts.
 */
import { randomBytes } from 'node:crypto'
import type { Http } from './load.ts'

export interface Party {
  readonly id: string
  readonly email: string
  readonly token: string
}
export interface Pair {
  readonly client: Party
  readonly freelancer: Party
}
export interface Job {
  readonly contractId: string
  readonly milestoneId: string
  readonly pair: Pair
}

const PASSWORD = 'bench-password-123'
const run = randomBytes(3).toString('hex')
let seq = 0

function must<T>(r: { status: number; body: unknown; text: string }, what: string): T {
  if (r.status < 200 || r.status >= 300) throw new Error(`${what} failed: ${r.status} ${r.text.slice(0, 300)}`)
  return r.body as T
}

export async function signUp(http: Http, tag: string): Promise<Party> {
  const email = `${tag}-${run}-${++seq}@bench.test`
  const u = must<{ id: string }>(
    await http.call('signup', 'POST', '/v1/users', { body: { email, password: PASSWORD, name: tag } }),
    'sign up',
  )
  const s = must<{ token: string }>(
    await http.call('login', 'POST', '/v1/sessions', { body: { email, password: PASSWORD } }),
    'log in',
  )
  return { id: u.id, email, token: s.token }
}

export async function makePair(http: Http): Promise<Pair> {
  return { client: await signUp(http, 'client'), freelancer: await signUp(http, 'freelancer') }
}

/** Opens an offer (client → freelancer) with `milestones` milestones and accepts it; returns the contract id. */
export async function makeContract(http: Http, pair: Pair, milestones: number): Promise<string> {
  const offer = must<{ id: string }>(
    await http.call('offer', 'POST', '/v1/offers', {
      token: pair.client.token,
      body: {
        role: 'client',
        counterparty_email: pair.freelancer.email,
        title: 'Benchmark job',
        description: 'Work delivered in stages',
        currency: 'USD',
        payment_mode: 'by_milestone',
        milestones: Array.from({ length: milestones }, (_, i) => ({ title: `Stage ${i + 1}`, amount: 10_000 })),
      },
    }),
    'open offer',
  )
  const accepted = must<{ contract_id: string }>(
    await http.call('accept', 'POST', `/v1/offers/${offer.id}/accept`, {
      token: pair.freelancer.token,
      body: { revision: 1 },
    }),
    'accept offer',
  )
  return accepted.contract_id
}

export async function milestonesOf(http: Http, pair: Pair, contractId: string): Promise<string[]> {
  const c = must<{ milestones: { id: string }[] }>(
    await http.call('read_contract', 'GET', `/v1/contracts/${contractId}`, { token: pair.client.token }),
    'read contract',
  )
  return c.milestones.map((m) => m.id)
}

/**
 * One cycle of the escrow mix on a fresh milestone: the client funds it, the freelancer submits, the client
 * approves (full release), then the client reads the contract and the freelancer reads their balances.
 * 5 operations: 3 commands (each one transaction) and 2 reads.
 */
export async function mixCycle(http: Http, job: Job) {
  const { client, freelancer } = job.pair
  const ms = job.milestoneId
  await http.call('fund', 'POST', `/v1/milestones/${ms}/fund`, { token: client.token, body: {} })
  await http.call('submit', 'POST', `/v1/milestones/${ms}/submit`, {
    token: freelancer.token,
    body: { message: 'Delivered: see the attached build.' },
  })
  await http.call('approve', 'POST', `/v1/milestones/${ms}/approve`, { token: client.token, body: {} })
  await http.call('read_contract', 'GET', `/v1/contracts/${job.contractId}`, { token: client.token })
  await http.call('read_balances', 'GET', '/v1/balances', { token: freelancer.token })
}

export const MIX_WRITES = ['fund', 'submit', 'approve']
