/**
 * `npm run bench`: Tranche against the physical limits of this machine, all measured in one run (see README.md).
 * Prints a table with PASS/MISS per target and writes bench/results/<timestamp>.json and latest.json.
 *   BENCH_QUICK=1     ~1-minute smoke run (smaller sizes, shorter windows)
 *   BENCH_ONLY=a,b    only some phases: raw_sqlite, hello, mix, pg, timers, verify, memory
 *   BENCH_PROFILE=1   CPU-profile the SQLite server during the group-commit mix (numbers are then slower)
 *   BENCH_PG_URL=…    the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/test)
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { othersNow, watchOthers } from './lib/machine.ts'
import { createDatabase, dropAll, dropDatabase, pgAvailable, rawCommits, waitSampler } from './lib/pg.ts'
import { live, runChild } from './lib/proc.ts'
import { printProfile, summarizeProfile } from './lib/profile.ts'
import {
  mixesOf,
  n0,
  n1,
  n2,
  printMix,
  printTables,
  printTargets,
  type RunResults,
  type TimerResult,
  targetsOf,
  type VerifyResult,
} from './lib/report.ts'
import { PROFILE, QUICK, RESULTS_DIR, ROOT, S, tempDir, wants } from './lib/settings.ts'
import { runHello } from './phases/hello.ts'
import { type MemoryResult, runMemory } from './phases/memory.ts'
import { type MixResult, runMix } from './phases/mix.ts'
import { runRawSqlite } from './phases/raw-sqlite.ts'

const startedAt = new Date()
const stamp = startedAt.toISOString().replace(/[:.]/g, '-')

/** A digest of src/ (no git here): which state of the code a result file belongs to. */
function srcDigest(): string {
  const h = createHash('sha256')
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith('.ts')) h.update(p).update(readFileSync(p))
    }
  }
  walk(join(ROOT, 'src'))
  return h.digest('hex').slice(0, 16)
}

const results: Record<string, unknown> = {}
const notes: string[] = []
const tempDirs: string[] = []

async function cleanup() {
  await Promise.all([...live].map((p) => p.stop()))
  await dropAll()
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true })
}
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (e) => {
    console.error(`\n${event}: ${String((e as Error)?.stack ?? e)}\nstopping servers and dropping benchmark databases…`)
    void cleanup().finally(() => process.exit(1))
  })
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    console.log(`\n${sig}: stopping servers and dropping benchmark databases…`)
    void cleanup().finally(() => process.exit(130))
  })
}

/** Runs one phase; a phase that fails is tried once more (a shared machine: someone may restart a database). */
async function phase<T>(name: string, title: string, fn: () => Promise<T> | T): Promise<T | null> {
  if (!wants(name)) return null
  console.log(`▶ ${title}`)
  for (let attempt = 1; ; attempt++) {
    const t0 = performance.now()
    try {
      const r = await fn()
      console.log(`  (${((performance.now() - t0) / 1000).toFixed(0)} s)`)
      if (attempt > 1) notes.push(`${title}: succeeded on attempt ${attempt}`)
      return r
    } catch (e) {
      const msg = `${title} failed (attempt ${attempt}): ${String((e as Error)?.stack ?? e).slice(0, 2000)}`
      console.log(`  ✗ ${msg}`)
      notes.push(msg)
      await Promise.all([...live].map((p) => p.stop()))
      if (attempt >= 2) return null
    }
  }
}

function sqliteEnv(groupCommit: 'on' | 'off') {
  const dir = tempDir(`mix-${groupCommit}`)
  tempDirs.push(dir)
  return { TRANCHE_DB: join(dir, 'tranche.db'), TRANCHE_WORKER: 'off', TRANCHE_GROUP_COMMIT: groupCommit }
}

async function main() {
  const digest = srcDigest()
  const loadAtStart = loadavg()
  const othersAtStart = await othersNow()
  const watch = watchOthers()
  console.log(
    `Tranche benchmark ${QUICK ? '(QUICK smoke run) ' : ''}— ${cpus().length} cores, Node ${process.version}, ` +
      `load ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}`,
  )
  const busyOthers = othersAtStart.filter((o) => o.cpuPct >= 2)
  const quiet = loadAtStart[0]! < 0.5 && busyOthers.length === 0
  if (!quiet) {
    console.log(`  ⚠ the machine is not quiet: load ${loadAtStart[0]!.toFixed(2)}, other processes using CPU:`)
    for (const o of busyOthers.slice(0, 8)) console.log(`    ${o.cpuPct.toFixed(0)}%  ${o.pid} ${o.cmd}`)
  }
  console.log(
    `  load driver: undici Pool, ${S.connections} connections, ${S.workers} concurrent workers, ` +
      `${S.warmupMs / 1000} s warm-up + ${S.loadMs / 1000} s measured per run\n`,
  )

  const L = await phase('raw_sqlite', 'L: raw SQLite one-row commits (WAL, synchronous=FULL)', () =>
    runRawSqlite(S.rawMs, 500),
  )
  if (L)
    console.log(`  ${n0(L.commitsPerSec)} commits/s, commit p50 ${n2(L.fsyncMsP50)} ms, p99 ${n2(L.fsyncMsP99)} ms`)
  const B = await phase('hello', 'B: bare Fastify hello', () => runHello())
  if (B) console.log(`  ${n0(B.opsPerSec)} req/s, p50 ${n2(B.p50)} ms, p99 ${n2(B.p99)} ms, errors ${B.errors}`)

  const profileDir = join(RESULTS_DIR, 'profiles', stamp)
  let profiledPid = 0
  const mixOn = await phase('mix', 'Escrow mix, SQLite FULL, group commit on', () =>
    runMix({
      label: 'SQLite FULL, group commit on',
      servers: 1,
      env: sqliteEnv('on'),
      // the fastest run, and a second window with fewer clients: more fresh milestones
      contractsPerWorker: S.contractsPerWorkerMain,
      fewerWorkers: S.fewerWorkers,
      ...(PROFILE ? { cpuProfileDir: profileDir } : {}),
      onStarted: (procs) => {
        profiledPid = procs[0]!.serverPid
      },
    }),
  )
  if (mixOn) printMix(mixOn)
  const mixOff = await phase('mix', 'Escrow mix, SQLite FULL, group commit off', () =>
    runMix({ label: 'SQLite FULL, group commit off', servers: 1, env: sqliteEnv('off') }),
  )
  if (mixOff) printMix(mixOff)

  let pgRaw: Awaited<ReturnType<typeof rawCommits>> | null = null
  const pgRuns: MixResult[] = []
  if (wants('pg')) {
    const down = await pgAvailable()
    if (down) {
      notes.push(`PostgreSQL skipped: ${down}`)
      console.log(`▶ PostgreSQL skipped: ${down}`)
    } else {
      pgRaw = await phase('pg', `PostgreSQL raw single-row INSERT commits (pool ${S.pgPoolSize})`, async () => {
        const db = await createDatabase('raw')
        try {
          return await rawCommits(db.url, S.pgPoolSize, 1_000, S.rawMs)
        } finally {
          await dropDatabase(db.name)
        }
      })
      if (pgRaw) console.log(`  ${n0(pgRaw.commitsPerSec)} commits/s, p50 ${n2(pgRaw.p50)} ms, p99 ${n2(pgRaw.p99)} ms`)
      for (const servers of S.scaleOut) {
        const r = await phase('pg', `Escrow mix, PostgreSQL, ${servers} server${servers > 1 ? 's' : ''}`, async () => {
          const db = await createDatabase(`mix${servers}`)
          try {
            return await runMix({
              label: `PostgreSQL, ${servers} server${servers > 1 ? 's' : ''}`,
              servers,
              env: { DATABASE_URL: db.url, TRANCHE_WORKER: 'off' },
              sampler: waitSampler(db.url, db.name),
            })
          } finally {
            await dropDatabase(db.name)
          }
        })
        if (r) {
          pgRuns.push(r)
          printMix(r)
        }
      }
    }
  }

  const timers = await phase('timers', `Timer worker: ${n0(S.timers)} due auto-releases (SQLite)`, () =>
    runChild<TimerResult>('bench/phases/timers.ts'),
  )
  const verifyR = await phase('verify', `verify() on a ledger of ${n0(S.verifyLines)} journal lines (SQLite)`, () =>
    runChild<VerifyResult>('bench/phases/verify.ts'),
  )
  const memory = await phase('memory', `Memory: server RSS at ${n0(S.memoryContracts)} contracts`, () => runMemory())
  if (memory)
    console.log(
      `  ${n0(memory.createdHttp)} contracts over HTTP in ${n1(memory.httpSeconds)} s (${n0(memory.contractsPerSec)}/s), ` +
        `${n0(memory.copied)} copied, ${n0(memory.read)} read back: RSS ${n0(memory.rssStartMb)} → ` +
        `${n0(memory.rssAfterHttpMb)} → ${n0(memory.rssMb)} MB (peak ${n0(memory.peakMb)} MB), errors ${memory.errors}`,
    )
  const L2 = await phase('raw_sqlite', 'L again at the end (drift check)', () => runRawSqlite(S.rawMs, 500))
  if (L2) console.log(`  ${n0(L2.commitsPerSec)} commits/s (start of run: ${n0(L?.commitsPerSec ?? Number.NaN)})`)

  let profile: ReturnType<typeof summarizeProfile> | null = null
  if (PROFILE && profiledPid) {
    const file = readdirSync(profileDir).find((f) => f.includes(`.${profiledPid}.`) && f.endsWith('.cpuprofile'))
    if (file) {
      // only the measured window: not start-up, module loading or the setup of users and contracts
      profile = summarizeProfile(join(profileDir, file), 25, mixOn?.windowUs)
      printProfile(profile)
    } else notes.push(`no CPU profile of pid ${profiledPid} found in ${profileDir}`)
  }

  // ---- the table ----
  const cpuRun = watch.stop()
  const loadAtEnd = loadavg()
  console.log(`\n=== Results ${QUICK ? '(QUICK smoke run — sizes and windows reduced) ' : ''}===`)
  console.log(
    `machine: ${cpus().length} cores; at start load ${loadAtStart[0]!.toFixed(2)} and ${busyOthers.length} other busy processes ` +
      `(quiet: ${quiet ? 'yes' : 'NO'}); during the ${n0(cpuRun.seconds)} s run, processes not of this benchmark used ` +
      `${n0(cpuRun.othersCpuSeconds)} CPU-s (${n2(cpuRun.othersCores)} of a core on average), PostgreSQL ${n0(cpuRun.postgresCpuSeconds)} CPU-s`,
  )
  for (const o of cpuRun.topOthers.filter((o) => o.cpuSeconds >= 1))
    console.log(`  other: ${n1(o.cpuSeconds)} CPU-s  ${o.cmd}`)
  const r: RunResults = { L, L2, B, pgRaw, mixOn, mixOff, pgRuns, timers, verifyR, memory }
  printTables(r)
  const targets = targetsOf(r)
  printTargets(targets)
  const mixes = mixesOf(r)
  if (srcDigest() !== digest)
    notes.push('src/ changed while the benchmark ran: phases may have measured different code')
  for (const n of notes) console.log(`note: ${n.split('\n')[0]}`)
  for (const m of mixes) {
    if (m.errors) console.log(`note: ${m.label}: ${m.errors} errors, e.g. ${m.errorSamples[0]}`)
    if (m.ranOut) console.log(`note: ${m.label}: ${m.ranOut} workers ran out of fresh milestones before the end`)
  }

  Object.assign(results, {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    quick: QUICK,
    srcDigest: digest,
    srcChangedDuringRun: srcDigest() !== digest,
    settings: S,
    machine: {
      cores: cpus().length,
      cpu: cpus()[0]?.model,
      node: process.version,
      loadAtStart,
      loadAtEnd,
      othersAtStart,
      quietAtStart: quiet,
      cpuDuringRun: cpuRun,
    },
    L,
    L2,
    B,
    mix: { groupCommitOn: mixOn, groupCommitOff: mixOff },
    postgres: { raw: pgRaw, runs: pgRuns },
    timers,
    verify: verifyR,
    memory: memory as MemoryResult | null,
    profile,
    targets,
    notes,
  })
  mkdirSync(RESULTS_DIR, { recursive: true })
  const json = `${JSON.stringify(results, null, 2)}\n`
  writeFileSync(join(RESULTS_DIR, `${stamp}.json`), json)
  writeFileSync(join(RESULTS_DIR, 'latest.json'), json)
  console.log(`\nwritten: bench/results/${stamp}.json and bench/results/latest.json`)
}

try {
  await main()
} finally {
  await cleanup()
}
