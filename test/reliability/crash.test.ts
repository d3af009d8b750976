/**
 * Crash consistency (SPEC §1 "a 2xx answer means the change is on disk", §5 "every accepted command is one database
 * transaction", §7 invariants, §10 Idempotency-Key).
 *
 * The real server (`tranche serve`, see support.ts) runs as a child process. Concurrent clients drive it — sign-ups,
 * logins, offers, accepts, funds (one milestone, several at once, deposits), submits, approves, refund requests and
 * their acceptance, freelancer refunds, payouts — every POST with an Idempotency-Key, while the test SIGKILLs the
 * server and restarts it on the same database: at a random moment, right after a write was answered (the rest of its
 * group commit may be unanswered), or the instant the SQLite WAL is written; the last kill lands while the test
 * clock steps through the 5-day hold timers. Each client owns a pair of users and keeps a model of what its 2xx
 * answers said (ids, states, balances). A request that got no answer is retried with the same key once the server is
 * back: it must replay or run exactly once. When the server still holds the key as in flight (PostgreSQL keeps claims
 * as rows, stale after 60 s) the request is retried at the end instead, its pair frozen until then.
 *
 * Checked: `verify` after every kill (server down); at the end every 2xx is read back (sessions, logins, offers,
 * contracts, milestone states and amounts, balances, payouts) and every keyed write sent again must replay its
 * answer byte for byte; the database holds exactly the modelled objects — no user, offer, contract or payout more —
 * and per milestone exactly the journal entries and events of what happened to it (a fund is milestone state + escrow
 * + ledger lines + event, or nothing); every hold timer fires exactly once across the kill; `tranche verify` exits 0.
 *
 * SIGKILL tests atomicity and "answer only after commit", not fsync ordering: the OS page cache survives a killed
 * process (that would take power-loss simulation).
 *
 * CI: 10 (+1) kills on SQLite, 3 (+1) on PostgreSQL (TRANCHE_TEST_DATABASE_URL). TRANCHE_DEEP=1: 40 and 15, more
 * clients.
 */
import { randomBytes } from 'node:crypto'
import { type FSWatcher, mkdtempSync, rmSync, watch } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { verify } from '../../src/app/verify.ts'
import type { Store } from '../../src/store/database.ts'
import { openStore } from '../../src/store/open-store.ts'
import { num } from '../../src/store/schema.ts'
import {
  ADMIN,
  CLIENT_FEE,
  DEEP,
  dropSchema,
  errorCode,
  freePort,
  http,
  key,
  NET,
  PG_URL,
  prepareSchema,
  type Res,
  rand,
  removeBundle,
  type ServerProc,
  schemaUrl,
  sleep,
  startServer,
  Unanswered,
  verifyCli,
} from './support.ts'

type Kind = 'sqlite' | 'postgres'
const BACKENDS: Kind[] = PG_URL ? ['sqlite', 'postgres'] : ['sqlite']
const PLAN: Record<Kind, { kills: number; clients: number }> = {
  sqlite: { kills: DEEP ? 40 : 10, clients: DEEP ? 16 : 10 },
  postgres: { kills: DEEP ? 15 : 3, clients: DEEP ? 12 : 8 },
}
/** ms of load between a restart and the next kill */
const WINDOW: [number, number] = DEEP ? [0, 3_000] : [0, 1_500]
/** The bound is for a heavily loaded machine; on an idle 2-core machine a run takes about a minute. */
const TEST_MS = DEEP ? 60 * 60_000 : 12 * 60_000
const DAY = 86_400

interface Deployment {
  readonly env: Record<string, string>
  /** SQLite: the write-ahead log, watched to kill the server in the middle of a commit */
  readonly wal: string | null
  readonly port: number
  server: ServerProc | null
  open(): Promise<Store>
  cleanup(): Promise<void>
}

async function deploy(kind: Kind): Promise<Deployment> {
  const port = await freePort()
  const base = {
    TRANCHE_CLOCK: 'manual',
    TRANCHE_ADMIN_EMAIL: ADMIN.email,
    TRANCHE_ADMIN_PASSWORD: ADMIN.password,
    TRANCHE_LOG_LEVEL: 'silent',
    // a timer leased by a killed server is free again after 2 s (default 60 s)
    TRANCHE_TIMER_LEASE_MS: '2000',
  }
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tranche-crash-'))
    const file = join(dir, 'tranche.db')
    return {
      env: { ...base, TRANCHE_DB: file },
      wal: `${file}-wal`,
      port,
      server: null,
      open: () => openStore({ databaseUrl: null, sqlitePath: file }),
      async cleanup() {
        rmSync(dir, { recursive: true, force: true })
      },
    }
  }
  const schema = await prepareSchema()
  return {
    env: { ...base, DATABASE_URL: schemaUrl(schema) },
    wal: null,
    port,
    server: null,
    open: () => openStore({ databaseUrl: PG_URL, sqlitePath: '', schema }),
    cleanup: () => dropSchema(schema),
  }
}

/** Closed while the server is down: clients wait here instead of hammering a dead port. */
class Gate {
  private waiting: Promise<void> = Promise.resolve()
  private release: (() => void) | null = null
  close() {
    if (!this.release) this.waiting = new Promise((r) => (this.release = r))
  }
  open() {
    this.release?.()
    this.release = null
  }
  wait() {
    return this.waiting
  }
}

/** A flow stops here: an unexpected answer (recorded as a problem) or a request deferred to the end. */
class Abandon extends Error {}

interface Acct {
  readonly email: string
  readonly password: string
  readonly id: string
  readonly token: string
}
interface Pair {
  readonly c: Acct
  readonly f: Acct
  /** the client's available balance */
  credit: bigint
  /** the freelancer's pending + available */
  earned: bigint
  frozen: boolean
}
interface Ms {
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
interface Req {
  readonly method: 'GET' | 'POST'
  readonly path: string
  readonly token?: string
  readonly body?: unknown
  readonly idem?: string
}
// biome-ignore lint/suspicious/noExplicitAny: JSON answers
type Body = any
type Apply = (body: Body) => void | Promise<void>
interface Deferred {
  readonly req: Req
  readonly expect: number
  readonly apply: Apply
}

const amountK = (lo: number, hi: number) => BigInt(rand(lo, hi) * 1_000)

class CrashRun {
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
    /** hold timers that had run when the server was killed during the final advance, of those due */
    /** kills that landed right after an answered write or a WAL write (the others: at a random moment) */
    killsOnTrigger: 0,
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
  private armed: (() => void) | null = null

  constructor(
    readonly d: Deployment,
    readonly label: string,
  ) {}

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

  // -------------------------------------------------------------------------------------------------------------
  // Commands and what their 2xx means for the model

  async contract(p: Pair, lines: { amount: bigint; deposit?: boolean }[]): Promise<Ms[]> {
    const body = {
      role: 'client',
      counterparty_email: p.f.email,
      title: 'Crash job',
      description: 'Work that survives crashes',
      currency: 'USD',
      payment_mode: 'by_milestone',
      review_days: 30,
      milestones: lines.map((l, i) => ({ title: `Stage ${i + 1}`, amount: Number(l.amount), deposit: !!l.deposit })),
    }
    const offer = await this.step(
      p,
      { method: 'POST', path: '/v1/offers', token: p.c.token, body, idem: key('offer') },
      201,
      (b) => {
        this.same('new offer status', b.status, 'open')
        this.offers.set(b.id, { pair: p, contractId: null })
      },
    )
    const accepted = await this.step(
      p,
      {
        method: 'POST',
        path: `/v1/offers/${offer.id}/accept`,
        token: p.f.token,
        body: { revision: offer.revision },
        idem: key('accept'),
      },
      200,
      (b) => this.registerContract(p, b, lines),
    )
    return this.contracts.get(accepted.contract_id)!.milestones.map((id) => this.milestones.get(id)!)
  }

  async registerContract(p: Pair, offer: Body, lines: { amount: bigint; deposit?: boolean }[]) {
    this.same(`offer ${offer.id} status after accept`, offer.status, 'accepted')
    const o = this.offers.get(offer.id)
    if (!o) this.problem(`accepted offer ${offer.id} was never acknowledged as created`)
    else o.contractId = offer.contract_id
    const c = await this.send({ method: 'GET', path: `/v1/contracts/${offer.contract_id}`, token: p.c.token })
    if (c.status !== 200) {
      this.problem(`contract ${offer.contract_id} of an acknowledged accept → ${c.status} ${c.text}`)
      throw new Abandon()
    }
    const ids: string[] = []
    c.body.milestones.forEach((m: Body, i: number) => {
      ids.push(m.id)
      this.same(`milestone ${m.id} state of a new contract`, m.state, 'pending')
      this.milestones.set(m.id, {
        id: m.id,
        contractId: c.body.id,
        pair: p,
        amount: lines[i]!.amount,
        deposit: !!lines[i]!.deposit,
        state: 'pending',
        escrow: 0n,
        released: 0n,
        refunded: 0n,
        funded: false,
        submitted: false,
        refundRequestId: null,
      })
    })
    this.contracts.set(c.body.id, { pair: p, milestones: ids })
  }

  /** Funding: principal + client fee, paid from the client's credit first (SPEC §5); a deposit is released at once. */
  applyFund(p: Pair, list: Ms[]) {
    for (const m of list) {
      const charge = m.amount + CLIENT_FEE(m.amount)
      p.credit = p.credit > charge ? p.credit - charge : 0n
      m.funded = true
      if (m.deposit) {
        m.state = 'released'
        m.released = m.amount
        p.earned += NET(m.amount)
      } else {
        m.state = 'funded'
        m.escrow = m.amount
      }
    }
  }

  applyRelease(m: Ms) {
    m.pair.earned += NET(m.escrow)
    m.released += m.escrow
    m.escrow = 0n
    m.state = 'released'
  }

  applyRefund(m: Ms) {
    m.pair.credit += m.escrow + CLIENT_FEE(m.escrow)
    m.refunded += m.escrow
    m.escrow = 0n
    m.state = 'refunded'
  }

  milestoneCmd(p: Pair, m: Ms, verb: string, token: string, body: unknown, change: (b: Body) => void) {
    return this.step(
      p,
      { method: 'POST', path: `/v1/milestones/${m.id}/${verb}`, token, body, idem: key(verb) },
      200,
      (b) => {
        change(b)
        this.same(`${verb} ${m.id}: state answered`, b.state, m.state)
      },
    )
  }

  fund = (p: Pair, m: Ms) => this.milestoneCmd(p, m, 'fund', p.c.token, {}, () => this.applyFund(p, [m]))
  submit = (p: Pair, m: Ms) =>
    this.milestoneCmd(
      p,
      m,
      'submit',
      p.f.token,
      { message: 'Done, see the link', links: ['https://example.com/w'] },
      () => {
        m.state = 'submitted'
        m.submitted = true
      },
    )
  approve = (p: Pair, m: Ms) => this.milestoneCmd(p, m, 'approve', p.c.token, {}, () => this.applyRelease(m))
  freelancerRefund = (p: Pair, m: Ms) =>
    this.milestoneCmd(p, m, 'refund', p.f.token, { reason: 'Cannot do it' }, () => this.applyRefund(m))
  requestRefund = (p: Pair, m: Ms) =>
    this.milestoneCmd(p, m, 'request_refund', p.c.token, { reason: 'Changed plans' }, (b) => {
      m.state = 'refund_requested'
      m.refundRequestId = b.refund_request_id
      if (!b.refund_request_id) this.problem(`request_refund ${m.id}: no refund_request_id in the answer`)
    })

  async acceptRefund(p: Pair, m: Ms) {
    await this.step(
      p,
      {
        method: 'POST',
        path: `/v1/refund_requests/${m.refundRequestId}/accept`,
        token: p.f.token,
        body: {},
        idem: key('accept-refund'),
      },
      200,
      (b) => {
        this.same(`refund request ${m.refundRequestId} status`, b.status, 'accepted')
        this.applyRefund(m)
      },
    )
  }

  async fundAll(p: Pair, list: Ms[]) {
    const cid = list[0]!.contractId
    await this.step(
      p,
      {
        method: 'POST',
        path: `/v1/contracts/${cid}/fund`,
        token: p.c.token,
        body: { milestone_ids: list.map((m) => m.id) },
        idem: key('fund-all'),
      },
      200,
      (b) => {
        this.applyFund(p, list)
        for (const m of list)
          this.same(`fund-all ${m.id}: state answered`, b.milestones.find((x: Body) => x.id === m.id)?.state, m.state)
      },
    )
  }

  async payout(p: Pair) {
    const amount = Math.random() < 0.5 ? p.credit : p.credit / 2n
    if (amount <= 0n) return
    await this.step(
      p,
      {
        method: 'POST',
        path: '/v1/payouts',
        token: p.c.token,
        body: { amount: Number(amount), currency: 'USD' },
        idem: key('payout'),
      },
      201,
      (b) => {
        this.same('payout amount answered', b.amount, amount)
        this.same('payout status', b.status, 'paid')
        p.credit -= amount
        this.payouts.set(b.id, { userId: p.c.id, amount })
      },
    )
  }

  // -------------------------------------------------------------------------------------------------------------
  // Flows

  async flow(p: Pair) {
    const r = Math.random()
    if (r < 0.3) {
      const [m] = await this.contract(p, [{ amount: amountK(20, 200) }])
      await this.fund(p, m!)
      await this.submit(p, m!)
      await this.approve(p, m!)
    } else if (r < 0.5) {
      const [m] = await this.contract(p, [{ amount: amountK(20, 200) }])
      await this.fund(p, m!)
      await this.requestRefund(p, m!)
      await this.acceptRefund(p, m!)
    } else if (r < 0.65) {
      const [a, b] = await this.contract(p, [{ amount: amountK(20, 100) }, { amount: amountK(20, 100) }])
      await this.fundAll(p, [a!, b!])
      await this.submit(p, a!)
      await this.approve(p, a!)
      await this.freelancerRefund(p, b!)
    } else if (r < 0.75) {
      const rest = amountK(40, 200)
      const [dep, m] = await this.contract(p, [
        { amount: BigInt(rand(5, Number(rest / 1_000n))) * 1_000n, deposit: true },
        { amount: rest },
      ])
      await this.fundAll(p, [dep!, m!])
      await this.submit(p, m!)
      await this.approve(p, m!)
    } else if (r < 0.93) {
      if (p.credit > 0n) await this.payout(p)
      else {
        const [m] = await this.contract(p, [{ amount: amountK(20, 100) }])
        await this.fund(p, m!)
        await this.freelancerRefund(p, m!)
      }
    } else {
      await this.signup('visitor')
    }
  }

  async client(i: number, first: Pair) {
    let p: Pair | null = first
    while (!this.stopping) {
      try {
        if (!p || p.frozen) p = await this.newPair()
        await this.flow(p)
        this.stats.flows++
      } catch (e) {
        if (e instanceof Abandon) continue
        this.problem(`client ${i}: ${(e as Error).stack ?? e}`)
        if (p) p.frozen = true
        await sleep(500)
      }
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // The run

  async verifyNow(when: string) {
    const store = await this.d.open()
    try {
      const report = await verify(store)
      if (!report.ok) this.problem(`verify ${when}: ${report.problems.join('; ')}`)
    } finally {
      await store.close()
    }
  }

  /** Resolves once `n` more writes have been acknowledged (or after `maxMs`): each kill hits a server under load. */
  progress(n: number, maxMs: number) {
    const target = this.stats.acks + n
    const until = Date.now() + maxMs
    return (async () => {
      while (this.stats.acks < target && Date.now() < until) await sleep(50)
    })()
  }

  /**
   * Kills the server. Modes, in turn: at a random moment; right after a write was answered (the commands committed
   * in the same group commit may not be answered yet); right when the SQLite WAL is written (a commit on its way to
   * disk — after restart it is there, unanswered: the retry must replay).
   */
  async kill(k: number) {
    const server = this.d.server!
    const mode = k % 3
    let fire = () => {}
    const fired = new Promise<void>((r) => {
      fire = () => {
        if (server.proc.signalCode !== null || server.proc.killed) return
        this.stats.killsOnTrigger++
        this.gate.close()
        server.proc.kill('SIGKILL')
        r()
      }
    })
    if (mode === 1 || (mode === 2 && !this.d.wal)) {
      this.armed = () => {
        this.armed = null
        fire()
      }
      await Promise.race([fired, sleep(5_000)])
      this.armed = null
    } else if (mode === 2 && this.d.wal) {
      let watcher: FSWatcher | null = null
      try {
        watcher = watch(this.d.wal, () => fire())
        await Promise.race([fired, sleep(5_000)])
      } catch {
        /* no WAL file yet */
      } finally {
        watcher?.close()
      }
    }
    this.gate.close()
    await server.kill()
    this.stats.kills++
  }

  async run(plan: { kills: number; clients: number }) {
    this.d.server = await startServer(this.d.env, this.d.port)
    const admin = await http(this.url, 'POST', '/v1/sessions', { body: ADMIN })
    expect(admin.status, admin.text).toBeLessThan(300)
    this.adminToken = admin.body.token
    const pairs = await Promise.all(Array.from({ length: plan.clients }, () => this.newPair()))
    const clients = pairs.map((p, i) => this.client(i, p))
    for (let k = 1; k <= plan.kills; k++) {
      await this.progress(plan.clients, 60_000)
      await sleep(rand(...WINDOW))
      await this.kill(k)
      await this.verifyNow(`after kill ${k}`)
      this.d.server = await startServer(this.d.env, this.d.port)
      this.gate.open()
    }
    await this.progress(plan.clients, 60_000)
    this.stopping = true
    await Promise.all(clients)
    await this.reconcile()
    await this.readBack()
    await this.replayAll()
    await this.checkDatabase()
    await this.checkHoldRelease()
    await this.d.server!.kill()
    const cli = await verifyCli(this.d.env)
    if (cli.code !== 0) this.problem(`tranche verify exited ${cli.code}:\n${cli.output}`)
    await this.verifyNow('at the end')
  }

  /** Every acknowledged keyed write, sent again after the crashes: the same status and body, replayed. */
  async replayAll() {
    for (const a of this.answered) {
      const r = await this.send(a.req)
      if (r.status !== a.status || !r.replayed || r.text !== a.text)
        this.problem(
          `${a.req.method} ${a.req.path} sent again with its key → ${r.status} (replayed: ${r.replayed}) ${r.text}; first answer ${a.status} ${a.text}`,
        )
    }
  }

  /** The requests deferred because their key was still held as in flight: retried until it is free. */
  async reconcile() {
    const deadline = Date.now() + 150_000
    for (const d of this.deferred) {
      for (;;) {
        const res = await this.send(d.req)
        if (res.status === 409 && errorCode(res) === 'idempotency_key_in_use') {
          if (Date.now() < deadline) {
            await sleep(2_000)
            continue
          }
          this.problem(`${d.req.method} ${d.req.path}: key still in use after 150 s`)
          break
        }
        if (res.replayed) this.stats.deferredReplayed++
        else this.stats.deferredRan++
        if (res.status !== d.expect) {
          this.problem(`deferred ${d.req.method} ${d.req.path} → ${res.status} ${res.text}, expected ${d.expect}`)
          break
        }
        try {
          await d.apply(res.body)
        } catch (e) {
          if (!(e instanceof Abandon)) throw e
        }
        break
      }
    }
  }

  /** Every 2xx read back through the API. */
  async readBack() {
    const get = async (path: string, token: string) => {
      const r = await this.send({ method: 'GET', path, token })
      if (r.status !== 200) this.problem(`GET ${path} → ${r.status} ${r.text}`)
      return r.body
    }
    for (const u of this.users) {
      const me = await get('/v1/me', u.token)
      this.same(`session of ${u.email} after the crashes`, me?.id, u.id)
    }
    for (const u of this.users.slice(0, 6)) {
      const s = await this.send({
        method: 'POST',
        path: '/v1/sessions',
        body: { email: u.email, password: u.password },
      })
      this.same(`login of ${u.email} after the crashes`, s.body?.user?.id, u.id)
    }
    for (const [id, o] of this.offers) {
      const offer = await get(`/v1/offers/${id}`, o.pair.c.token)
      this.same(`offer ${id} status`, offer?.status, o.contractId ? 'accepted' : 'open')
      this.same(`offer ${id} contract`, offer?.contract_id ?? null, o.contractId)
    }
    for (const [id, c] of this.contracts) {
      const contract = await get(`/v1/contracts/${id}`, c.pair.c.token)
      for (const msId of c.milestones) {
        const m = this.milestones.get(msId)!
        const got = contract?.milestones?.find((x: Body) => x.id === msId)
        this.same(`milestone ${msId} state`, got?.state, m.state)
        this.same(`milestone ${msId} escrow_amount`, got?.escrow_amount, m.escrow)
        this.same(`milestone ${msId} escrow_fee_amount`, got?.escrow_fee_amount, CLIENT_FEE(m.escrow))
        this.same(`milestone ${msId} released_amount`, got?.released_amount, m.released)
        this.same(`milestone ${msId} refunded_amount`, got?.refunded_amount, m.refunded)
      }
    }
    for (const p of this.pairs) {
      const cb = (await get('/v1/balances', p.c.token))?.data?.find((b: Body) => b.currency === 'USD')
      this.same(`client ${p.c.id} available`, cb?.available ?? 0, p.credit)
      this.same(`client ${p.c.id} pending`, cb?.pending ?? 0, 0)
      const fb = (await get('/v1/balances', p.f.token))?.data?.find((b: Body) => b.currency === 'USD')
      this.same(`freelancer ${p.f.id} pending + available`, (fb?.pending ?? 0) + (fb?.available ?? 0), p.earned)
      const payouts = (await get('/v1/payouts?limit=100', p.c.token))?.data ?? []
      const mine = [...this.payouts].filter(([, x]) => x.userId === p.c.id)
      this.same(
        `payouts of ${p.c.id}`,
        payouts
          .map((x: Body) => `${x.id}:${x.amount}`)
          .sort()
          .join(','),
        mine
          .map(([id, x]) => `${id}:${x.amount}`)
          .sort()
          .join(','),
      )
    }
  }

  /** Exactly the modelled objects, and per milestone exactly the entries and events of what happened to it. */
  async checkDatabase() {
    const store = await this.d.open()
    try {
      const db = store.db
      const count = async (table: 'users' | 'offers' | 'contracts' | 'payouts') =>
        num(
          (
            await db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<bigint>().as('n'))
              .executeTakeFirst()
          )?.n,
        )
      const users = num(
        (
          await db
            .selectFrom('users')
            .select((eb) => eb.fn.countAll<bigint>().as('n'))
            .where('email', '!=', ADMIN.email)
            .executeTakeFirst()
        )?.n,
      )
      this.same('users in the database', users, this.users.length)
      this.same('offers in the database', await count('offers'), this.offers.size)
      this.same('contracts in the database', await count('contracts'), this.contracts.size)
      this.same('payouts in the database', await count('payouts'), this.payouts.size)

      const entries = await db
        .selectFrom('journal_entries')
        .select(['milestone_id', 'kind', (eb) => eb.fn.countAll<bigint>().as('n')])
        .where('milestone_id', 'is not', null)
        .groupBy(['milestone_id', 'kind'])
        .execute()
      const events = await db
        .selectFrom('events')
        .select(['object_id', 'type', (eb) => eb.fn.countAll<bigint>().as('n')])
        .where('type', 'in', ['milestone.funded', 'milestone.submitted', 'milestone.released', 'milestone.refunded'])
        .groupBy(['object_id', 'type'])
        .execute()
      const got = new Map<string, number>()
      for (const e of entries) got.set(`${e.milestone_id} entry ${e.kind}`, num(e.n))
      for (const e of events) got.set(`${e.object_id} event ${e.type}`, num(e.n))
      const want = new Map<string, number>()
      for (const m of this.milestones.values()) {
        if (m.funded) {
          want.set(`${m.id} entry fund`, 1)
          want.set(`${m.id} event milestone.funded`, 1)
        }
        if (m.released > 0n) {
          want.set(`${m.id} entry release`, 1)
          want.set(`${m.id} event milestone.released`, 1)
        }
        if (m.refunded > 0n) {
          want.set(`${m.id} entry refund`, 1)
          want.set(`${m.id} event milestone.refunded`, 1)
        }
        if (m.submitted) want.set(`${m.id} event milestone.submitted`, 1)
      }
      for (const [k, n] of want)
        if (got.get(k) !== n) this.problem(`${k}: ${got.get(k) ?? 0} in the database, expected ${n}`)
      for (const [k, n] of got) {
        const id = k.split(' ')[0]!
        if (!this.milestones.has(id)) this.problem(`${k}: ${n} for a milestone no acknowledged command created`)
        else if (!want.has(k)) this.problem(`${k}: ${n} in the database, expected none`)
      }

      const holds = await db.selectFrom('timers').select('key').where('kind', '=', 'hold_release').execute()
      const releases = entries.filter((e) => e.kind === 'release').reduce((s, e) => s + num(e.n), 0)
      this.same('hold_release timers (one per release)', holds.length, releases)
      const inFlight = await db.selectFrom('idempotency_keys').select('key').where('status', '!=', 'done').execute()
      this.same('idempotency keys still in flight', inFlight.map((k) => k.key).join(','), '')
    } finally {
      await store.close()
    }
  }

  /**
   * 6 days later every hold has run exactly once, although the server was killed while the test clock stepped
   * through them (one timer per transaction): the freelancers' earnings are all available, none twice.
   */
  async checkHoldRelease() {
    const admin = { token: this.adminToken }
    const clock = async () =>
      Date.parse((await this.send({ method: 'GET', path: '/v1/test_clock', ...admin })).body.now)
    const target = (await clock()) + 6 * DAY * 1000
    const holdTimers = async () => {
      const store = await this.d.open()
      try {
        return (await store.db.selectFrom('timers').select('key').where('kind', '=', 'hold_release').execute()).length
      } finally {
        await store.close()
      }
    }
    const due = await holdTimers()
    // not retried: a second "advance 6 days" would move the clock 12 days
    const first = http(this.url, 'POST', '/v1/test_clock/advance', { ...admin, body: { seconds: 6 * DAY } }).catch(
      (e: unknown) => e,
    )
    await sleep(rand(20, 400))
    this.gate.close()
    await this.d.server!.kill()
    this.stats.kills++
    const answered = await first
    this.stats.holdsBeforeKill = due - (await holdTimers())
    this.stats.advanceAnswered = answered instanceof Unanswered ? 0 : 1
    await this.verifyNow('after the kill during the advance')
    this.d.server = await startServer(this.d.env, this.d.port)
    this.gate.open()
    const deadline = Date.now() + 60_000
    for (;;) {
      const left = Math.max(0, Math.ceil((target - (await clock())) / 1000))
      const r = await this.send({ method: 'POST', path: '/v1/test_clock/advance', ...admin, body: { seconds: left } })
      if (r.status !== 200) return this.problem(`advance → ${r.status} ${r.text}`)
      // a timer leased by the killed server waits for its lease to end (TRANCHE_TIMER_LEASE_MS)
      if ((await holdTimers()) === 0) break
      if (Date.now() > deadline)
        return this.problem(`hold timers still due 60 s after the restart: ${await holdTimers()}`)
      await sleep(500)
    }
    for (const p of this.pairs) {
      const fb = (await this.send({ method: 'GET', path: '/v1/balances', token: p.f.token })).body?.data?.find(
        (b: Body) => b.currency === 'USD',
      )
      this.same(`freelancer ${p.f.id} available after the hold`, fb?.available ?? 0, p.earned)
      this.same(`freelancer ${p.f.id} pending after the hold`, fb?.pending ?? 0, 0)
    }
  }
}

describe.each(BACKENDS)('crash consistency on %s (SIGKILL under load)', (kind) => {
  let d: Deployment | null = null
  afterAll(async () => {
    await d?.server?.kill()
    await d?.cleanup()
    removeBundle()
  })

  it(
    `keeps every acknowledged change, leaves no trace of the others, and verifies after ${PLAN[kind].kills} kills`,
    async () => {
      d = await deploy(kind)
      const run = new CrashRun(d, kind)
      const started = Date.now()
      try {
        await run.run(PLAN[kind])
      } finally {
        console.log(
          `[crash ${kind}] ${Math.round((Date.now() - started) / 1000)} s, ${JSON.stringify(run.stats)}, ` +
            `users ${run.users.length}, offers ${run.offers.size}, contracts ${run.contracts.size}, ` +
            `milestones ${run.milestones.size}, payouts ${run.payouts.size}, problems ${run.problems.length}`,
        )
      }
      if (run.problems.length) console.error(`[crash ${kind}] problems:\n${run.problems.join('\n')}`)
      expect(run.problems.join('\n')).toBe('')
      expect(run.stats.kills).toBe(PLAN[kind].kills + 1)
      expect(run.stats.unansweredWrites).toBeGreaterThan(0)
      expect(run.milestones.size).toBeGreaterThan(0)
    },
    TEST_MS,
  )
})
