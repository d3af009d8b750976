/**
 * Group commit for SQLite: commands that arrive while a commit is on its way to disk are applied together in the
 * next transaction — each inside its own savepoint, so a failing command leaves the others untouched — and made
 * durable by one fsync. Every caller is answered only after the commit that holds its change has returned, so a
 * 2xx still means "on disk" (synchronous=FULL).
 *
 * A batch of due timers only (`replayable` commands: all they do is in the transaction) runs without the
 * savepoints, which cost an auto-release 6–8 % (SQLite copies each page a savepoint's statements change first into
 * its journal); if one of them fails, the attempt is rolled back and the batch runs again, each command in its own
 * savepoint. Such a command cannot reach the payment rail in that first attempt: its rail refuses, so the command
 * fails and runs again in the second attempt, where the rail is the real one — no call is ever made twice.
 */
import { runSql, type Store, writeTransaction } from '../store/database.ts'
import { type AuditInput, appendAudit } from '../store/repos/audit-repo.ts'
import { type App, type CommandOptions, execute, type Tx } from './app.ts'
import type { PaymentRail } from './payment-rail.ts'

interface Job {
  /** the app the command runs for (a copy of the runtime's app may carry another rail or clock) */
  readonly app: App
  readonly opts: CommandOptions
  readonly fn: (tx: Tx) => Promise<unknown>
  readonly resolve: (r: { value: unknown; touched: { timers: boolean; events: boolean } }) => void
  readonly reject: (e: unknown) => void
}

export class GroupCommit {
  private queue: Job[] = []
  private running = false
  /** `rerun`: batches of replayable commands run again because one of them failed */
  stats = { batches: 0, commands: 0, largest: 0, rerun: 0 }

  constructor(
    private readonly store: Store,
    private readonly maxBatch = 256,
  ) {}

  submit<T>(
    app: App,
    opts: CommandOptions,
    fn: (tx: Tx) => Promise<T>,
  ): Promise<{ value: T; touched: { timers: boolean; events: boolean } }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ app, opts, fn, resolve: resolve as Job['resolve'], reject })
      if (!this.running) {
        this.running = true
        // Let the requests that arrived in the same turn of the event loop join the first batch.
        setImmediate(() => void this.drain())
      }
    })
  }

  private async drain() {
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, this.maxBatch)
        await this.commit(batch)
      }
    } finally {
      this.running = false
      if (this.queue.length) {
        this.running = true
        setImmediate(() => void this.drain())
      }
    }
  }

  private async commit(batch: Job[]) {
    let outcomes: Outcome[] = []
    const attempt = (savepoints: boolean) =>
      writeTransaction(this.store, async (trx) => {
        outcomes = []
        const audit: AuditInput[] = []
        for (const job of batch) {
          const o = savepoints ? await this.inSavepoint(trx, job) : await this.replayable(trx, job)
          if (o.ok) audit.push(...o.audit)
          outcomes.push(o)
        }
        // the batch's records in commit order, one chain update for all
        await appendAudit(trx, this.store.caps, audit)
      })
    try {
      if (!batch.every((job) => job.opts.replayable)) await attempt(true)
      else
        try {
          await attempt(false)
        } catch (error) {
          if (!(error instanceof RunAgain)) throw error
          this.stats.rerun++
          await attempt(true)
        }
    } catch (error) {
      // The commit itself failed: nothing of the batch is durable.
      for (const job of batch) job.reject(error)
      return
    }
    this.stats.batches++
    this.stats.commands += batch.length
    this.stats.largest = Math.max(this.stats.largest, batch.length)
    batch.forEach((job, i) => {
      const o = outcomes[i]!
      if (o.ok) job.resolve({ value: o.value, touched: o.touched })
      else job.reject(o.error)
    })
  }

  private async inSavepoint(trx: Trx, job: Job): Promise<Outcome> {
    await runSql(trx, 'savepoint cmd')
    try {
      const r = await execute(trx, job.app, job.opts, job.fn, false)
      await runSql(trx, 'release savepoint cmd')
      return { ok: true, value: r.value, touched: r.touched, audit: r.audit }
    } catch (error) {
      await runSql(trx, 'rollback to savepoint cmd')
      await runSql(trx, 'release savepoint cmd')
      return { ok: false, error }
    }
  }

  /** A replayable command without a savepoint: if it fails, the whole attempt is rolled back (module comment). */
  private async replayable(trx: Trx, job: Job): Promise<Outcome> {
    try {
      const r = await execute(trx, { ...job.app, rail: refusingRail }, job.opts, job.fn, false)
      return { ok: true, value: r.value, touched: r.touched, audit: r.audit }
    } catch {
      throw new RunAgain()
    }
  }
}

type Trx = Parameters<typeof execute>[0]

type Outcome =
  | { ok: true; value: unknown; touched: { timers: boolean; events: boolean }; audit: AuditInput[] }
  | { ok: false; error: unknown }

/** A command of a batch without savepoints failed: the batch runs again, each command in its own savepoint. */
class RunAgain extends Error {
  constructor() {
    super('the batch runs again, each command in its own savepoint')
    this.name = 'RunAgain'
  }
}

/** The rail of a command run without a savepoint: a call is refused before it is made (see the module comment). */
const refusingRail: PaymentRail = {
  charge: () => Promise.reject(new RunAgain()),
  payout: () => Promise.reject(new RunAgain()),
}
