/** A fresh PostgreSQL database per benchmark run (created here, dropped after), on the server of PG_URL. */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { PG_URL } from './settings.ts'

const created = new Set<string>()
/**
 * An idle connection the server terminates (someone's `pg_terminate_backend`, a restart) is an 'error' event on
 * its client or pool; without a listener it would end the whole run. The query in flight still fails, and the
 * phase reports that.
 */
const ignore = () => undefined

export function urlFor(database: string): string {
  const u = new URL(PG_URL)
  u.pathname = `/${database}`
  return u.toString()
}

export async function pgAvailable(): Promise<string | null> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3_000 })
  c.on('error', ignore)
  try {
    await c.connect()
    await c.query('select 1')
    return null
  } catch (e) {
    return String((e as Error).message ?? e)
  } finally {
    await c.end().catch(() => undefined)
  }
}

export async function createDatabase(tag: string): Promise<{ name: string; url: string }> {
  const name = `tranche_bench_${tag}_${randomBytes(4).toString('hex')}`
  const c = new pg.Client({ connectionString: PG_URL })
  c.on('error', ignore)
  await c.connect()
  try {
    await c.query(`create database "${name}"`)
  } finally {
    await c.end()
  }
  created.add(name)
  return { name, url: urlFor(name) }
}

export async function dropDatabase(name: string) {
  const c = new pg.Client({ connectionString: PG_URL })
  c.on('error', ignore)
  await c.connect()
  try {
    await c.query(`drop database if exists "${name}" with (force)`)
  } finally {
    await c.end()
  }
  created.delete(name)
}

/** Drops every database this run created and has not dropped yet (also on Ctrl-C). */
export async function dropAll() {
  for (const name of [...created]) await dropDatabase(name).catch(() => undefined)
}

/**
 * The database's own limit: single-row INSERT commits per second over `poolSize` connections, each connection
 * committing one row at a time (autocommit), for `ms` after a warm-up.
 */
export async function rawCommits(url: string, poolSize: number, warmupMs: number, ms: number) {
  const pool = new pg.Pool({ connectionString: url, max: poolSize })
  pool.on('error', ignore)
  try {
    await pool.query('create table raw_commit (id bigserial primary key, v text not null, at bigint not null)')
    const payload = 'x'.repeat(100)
    let count = 0
    const lat: number[] = []
    const start = performance.now()
    const from = start + warmupMs
    const end = from + ms
    await Promise.all(
      Array.from({ length: poolSize }, async () => {
        while (performance.now() < end) {
          const t0 = performance.now()
          await pool.query('insert into raw_commit (v, at) values ($1, $2)', [payload, Date.now()])
          const t1 = performance.now()
          if (t1 >= from && t1 <= end) {
            count++
            lat.push(t1 - t0)
          }
        }
      }),
    )
    lat.sort((a, b) => a - b)
    return {
      commitsPerSec: count / (ms / 1000),
      p50: lat[Math.floor(lat.length * 0.5)] ?? Number.NaN,
      p99: lat[Math.floor(lat.length * 0.99)] ?? Number.NaN,
    }
  } finally {
    await pool.end()
  }
}

/**
 * Samples what the database's busy backends wait for, every 50 ms while started (pg_stat_activity): the share of
 * active-backend samples per wait event ("CPU" when not waiting), and the locks waited on, by relation.
 */
export function waitSampler(url: string, database: string) {
  const client = new pg.Client({ connectionString: url })
  client.on('error', ignore)
  const waits = new Map<string, number>()
  const locks = new Map<string, number>()
  let samples = 0
  let timer: NodeJS.Timeout | null = null
  let connected: Promise<unknown> = Promise.resolve()
  let busy = false
  return {
    start() {
      connected = client.connect()
      timer = setInterval(() => {
        if (busy) return
        busy = true
        void connected
          .then(async () => {
            const r = await client.query<{ w: string; n: string }>(
              `select coalesce(wait_event_type || ':' || wait_event, 'CPU') as w, count(*) as n from pg_stat_activity
               where datname = $1 and state = 'active' and pid <> pg_backend_pid() group by 1`,
              [database],
            )
            const l = await client.query<{ rel: string; n: string }>(
              `select coalesce(c.relname, l.locktype) as rel, count(*) as n from pg_locks l
               left join pg_class c on c.oid = l.relation
               join pg_stat_activity a on a.pid = l.pid
               where not l.granted and a.datname = $1 group by 1`,
              [database],
            )
            samples++
            for (const row of r.rows) waits.set(row.w, (waits.get(row.w) ?? 0) + Number(row.n))
            for (const row of l.rows) locks.set(row.rel, (locks.get(row.rel) ?? 0) + Number(row.n))
          })
          .catch(() => undefined)
          .finally(() => {
            busy = false
          })
      }, 50)
    },
    async stop() {
      if (timer) clearInterval(timer)
      await connected.catch(() => undefined)
      await client.end().catch(() => undefined)
      const per = (m: Map<string, number>) =>
        Object.fromEntries([...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, samples ? v / samples : 0]))
      // average number of backends in each state per sample
      return { samples, activeBackendsByWait: per(waits), lockWaitersByRelation: per(locks) }
    },
  }
}
