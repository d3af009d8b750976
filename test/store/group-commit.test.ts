import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type App, run, type Tx } from '../../src/app/app.ts'
import type { Actor } from '../../src/domain/types.ts'
import type { DueTimer } from '../../src/store/repos/timer-repo.ts'
import { startEnv, type TestEnv } from '../support/harness.ts'

const system: Actor = { kind: 'system' }

/**
 * Each command here writes a payout row named after it, then does what its steps say. `runs` counts how often each
 * command's body ran and `railCalls` the calls that reached the rail: a batch of replayable commands (due timers)
 * runs without savepoints and may run a command twice, but never calls the rail twice (src/app/group-commit.ts).
 */
type Step = 'rail' | 'fail'

describe('group commit (SQLite)', () => {
  let env: TestEnv
  let app: App
  let railCalls: string[]
  let runs: Map<string, number>
  beforeAll(async () => {
    env = await startEnv('sqlite')
    app = {
      ...env.rt.app,
      rail: {
        async charge({ reference }) {
          railCalls.push(reference)
        },
        async payout() {},
      },
    }
  })
  afterAll(async () => env.close())
  beforeEach(() => {
    railCalls = []
    runs = new Map()
  })

  const payoutRows = async (prefix: string) =>
    (await env.rt.store.db.selectFrom('payouts').select('id').where('id', 'like', `${prefix}%`).execute())
      .map((r) => r.id)
      .sort()
  const write = (tx: Tx, id: string) =>
    tx.db
      .insertInto('payouts')
      .values({ id, user_id: 'usr_x', currency: 'USD', amount: 1n, status: 'paid', created_at: 0n })
      .execute()
  const command = (id: string, opts: { replayable?: boolean; steps?: Step[] } = {}) =>
    run(app, { actor: system, replayable: opts.replayable ?? false }, async (tx) => {
      runs.set(id, (runs.get(id) ?? 0) + 1)
      await write(tx, id)
      for (const step of opts.steps ?? []) {
        if (step === 'rail')
          await tx.app.rail.charge({ paymentMethod: 'pm', currency: 'USD', amount: 1n, reference: id })
        if (step === 'fail') throw new Error(`command ${id} fails after writing`)
      }
      return id
    })
  const replayable = (id: string, ...steps: Step[]) => command(id, { replayable: true, steps })
  /** Runs the commands as one batch: their outcomes (value or error message), and how often the batch ran again. */
  async function batch(...commands: Promise<string>[]) {
    const batcher = env.rt.app.batcher!
    const before = { ...batcher.stats }
    const results = await Promise.allSettled(commands)
    expect(batcher.stats.batches - before.batches).toBe(1)
    expect(batcher.stats.commands - before.commands).toBe(commands.length)
    return {
      outcomes: results.map((r) => (r.status === 'fulfilled' ? r.value : `error: ${(r.reason as Error).message}`)),
      rerun: batcher.stats.rerun - before.rerun,
    }
  }

  it('applies commands that arrive together in one transaction, each in its own savepoint', async () => {
    const b = await batch(command('pay_a'), command('pay_b', { steps: ['fail'] }), command('pay_c'))
    expect(b.outcomes).toEqual(['pay_a', 'error: command pay_b fails after writing', 'pay_c'])
    expect(await payoutRows('pay_')).toEqual(['pay_a', 'pay_c'])
    expect(b.rerun).toBe(0)
    expect(Object.fromEntries(runs)).toEqual({ pay_a: 1, pay_b: 1, pay_c: 1 })
  })

  it('runs a batch of replayable commands once when none fails', async () => {
    const b = await batch(replayable('pay_r1'), replayable('pay_r2'), replayable('pay_r3'))
    expect(b).toEqual({ outcomes: ['pay_r1', 'pay_r2', 'pay_r3'], rerun: 0 })
    expect(await payoutRows('pay_r')).toEqual(['pay_r1', 'pay_r2', 'pay_r3'])
    expect([...runs.values()]).toEqual([1, 1, 1])
  })

  it('runs it again, each in its own savepoint, when one fails after writing: only that one is undone', async () => {
    const b = await batch(replayable('pay_f1'), replayable('pay_f2', 'fail'), replayable('pay_f3'))
    expect(b.outcomes).toEqual(['pay_f1', 'error: command pay_f2 fails after writing', 'pay_f3'])
    expect(b.rerun).toBe(1)
    expect(await payoutRows('pay_f')).toEqual(['pay_f1', 'pay_f3'])
    // the first attempt stopped at pay_f2
    expect(Object.fromEntries(runs)).toEqual({ pay_f1: 2, pay_f2: 2, pay_f3: 1 })
  })

  it('never calls the rail twice: a replayable command reaches it only in the run with savepoints', async () => {
    const b = await batch(replayable('pay_x1'), replayable('pay_x2', 'rail'), replayable('pay_x3', 'fail'))
    expect(b.outcomes).toEqual(['pay_x1', 'pay_x2', 'error: command pay_x3 fails after writing'])
    expect(b.rerun).toBe(1)
    expect(railCalls).toEqual(['pay_x2'])
    expect(await payoutRows('pay_x')).toEqual(['pay_x1', 'pay_x2'])
  })

  it('keeps a savepoint per command in a batch that is not all replayable', async () => {
    const b = await batch(replayable('pay_m1'), command('pay_m2', { steps: ['rail'] }), replayable('pay_m3', 'fail'))
    expect(b.outcomes).toEqual(['pay_m1', 'pay_m2', 'error: command pay_m3 fails after writing'])
    expect(b.rerun).toBe(0)
    expect(railCalls).toEqual(['pay_m2'])
    expect(await payoutRows('pay_m')).toEqual(['pay_m1', 'pay_m2'])
    expect([...runs.values()]).toEqual([1, 1, 1])
  })

  it('runs due timers as replayable commands, in one batch', async () => {
    const batcher = env.rt.app.batcher!
    const submitted: boolean[] = []
    const submit = batcher.submit.bind(batcher)
    batcher.submit = (a, opts, fn) => {
      submitted.push(opts.replayable === true)
      return submit(a, opts, fn)
    }
    try {
      const { runTimer } = await import('../../src/app/timers.ts')
      // a timer that is not due any more (no row): the command still goes through the batcher, and finds nothing
      const due: DueTimer = {
        key: 'offer_expiry:off_none',
        kind: 'offer_expiry',
        runAt: 0,
        payload: { offerId: 'off_none' },
        attempts: 0,
      }
      const ran = await runTimer(env.rt.app, due)
      expect(ran).toBe(false)
      expect(submitted).toEqual([true])
    } finally {
      batcher.submit = submit
    }
  })

  it('answers a caller only after its batch committed: the change is readable on a fresh connection', async () => {
    const { openSqlite } = await import('../../src/store/sqlite/sqlite-store.ts')
    await Promise.all(Array.from({ length: 20 }, (_, i) => command(`pay_n${i}`)))
    const other = await openSqlite(env.config.sqlitePath, { migrate: false })
    try {
      const rows = await other.db.selectFrom('payouts').select('id').where('id', 'like', 'pay_n%').execute()
      expect(rows).toHaveLength(20)
    } finally {
      await other.close()
    }
  })
})
