/**
 * Group commit for SQLite: commands that arrive while a commit is on its way to disk are applied together in the
 * next transaction — each inside its own savepoint, so a failing command leaves the others untouched — and made
 * durable by one fsync. Every caller is answered only after the commit that holds its change has returned, so a
 * 2xx still means "on disk" (synchronous=FULL).
 */
import { runSql, type Store, writeTransaction } from '../store/database.ts'
import { type AuditInput, appendAudit } from '../store/repos/audit-repo.ts'
import { type App, type CommandOptions, execute, type Tx } from './app.ts'

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
  stats = { batches: 0, commands: 0, largest: 0 }

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
    const outcomes: (
      | { ok: true; value: unknown; touched: { timers: boolean; events: boolean } }
      | { ok: false; error: unknown }
    )[] = []
    try {
      await writeTransaction(this.store, async (trx) => {
        const audit: AuditInput[] = []
        for (const job of batch) {
          await runSql(trx, 'savepoint cmd')
          try {
            const r = await execute(trx, job.app, job.opts, job.fn, false)
            await runSql(trx, 'release savepoint cmd')
            audit.push(...r.audit)
            outcomes.push({ ok: true, value: r.value, touched: r.touched })
          } catch (error) {
            await runSql(trx, 'rollback to savepoint cmd')
            await runSql(trx, 'release savepoint cmd')
            outcomes.push({ ok: false, error })
          }
        }
        // the batch's records in commit order, one chain update for all
        await appendAudit(trx, this.store.caps, audit)
      })
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
}
