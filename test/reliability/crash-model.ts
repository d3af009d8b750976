/**
 * Support for the crash test (crash.test.ts): what a crash run keeps of the server's 2xx answers (users, pairs of
 * users, offers, contracts, milestones, payouts: ids, states, balances), its statistics and problems, and how a request
 * is sent — until it has an answer; a keyed write retried after no answer must replay or run exactly once, or, while
 * the server still holds its key as in flight, is deferred to the end and its pair frozen until then.
 */
import { randomBytes } from 'node:crypto'
import { type Deployment, Gate } from './crash-deployment.ts'
import { errorCode, http, type Res, sleep, Unanswered } from './support.ts'

/** A flow stops here: an unexpected answer (recorded as a problem) or a request deferred to the end. */
export class Abandon extends Error {}

export interface Acct {
  readonly email: string
  readonly password: string
  readonly id: string
  readonly token: string
}
export interface Pair {
  readonly c: Acct
  readonly f: Acct
  /** the client's available balance */
  credit: bigint
  /** the freelancer's pending + available */
  earned: bigint
  frozen: boolean
}
export interface Ms {
  readonly id: string
  readonly contractId: string
  readonly pair: Pair
  readonly amount: bigint
  readonly deposit: boolean
  state: string
  escrow: bigint
  released: bigint
  refunded: bigint
  funded: boolean
  submitted: boolean
  refundRequestId: string | null
}
export interface Req {
  readonly method: 'GET' | 'POST'
  readonly path: string
  readonly token?: string
  readonly body?: unknown
  readonly idem?: string
}
// biome-ignore lint/suspicious/noExplicitAny: JSON answers
export type Body = any
export type Apply = (body: Body) => void | Promise<void>
export interface Deferred {
  readonly req: Req
  readonly expect: number
  readonly apply: Apply
}

/** The model, the statistics and the sending of requests; the commands are added by CrashCommands. */
export class CrashModel {
  readonly gate = new Gate()
  stopping = false
  readonly problems: string[] = []
  readonly stats = {
    kills: 0,
    requests: 0,
    acks: 0,
    flows: 0,
    unansweredWrites: 0,
    replayed: 0,
    ranOnRetry: 0,
    deferred: 0,
    deferredReplayed: 0,
    deferredRan: 0,
    /** kills that landed right after an answered write or a WAL write (the others: at a random moment) */
    killsOnTrigger: 0,
    /** hold timers that had run when the server was killed during the final advance, of those due */
    holdsBeforeKill: 0,
    advanceAnswered: 0,
  }
  readonly users: Acct[] = []
  readonly pairs: Pair[] = []
  readonly offers = new Map<string, { pair: Pair; contractId: string | null }>()
  readonly contracts = new Map<string, { pair: Pair; milestones: string[] }>()
  readonly milestones = new Map<string, Ms>()
  readonly payouts = new Map<string, { userId: string; amount: bigint }>()
  readonly deferred: Deferred[] = []
  /** every keyed write with its 2xx answer: sent again at the end, it must replay exactly */
  readonly answered: { req: Req; status: number; text: string }[] = []
  adminToken = ''
  /** set while a kill waits for the next 2xx to a write: the rest of its group commit may be unanswered */
  protected armed: (() => void) | null = null

  constructor(readonly d: Deployment) {}

  get url() {
    return `http://127.0.0.1:${this.d.port}`
  }

  problem(p: string) {
    if (this.problems.length < 100) this.problems.push(p)
  }

  same(what: string, actual: unknown, expected: unknown) {
    if (String(actual) !== String(expected)) this.problem(`${what}: ${actual}, expected ${expected}`)
  }

  // -------------------------------------------------------------------------------------------------------------
  // Requests

  /** Sends until answered; `retried` when an earlier attempt got no answer (the server may have done it). */
  async send(r: Req): Promise<Res & { retried: boolean }> {
    let retried = false
    for (let attempt = 1; ; attempt++) {
      await this.gate.wait()
      try {
        const res = await http(this.url, r.method, r.path, { token: r.token, body: r.body, idem: r.idem })
        this.stats.requests++
        if (this.armed && r.method === 'POST' && res.status < 300) this.armed()
        if (res.status >= 500) this.problem(`${r.method} ${r.path} → ${res.status} ${res.text}`)
        return { ...res, retried }
      } catch (e) {
        if (!(e instanceof Unanswered)) throw e
        if (!retried && r.method === 'POST') this.stats.unansweredWrites++
        retried = true
        if (attempt >= 600) throw new Error(`${r.method} ${r.path}: no answer after ${attempt} attempts: ${e.message}`)
        await sleep(100)
      }
    }
  }

  /** One command of a flow: sent (and retried) until it has a definite answer, which must be `expect`. */
  async step(pair: Pair | null, req: Req, expect: number, apply: Apply): Promise<Body> {
    const res = await this.send(req)
    if (res.retried && req.idem) {
      if (res.status === 409 && errorCode(res) === 'idempotency_key_in_use') {
        this.stats.deferred++
        if (pair) pair.frozen = true
        this.deferred.push({ req, expect, apply })
        throw new Abandon()
      }
      if (res.replayed) this.stats.replayed++
      else this.stats.ranOnRetry++
    }
    if (res.status !== expect) {
      this.problem(
        `${req.method} ${req.path}${res.retried ? ' (retried after no answer)' : ''} → ${res.status} ${res.text}, expected ${expect}`,
      )
      if (pair) pair.frozen = true
      throw new Abandon()
    }
    this.stats.acks++
    if (req.idem) this.answered.push({ req, status: res.status, text: res.text })
    await apply(res.body)
    return res.body
  }

  // -------------------------------------------------------------------------------------------------------------
  // Users

  async signup(tag: string): Promise<Acct> {
    const email = `${tag}-${randomBytes(6).toString('hex')}@crash.test`
    const password = 'correct-horse-battery-9'
    const created = await this.send({ method: 'POST', path: '/v1/users', body: { email, password, name: tag } })
    let id: string | null = null
    if (created.status === 201) id = created.body.id
    else if (!(created.retried && created.status === 409 && errorCode(created) === 'email_taken')) {
      this.problem(`sign-up → ${created.status} ${created.text}`)
      throw new Abandon()
    }
    const s = await this.send({ method: 'POST', path: '/v1/sessions', body: { email, password } })
    if (s.status !== 200 && s.status !== 201) {
      this.problem(`login of ${email}${id ? ` (signed up: ${id})` : ''} → ${s.status} ${s.text}`)
      throw new Abandon()
    }
    if (id !== null) this.same(`user id of ${email} at login`, s.body.user.id, id)
    const acct = { email, password, id: s.body.user.id as string, token: s.body.token as string }
    this.users.push(acct)
    this.stats.acks += 2
    return acct
  }

  async newPair(): Promise<Pair> {
    const p: Pair = {
      c: await this.signup('client'),
      f: await this.signup('freelancer'),
      credit: 0n,
      earned: 0n,
      frozen: false,
    }
    this.pairs.push(p)
    return p
  }
}
