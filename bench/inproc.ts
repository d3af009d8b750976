/**
 * The escrow mix in one process, through Fastify's `inject` (no sockets): CPU time and SQL statements per
 * operation, for finding out where a command's time goes (`node --cpu-prof --import tsx bench/inproc.ts`).
 * Not a measure of throughput: there is no network, and the load driver shares the process.
 *
 *   npx tsx bench/inproc.ts [cycles=600] [concurrency=32]      (BENCH_DB=postgres://… for PostgreSQL)
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { loadConfig } from '../src/app/config.ts'
import { buildServer } from '../src/http/server.ts'
import { createRuntime } from '../src/main.ts'

function require_write(raw: Database.Database) {
  const row = raw.prepare('select data from contracts order by length(data) desc limit 1').get() as { data: string }
  writeFileSync(process.env.BENCH_DUMP!, row.data)
}
const cycles = Number(process.argv[2] ?? 600)
const concurrency = Number(process.argv[3] ?? 32)
const silent = { info() {}, warn() {}, error() {} }

// count statements run (better-sqlite3: every run/all/get goes through the Statement prototype)
const counts = { statements: 0 }
const bySql = new Map<string, { n: number; us: number }>()
let measuring = false
{
  const probe = new Database(':memory:').prepare('select 1')
  const proto = Object.getPrototypeOf(probe) as Record<string, (...a: unknown[]) => unknown>
  for (const m of ['run', 'all', 'get', 'iterate']) {
    const orig = proto[m]!
    proto[m] = function (this: unknown, ...a: unknown[]) {
      counts.statements++
      if (!measuring || !process.env.BENCH_SQL) return orig.apply(this, a)
      const t = performance.now()
      try {
        return orig.apply(this, a)
      } finally {
        const key = (this as { source: string }).source.slice(0, 160)
        const row = bySql.get(key) ?? { n: 0, us: 0 }
        row.n++
        row.us += (performance.now() - t) * 1000
        bySql.set(key, row)
      }
    }
  }
}

// on PostgreSQL: count the queries sent (each is a round trip)
{
  const proto = pg.Client.prototype as unknown as Record<string, (...a: unknown[]) => unknown>
  const orig = proto.query!
  proto.query = function (this: unknown, ...a: unknown[]) {
    if (measuring) {
      counts.statements++
      if (process.env.BENCH_SQL) {
        const q = a[0] as string | { text: string }
        const key = (typeof q === 'string' ? q : q.text).slice(0, 160)
        const row = bySql.get(key) ?? { n: 0, us: 0 }
        row.n++
        bySql.set(key, row)
      }
    }
    return orig.apply(this, a)
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tranche-inproc-'))
const config = loadConfig({
  TRANCHE_DB: join(dir, 'tranche.db'),
  TRANCHE_CLOCK: 'system',
  TRANCHE_WORKER: 'off',
  TRANCHE_LOG_LEVEL: 'silent',
  ...(process.env.BENCH_DB ? { DATABASE_URL: process.env.BENCH_DB } : {}),
})
const rt = await createRuntime(config, { log: silent })
const server = await buildServer(rt.app, { worker: rt.worker })
await server.ready()

// CPU per kind of operation: exact only with concurrency 1 (otherwise other calls' work falls in the same span)
const byKind = new Map<string, { n: number; us: number }>()
async function timed(kind: string, f: () => Promise<unknown>) {
  const c0 = process.cpuUsage()
  await f()
  const c = process.cpuUsage(c0)
  const row = byKind.get(kind) ?? { n: 0, us: 0 }
  row.n++
  row.us += c.user + c.system
  byKind.set(kind, row)
}

async function call(method: 'GET' | 'POST', url: string, token: string | null, body?: unknown) {
  const r = await server.inject({
    method,
    url,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : method === 'POST' ? { payload: '{}' } : {}),
  })
  if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body.slice(0, 300)}`)
  return r.json() as Record<string, unknown>
}

async function party(tag: string, i: number) {
  const email = `${tag}${i}-${Date.now()}@inproc.test`
  const u = await call('POST', '/v1/users', null, { email, password: 'inproc-password-1', name: tag })
  const s = await call('POST', '/v1/sessions', null, { email, password: 'inproc-password-1' })
  return { id: u.id as string, email, token: s.token as string }
}

const pairs = await Promise.all(
  Array.from({ length: 8 }, async (_, i) => ({ client: await party('c', i), freelancer: await party('f', i) })),
)
const jobs: { contract: string; milestone: string; pair: (typeof pairs)[number] }[] = []
for (let i = 0; jobs.length < cycles; i++) {
  const pair = pairs[i % pairs.length]!
  const offer = await call('POST', '/v1/offers', pair.client.token, {
    role: 'client',
    counterparty_email: pair.freelancer.email,
    title: 'Benchmark job',
    description: 'Work delivered in stages',
    currency: 'USD',
    payment_mode: 'by_milestone',
    milestones: Array.from({ length: 10 }, (_, k) => ({ title: `Stage ${k + 1}`, amount: 10_000 })),
  })
  const acc = await call('POST', `/v1/offers/${offer.id}/accept`, pair.freelancer.token, { revision: 1 })
  const c = await call('GET', `/v1/contracts/${acc.contract_id}`, pair.client.token)
  for (const m of c.milestones as { id: string }[]) jobs.push({ contract: c.id as string, milestone: m.id, pair })
}

// as in the HTTP benchmark, no two concurrent loops work on one contract: the k-th milestone of every contract,
// then the next (on PostgreSQL, loops sharing a contract would queue on its row lock)
{
  const rank = new Map<string, number>()
  const order = jobs.map((j, i) => {
    const k = rank.get(j.contract) ?? 0
    rank.set(j.contract, k + 1)
    return { j, key: k * 1e6 + i }
  })
  jobs.splice(0, jobs.length, ...order.sort((a, b) => a.key - b.key).map((x) => x.j))
}

let next = 0
measuring = true
const s0 = counts.statements
const cpu0 = process.cpuUsage()
const t0 = performance.now()
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    for (let j = next++; j < cycles; j = next++) {
      const { contract, milestone, pair } = jobs[j]!
      await timed('fund', () => call('POST', `/v1/milestones/${milestone}/fund`, pair.client.token))
      await timed('submit', () =>
        call('POST', `/v1/milestones/${milestone}/submit`, pair.freelancer.token, { message: 'Delivered.' }),
      )
      await timed('approve', () => call('POST', `/v1/milestones/${milestone}/approve`, pair.client.token))
      await timed('read contract', () => call('GET', `/v1/contracts/${contract}`, pair.client.token))
      await timed('read balances', () => call('GET', '/v1/balances', pair.freelancer.token))
    }
  }),
)
const ms = performance.now() - t0
const cpu = process.cpuUsage(cpu0)
const ops = cycles * 5
console.log(
  `${cycles} cycles (${ops} ops) in ${ms.toFixed(0)} ms: ${((ops / ms) * 1000).toFixed(0)} ops/s; ` +
    `CPU ${((cpu.user + cpu.system) / ops).toFixed(0)} µs/op; ` +
    `${((counts.statements - s0) / cycles).toFixed(1)} ${process.env.BENCH_DB ? 'PostgreSQL queries' : 'SQLite statements'} per cycle` +
    (rt.app.batcher ? `; batches ${rt.app.batcher.stats.batches}, largest ${rt.app.batcher.stats.largest}` : ''),
)
if (concurrency === 1)
  console.log(
    'CPU µs per kind (commit included):',
    Object.fromEntries([...byKind].map(([k, r]) => [k, Math.round(r.us / r.n)])),
  )
if (!process.env.BENCH_DB) {
  const wal = statSync(join(dir, 'tranche.db-wal'), { throwIfNoEntry: false })
  console.log(`WAL file: ${((wal?.size ?? 0) / 1e6).toFixed(1)} MB`)
}
if (!process.env.BENCH_DB) {
  const raw = new Database(join(dir, 'tranche.db'), { readonly: true })
  if (process.env.BENCH_DUMP) require_write(raw)
  console.log(
    'avg contract JSON bytes',
    raw.prepare('select avg(length(data)) as n, max(length(data)) as m from contracts').get(),
  )
  raw.close()
}
if (process.env.BENCH_SQL)
  for (const [q, r] of [...bySql].sort((a, b) => b[1].us - a[1].us).slice(0, 40))
    console.log(
      `${(r.us / 1000).toFixed(0).padStart(6)} ms ${String(r.n).padStart(6)}×  ${(r.us / r.n).toFixed(0).padStart(5)} µs  ${q}`,
    )
await server.close()
await rt.close()
rmSync(dir, { recursive: true, force: true })
