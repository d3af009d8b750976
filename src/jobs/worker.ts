/**
 * The worker: runs due timers (each as a normal command, exactly once) and sends webhook deliveries from the
 * outbox. In-process by default (TRANCHE_WORKER=inline) or as separate processes (`tranche worker`); any number of
 * them may share one PostgreSQL database — timers are claimed with leases, deliveries too.
 */
import { hostname } from 'node:os'
import type { Updateable } from 'kysely'
import type { App } from '../app/app.ts'
import { ManualClock } from '../app/clock.ts'
import { newId } from '../app/ids.ts'
import { runTimer } from '../app/timers.ts'
import { writeOnce } from '../store/database.ts'
import { claimDue, failTimer, releaseLeases } from '../store/repos/timer-repo.ts'
import { type DB, num } from '../store/schema.ts'
import { checkedLookup, type ResolveHost, refuseUrl, systemResolve } from './url-guard.ts'
import { DeliveryTimeout, postWebhook } from './webhook-post.ts'
import { backoffMs, GIVE_UP_AFTER_MS, sign } from './webhook-signature.ts'

const LEASE_MS = 60_000
const DELIVERY_TIMEOUT_MS = 10_000
const MAX_IN_FLIGHT = 8
/** Deliveries one endpoint may have in flight at once, so a hanging endpoint cannot take every slot. */
const MAX_PER_ENDPOINT = 2

/** A duration override from the environment (tests use short leases and timeouts); the default otherwise. */
function envMs(name: string, dflt: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return dflt
  const v = Number(raw)
  return Number.isInteger(v) && v > 0 ? v : dflt
}

export class Worker {
  readonly owner = `${hostname()}:${process.pid}:${newId('wrk', 8)}`
  private stopped = true
  private timerLoop: Promise<void> | null = null
  private deliveryLoop: Promise<void> | null = null
  private readonly wakers = new Set<() => void>()
  private readonly inFlight = new Set<Promise<void>>()
  /** endpoint id → deliveries to it in flight */
  private readonly busy = new Map<string, number>()
  private advancing: Promise<unknown> = Promise.resolve()
  stats = { timersRun: 0, timerFailures: 0, deliveriesOk: 0, deliveriesFailed: 0 }
  /** How long a claimed timer stays leased (TRANCHE_TIMER_LEASE_MS, default 60 s). */
  readonly leaseMs = envMs('TRANCHE_TIMER_LEASE_MS', LEASE_MS)
  /** The webhook delivery timeout (TRANCHE_WEBHOOK_TIMEOUT_MS, default 10 s, SPEC §9). */
  readonly deliveryTimeoutMs = envMs('TRANCHE_WEBHOOK_TIMEOUT_MS', DELIVERY_TIMEOUT_MS)

  /** Where a delivery's connection may go: the checked addresses of its host, unless private ones are allowed. */
  private readonly lookup

  constructor(
    private readonly app: App,
    private readonly resolveHost: ResolveHost = systemResolve,
  ) {
    this.lookup = app.config.webhookAllowPrivate ? undefined : checkedLookup(resolveHost)
  }

  start() {
    this.stopped = false
    // With the manual test clock, time moves only in advance(), which runs the timers itself.
    if (!this.app.clock.manual) this.timerLoop = this.loop(() => this.runDueTimers(this.app.clock.now()), 250)
    this.deliveryLoop = this.loop(() => this.dispatchDeliveries(), 100)
  }

  /** Look now (a commit set a timer or wrote an event). */
  poke() {
    for (const w of this.wakers) w()
  }

  private async loop(step: () => Promise<number>, idleMs: number) {
    while (!this.stopped) {
      let did = 0
      try {
        did = await step()
      } catch (e) {
        this.app.log.error({ err: e }, 'worker step failed')
      }
      if (did === 0 && !this.stopped) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(t)
            this.wakers.delete(wake)
            resolve()
          }
          const t = setTimeout(wake, idleMs)
          this.wakers.add(wake)
        })
      }
    }
  }

  /** Runs every timer due by `now`, in deadline order; returns how many ran. */
  async runDueTimers(now: number, limit = 256): Promise<number> {
    const due = await claimDue(this.app.store, {
      now,
      limit,
      owner: this.owner,
      realNow: Date.now(),
      leaseMs: this.leaseMs,
    })
    const one = async (t: (typeof due)[number]) => {
      try {
        if (await runTimer(this.app, t)) this.stats.timersRun++
      } catch (e) {
        this.stats.timerFailures++
        const retryAt = Date.now() + Math.min(60_000 * 2 ** t.attempts, 3_600_000)
        this.app.log.error({ err: e, timer: t.key, attempts: t.attempts + 1 }, 'timer failed; will retry')
        await writeOnce(this.app.store, (db) => failTimer(db, t, String((e as Error)?.message ?? e), retryAt))
      }
    }
    if (this.app.batcher) {
      // Group commit applies queued commands in the order they were submitted, so submitting the whole batch at
      // once keeps deadline order and lets the timers share one fsync.
      await Promise.all(due.map(one))
    } else {
      for (const t of due) await one(t)
    }
    return due.length
  }

  /**
   * The manual test clock: moves to `now + seconds`, stepping through every timer that falls due on the way (in
   * deadline order, each run at its own deadline), before it answers.
   */
  async advance(seconds: number): Promise<number> {
    const clock = this.app.clock
    if (!(clock instanceof ManualClock)) throw new Error('advance needs the manual clock')
    // one advance at a time, for every server of the database: each one starts from where the last one ended, so
    // two advances add up and the clock never goes back
    const run = this.advancing.then(() =>
      this.app.store.exclusive('tranche test clock', async () => {
        await clock.refresh()
        const target = clock.now() + seconds * 1000
        for (;;) {
          const next = await this.app.store.db
            .selectFrom('timers')
            .select('run_at')
            .where('run_at', '<=', BigInt(target))
            .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', BigInt(Date.now()))]))
            .orderBy('run_at')
            .limit(1)
            .executeTakeFirst()
          if (!next) break
          await clock.set(Math.max(clock.now(), num(next.run_at)))
          await this.runDueTimers(clock.now(), 1)
        }
        await clock.set(target)
        this.poke()
        return clock.now()
      }),
    )
    this.advancing = run.catch(() => undefined)
    return run
  }

  /** Claims due deliveries and sends them concurrently; a slow endpoint holds at most MAX_PER_ENDPOINT slots. */
  async dispatchDeliveries(): Promise<number> {
    if (this.inFlight.size >= MAX_IN_FLIGHT) {
      await Promise.race(this.inFlight)
      return 1
    }
    const db = this.app.store.db
    // a worker of its own (`tranche worker`) serves no requests, which is where the test clock is re-read
    const now = this.app.clock instanceof ManualClock ? await this.app.clock.refresh() : this.app.clock.now()
    const realNow = Date.now()
    const saturated = [...this.busy].filter(([, k]) => k >= MAX_PER_ENDPOINT).map(([id]) => id)
    let q = db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
      .innerJoin('events as v', 'v.id', 'd.event_id')
      .select([
        'd.id',
        'd.endpoint_id',
        'd.attempts',
        'd.created_at',
        'e.url',
        'e.secret',
        'e.previous_secret',
        'e.previous_secret_until',
        'e.enabled',
        'e.deleted_at',
        'v.data',
      ])
      .where('d.status', '=', 'pending')
      .where('d.next_attempt_at', '<=', BigInt(now))
      .where((eb) => eb.or([eb('d.lease_until', 'is', null), eb('d.lease_until', '<', BigInt(realNow))]))
    if (saturated.length) q = q.where('d.endpoint_id', 'not in', saturated)
    const rows = await q
      .orderBy('d.next_attempt_at')
      .limit(MAX_IN_FLIGHT - this.inFlight.size)
      .execute()
    let claimed = 0
    for (const r of rows) {
      if ((this.busy.get(r.endpoint_id) ?? 0) >= MAX_PER_ENDPOINT) continue
      const lease = BigInt(realNow + this.deliveryTimeoutMs + 5_000)
      const res = await writeOnce(this.app.store, (w) =>
        w
          .updateTable('webhook_deliveries')
          .set({ lease_until: lease })
          .where('id', '=', r.id)
          .where('status', '=', 'pending')
          .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', BigInt(realNow))]))
          .executeTakeFirst(),
      )
      if (Number(res.numUpdatedRows) !== 1) continue
      claimed++
      this.busy.set(r.endpoint_id, (this.busy.get(r.endpoint_id) ?? 0) + 1)
      const p = this.deliver(r, lease).finally(() => {
        this.inFlight.delete(p)
        const k = (this.busy.get(r.endpoint_id) ?? 1) - 1
        if (k > 0) this.busy.set(r.endpoint_id, k)
        else this.busy.delete(r.endpoint_id)
      })
      this.inFlight.add(p)
    }
    return claimed
  }

  /**
   * One attempt. Its outcome is written only while the delivery still holds this attempt's lease: a manual retry
   * meanwhile (`retryDelivery` clears the lease, making it due now) or another worker that took over an expired
   * lease supersedes it, and the attempt they make records its own outcome.
   */
  /** The secret before the endpoint's last roll, while it is still valid (app clock): it signs beside the new one. */
  private rolledSecret(r: { previous_secret: string | null; previous_secret_until: unknown }): string[] {
    const until = r.previous_secret_until === null ? 0 : Number(r.previous_secret_until)
    return r.previous_secret !== null && until > this.app.clock.now() ? [r.previous_secret] : []
  }

  private async deliver(
    r: {
      id: string
      attempts: number | bigint
      created_at: unknown
      url: string
      secret: string
      previous_secret: string | null
      previous_secret_until: unknown
      enabled: unknown
      deleted_at: unknown
      data: string
    },
    lease: bigint,
  ) {
    const attempts = num(r.attempts) + 1
    // the outcome, written only under this attempt's lease
    const record = (outcome: Updateable<DB['webhook_deliveries']>) =>
      writeOnce(this.app.store, (db) =>
        db
          .updateTable('webhook_deliveries')
          .set(outcome)
          .where('id', '=', r.id)
          .where('lease_until', '=', lease)
          .execute(),
      )
    if (num(r.enabled as number) !== 1 || r.deleted_at !== null) {
      await record({ status: 'skipped', attempts: attempts - 1, lease_until: null, last_error: 'endpoint disabled' })
      return
    }
    let status: number | null = null
    let error: string | null = null
    const refused = await refuseUrl(r.url, this.app.config.webhookAllowPrivate, this.resolveHost)
    if (refused) error = `URL ${refused}`
    else {
      try {
        status = await postWebhook(
          r.url,
          {
            'content-type': 'application/json',
            'user-agent': 'Tranche-Webhooks/1',
            'tranche-signature': sign(r.secret, r.data, Math.floor(Date.now() / 1000), ...this.rolledSecret(r)),
          },
          r.data,
          { timeoutMs: this.deliveryTimeoutMs, lookup: this.lookup },
        )
        if (status < 200 || status >= 300) error = `HTTP ${status}`
      } catch (e) {
        error =
          e instanceof DeliveryTimeout
            ? `timed out after ${this.deliveryTimeoutMs / 1000} s`
            : String((e as Error).message ?? e)
      }
    }
    const now = this.app.clock.now()
    if (!error) {
      this.stats.deliveriesOk++
      await record({
        status: 'delivered',
        attempts,
        last_status: status,
        last_error: null,
        delivered_at: BigInt(now),
        lease_until: null,
      })
      return
    }
    this.stats.deliveriesFailed++
    const next = now + backoffMs(attempts)
    const giveUp = next - num(r.created_at as bigint) > GIVE_UP_AFTER_MS
    await record({
      status: giveUp ? 'failed' : 'pending',
      attempts,
      last_status: status,
      last_error: error.slice(0, 500),
      next_attempt_at: BigInt(next),
      lease_until: null,
    })
  }

  /** Graceful stop: no new work, in-flight deliveries finish (or time out), timer leases are released. */
  async stop() {
    this.stopped = true
    this.poke()
    await Promise.allSettled([this.timerLoop, this.deliveryLoop, ...this.inFlight])
    await writeOnce(this.app.store, (db) => releaseLeases(db, this.owner)).catch(() => undefined)
  }
}
