/** The injected clock. `manual` is the test clock (SPEC §10): it only moves when an admin advances it. */
import { type Store, writeOnce } from '../store/database.ts'
import { num } from '../store/schema.ts'

export interface Clock {
  now(): number
  readonly manual: boolean
}

export const systemClock: Clock = { now: () => Date.now(), manual: false }

/** A manual clock persisted in the database, so that a restart never moves time backwards. */
export class ManualClock implements Clock {
  readonly manual = true
  private current = 0

  private constructor(private readonly store: Store) {}

  static async load(store: Store, start = Date.now()): Promise<ManualClock> {
    const c = new ManualClock(store)
    const row = await store.db.selectFrom('clock').select('now').where('id', '=', 1).executeTakeFirst()
    if (row) {
      c.current = num(row.now)
    } else {
      c.current = start
      await writeOnce(store, (db) =>
        db
          .insertInto('clock')
          .values({ id: 1, now: BigInt(start) })
          .onConflict((oc) => oc.column('id').doNothing())
          .execute(),
      )
      await c.refresh() // another server may have started it first
    }
    return c
  }

  now(): number {
    return this.current
  }

  /** Re-reads the clock (another process may have moved it). */
  async refresh(): Promise<number> {
    const row = await this.store.db.selectFrom('clock').select('now').where('id', '=', 1).executeTakeFirst()
    if (row && num(row.now) > this.current) this.current = num(row.now)
    return this.current
  }

  /** Moves the clock forward to `ms` (never back, also when another server moved it further meanwhile). */
  async set(ms: number): Promise<void> {
    if (ms < this.current) return
    this.current = ms
    await writeOnce(this.store, (db) =>
      db
        .updateTable('clock')
        .set({ now: BigInt(ms) })
        .where('id', '=', 1)
        .where('now', '<', BigInt(ms))
        .execute(),
    )
  }
}
