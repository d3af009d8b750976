/**
 * Support for the crash test (crash.test.ts): what a crash run checks. `verify` on the database while the server is
 * down; at the end every 2xx is read back (sessions, logins, offers, contracts, milestone states and amounts,
 * balances, payouts) and every keyed write sent again must replay its answer byte for byte; the database holds exactly
 * the modelled objects — no user, offer, contract or payout more — and per milestone exactly the journal entries and
 * events of what happened to it (a fund is milestone state + escrow + ledger lines + event, or nothing); every hold
 * timer fires exactly once, although the server is killed while the test clock steps through the 5-day hold timers.
 */
import { verify } from '../../src/app/verify.ts'
import { num } from '../../src/store/schema.ts'
import { CrashCommands } from './crash-commands.ts'
import type { Body } from './crash-model.ts'
import { ADMIN, CLIENT_FEE, http, rand, sleep, startServer, Unanswered } from './support.ts'

const DAY = 86_400

/** The checks of a crash run: `verify` on the database, and at the end every acknowledged change read back. */
export class CrashChecks extends CrashCommands {
  async verifyNow(when: string) {
    const store = await this.d.open()
    try {
      const report = await verify(store)
      if (!report.ok) this.problem(`verify ${when}: ${report.problems.join('; ')}`)
    } finally {
      await store.close()
    }
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
