/**
 * Exactly-once timers across separate worker processes (SPEC §1: "any number of servers and workers against one
 * database; each timer fires exactly once"), on the real PostgreSQL server. 1,000 due `hold_release` timers each move
 * 1 minor unit from a user's pending balance to available; real `tranche worker` processes race for them.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { verify } from '../../src/app/verify.ts'
import type { Store } from '../../src/store/database.ts'
import { openStore } from '../../src/store/open-store.ts'
import { postEntries } from '../../src/store/repos/ledger-repo.ts'
import { big, num } from '../../src/store/schema.ts'
import { dropSchema, PG_URL } from '../support/harness.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const USERS = 10
const PER_USER = 100
const TOTAL = USERS * PER_USER
/**
 * Bounds: about 25–35 s per test on an idle 2-core machine (each timer is one PostgreSQL transaction with a durable
 * commit); the generous limits only keep a heavily loaded machine from failing — a lost timer fails at DRAIN_MS.
 */
const DRAIN_MS = 150_000
const TEST_MS = 200_000

interface WorkerProc {
  readonly proc: ChildProcess
  readonly output: string[]
  readonly exited: Promise<number | null>
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Creates the schema with Kysely's two migration tables already in it. Works around a bug outside this test:
 * Kysely's Migrator (without `migrationTableSchema`) looks for `kysely_migration` in EVERY schema of the database, so
 * opening a fresh schema while another schema of the same database is migrated (another test file, another app)
 * fails with `relation "kysely_migration" does not exist`.
 */
async function prepareSchema(name: string) {
  const c = new pg.Client({ connectionString: PG_URL! })
  await c.connect()
  try {
    await c.query(`create schema if not exists "${name}"`)
    await c.query(
      `create table if not exists "${name}".kysely_migration (name varchar(255) not null primary key, timestamp varchar(255) not null)`,
    )
    await c.query(
      `create table if not exists "${name}".kysely_migration_lock (id varchar(255) not null primary key, is_locked integer not null default 0)`,
    )
  } finally {
    await c.end()
  }
}

describe.skipIf(!PG_URL)('timers across worker processes (PostgreSQL)', () => {
  let schema: string
  let store: Store
  const workers: WorkerProc[] = []
  const schemas: string[] = []

  /** `tranche worker` as its own OS process, its database the test schema (search_path set in the URL). */
  function startWorker(env: Record<string, string> = {}): WorkerProc {
    const url = new URL(PG_URL!)
    url.searchParams.set('options', `-c search_path=${schema}`)
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('TRANCHE_') && k !== 'DATABASE_URL'),
    )
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker'], {
      cwd: ROOT,
      env: { ...clean, DATABASE_URL: url.toString(), TRANCHE_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const output: string[] = []
    proc.stdout!.on('data', (b) => output.push(String(b)))
    proc.stderr!.on('data', (b) => output.push(String(b)))
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
    const w = { proc, output, exited }
    workers.push(w)
    return w
  }

  async function remaining(): Promise<number> {
    const r = await store.db
      .selectFrom('timers')
      .select((eb) => eb.fn.countAll<bigint>().as('n'))
      .executeTakeFirstOrThrow()
    return num(r.n)
  }

  /** Polls until no timer is left; records every lease owner seen on the way. */
  async function drain(deadlineMs: number, owners = new Set<string>()) {
    const until = Date.now() + deadlineMs
    for (;;) {
      const rows = await store.db
        .selectFrom('timers')
        .select('lease_owner')
        .where('lease_owner', 'is not', null)
        .execute()
      for (const r of rows) owners.add(r.lease_owner!)
      const left = await remaining()
      if (left === 0) return owners
      if (Date.now() > until) {
        throw new Error(
          `${left} timers left after ${deadlineMs} ms\n${workers.map((w) => w.output.join('')).join('\n---\n')}`,
        )
      }
      await sleep(100)
    }
  }

  async function seed() {
    const now = Date.now()
    // pending balances of PER_USER minor units per user, from balanced entries (the rail pays them in)
    await postEntries(
      store.db,
      Array.from({ length: USERS }, (_, u) => ({
        id: `je_seed_${u}`,
        kind: 'release' as const,
        currency: 'USD',
        lines: [
          { account: 'ext:rail', amount: -BigInt(PER_USER) },
          { account: `user:usr_race_${u}:pending`, amount: BigInt(PER_USER) },
        ],
        memo: 'seed',
        contractId: null,
        milestoneId: null,
      })),
      now,
    )
    // TOTAL timers, all due (in the past), each moving 1 unit of one user's pending to available
    await store.db
      .insertInto('timers')
      .values(
        Array.from({ length: TOTAL }, (_, i) => ({
          key: `hold_release:race_${String(i).padStart(4, '0')}`,
          kind: 'hold_release',
          run_at: BigInt(now - 60_000 + i),
          payload: JSON.stringify({
            userId: `usr_race_${i % USERS}`,
            currency: 'USD',
            amount: '1',
            entryId: `je_seed_${i % USERS}`,
          }),
          attempts: 0,
          created_at: BigInt(now),
        })),
      )
      .execute()
    expect(await remaining()).toBe(TOTAL)
  }

  /** Every timer fired exactly once: balances, entries, events, audit, and the ledger invariants. */
  async function expectExactlyOnce() {
    const accounts = await store.db
      .selectFrom('accounts')
      .select(['account', 'balance'])
      .where('account', 'like', 'user:usr_race_%')
      .execute()
    const bal = new Map(accounts.map((a) => [a.account, big(a.balance)]))
    let moved = 0n
    for (let u = 0; u < USERS; u++) {
      expect(bal.get(`user:usr_race_${u}:pending`)).toBe(0n)
      expect(bal.get(`user:usr_race_${u}:available`)).toBe(BigInt(PER_USER))
      moved += bal.get(`user:usr_race_${u}:available`) ?? 0n
    }
    expect(moved).toBe(BigInt(TOTAL))
    const count = async (
      table: 'events' | 'journal_entries' | 'audit_log',
      col: 'type' | 'kind' | 'action',
      value: string,
    ) =>
      num(
        (
          await store.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<bigint>().as('n'))
            .where(col as never, '=', value as never)
            .executeTakeFirstOrThrow()
        ).n,
      )
    expect(await count('events', 'type', 'balance.available')).toBe(TOTAL)
    expect(await count('journal_entries', 'kind', 'hold_release')).toBe(TOTAL)
    expect(await count('audit_log', 'action', 'balance.hold_release')).toBe(TOTAL)
    // no timer failed on the way (a failure would be retried a minute later, still exactly once, but is a bug)
    for (const w of workers) expect(w.output.join('')).not.toMatch(/timer failed/)
    const report = await verify(store)
    expect(report.problems).toEqual([])
    expect(report.ok).toBe(true)
  }

  beforeEach(async () => {
    schema = `t_race_${randomBytes(5).toString('hex')}`
    schemas.push(schema)
    await prepareSchema(schema)
    store = await openStore({ databaseUrl: PG_URL, sqlitePath: '', schema })
    await seed()
  })

  afterEach(async () => {
    for (const w of workers.splice(0)) {
      if (w.proc.exitCode === null && w.proc.signalCode === null) {
        w.proc.kill('SIGTERM')
        const done = await Promise.race([w.exited.then(() => true), sleep(10_000).then(() => false)])
        if (!done) w.proc.kill('SIGKILL')
      }
    }
    await store.close()
    await dropSchema(schema)
  })

  afterAll(async () => {
    for (const s of schemas) await dropSchema(s)
  })

  it(
    'two worker processes race for 1,000 due timers; each fires exactly once',
    async () => {
      startWorker()
      startWorker()
      const owners = await drain(DRAIN_MS)
      // the work was really shared: leases of more than one process were seen
      expect(owners.size).toBeGreaterThanOrEqual(2)
      await expectExactlyOnce()
      // a graceful stop (SIGTERM) exits 0
      for (const w of workers) w.proc.kill('SIGTERM')
      expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0])
    },
    TEST_MS,
  )

  it(
    'a worker killed with SIGKILL mid-run loses no timer: its leases expire and another worker runs them',
    async () => {
      const lease = { TRANCHE_TIMER_LEASE_MS: '20000' }
      const victim = startWorker(lease)
      const other = startWorker(lease)
      // wait until some timers have run
      const until = Date.now() + 90_000
      while ((await remaining()) > TOTAL - 50) {
        if (Date.now() > until) throw new Error(`no progress\n${workers.map((w) => w.output.join('')).join('\n---\n')}`)
        await sleep(50)
      }
      victim.proc.kill('SIGKILL')
      await victim.exited
      const killedAt = Date.now()
      // the victim died holding leases on timers it had claimed but not yet run (its transaction in flight rolled back)
      const held = await store.db
        .selectFrom('timers')
        .select(['key', 'lease_until'])
        .where('lease_owner', 'like', `%:${victim.proc.pid}:%`)
        .execute()
      expect(held.length).toBeGreaterThan(0)
      const leaseEnd = Math.min(...held.map((h) => num(h.lease_until!)))
      expect(leaseEnd).toBeGreaterThan(killedAt)
      // nobody takes them while the lease lasts …
      await sleep(Math.max(0, leaseEnd - Date.now() - 500))
      const stillThere = await store.db
        .selectFrom('timers')
        .select('key')
        .where(
          'key',
          'in',
          held.map((h) => h.key),
        )
        .execute()
      expect(stillThere.length).toBe(held.length)
      // … then the surviving worker runs them, and everything else
      await drain(DRAIN_MS)
      expect(other.proc.exitCode).toBeNull()
      await expectExactlyOnce()
    },
    TEST_MS,
  )
})
