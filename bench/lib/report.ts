/**
 * The benchmark's report: number formats, the tables of baselines, mixes, worker, verify and memory, and the
 * targets with PASS or MISS, from the results of one run (`run.ts`).
 */
import type { runHello } from '../phases/hello.ts'
import type { MemoryResult } from '../phases/memory.ts'
import type { MixResult } from '../phases/mix.ts'
import type { runRawSqlite } from '../phases/raw-sqlite.ts'
import type { rawCommits } from './pg.ts'
import { S } from './settings.ts'

export interface TimerResult {
  total: number
  buildSeconds: number
  serial: { loops: number; ran: number; seconds: number; perSec: number; failures: number; finished: boolean }
  parallel: { loops: number; ran: number; seconds: number; perSec: number; failures: number; finished: boolean }
  remaining: number
  ledgerOk: boolean
  ledgerProblems: string[]
}
export interface VerifyResult {
  lines: number
  buildSeconds: number
  runs: { seconds: number; lines: number; linesPerSec: number; ok: boolean }[]
  best: { seconds: number; lines: number; linesPerSec: number; ok: boolean }
}

/** What one run measured; a phase that did not run (BENCH_ONLY) or failed is null. */
export interface RunResults {
  L: ReturnType<typeof runRawSqlite> | null
  L2: ReturnType<typeof runRawSqlite> | null
  B: Awaited<ReturnType<typeof runHello>> | null
  pgRaw: Awaited<ReturnType<typeof rawCommits>> | null
  mixOn: MixResult | null
  mixOff: MixResult | null
  pgRuns: MixResult[]
  timers: TimerResult | null
  verifyR: VerifyResult | null
  memory: MemoryResult | null
}

export interface Target {
  target: string
  value: string
  pass: boolean | null
  note?: string
}

export const n0 = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–')
export const n1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–')
export const n2 = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '–')
/** A ratio checked against a target: three decimals, so that 0.0988 does not read as a 0.10 that missed. */
export const n3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '–')
export const pad = (s: string, w: number) => (s.length >= w ? s : s + ' '.repeat(w - s.length))
export const lpad = (s: string, w: number) => (s.length >= w ? s : ' '.repeat(w - s.length) + s)

export function table(head: string[], rows: string[][]) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? pad(c, widths[i]!) : lpad(c, widths[i]!))).join('  ')
  console.log(`  ${line(head)}`)
  console.log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`)
  for (const r of rows) console.log(`  ${line(r)}`)
}

export const mixesOf = (r: RunResults) => [r.mixOn, r.mixOff, ...r.pgRuns].filter((m): m is MixResult => m !== null)

/** The tables of baselines, mixes, and worker, verify and memory. */
export function printTables(r: RunResults) {
  const { L, L2, B, pgRaw, timers, verifyR, memory } = r
  const baselines = [
    ...(L ? [['L  raw SQLite commits/s (WAL, FULL)', n0(L.commitsPerSec), n2(L.fsyncMsP50), n2(L.fsyncMsP99)]] : []),
    ...(L2 ? [['L  again at the end of the run', n0(L2.commitsPerSec), n2(L2.fsyncMsP50), n2(L2.fsyncMsP99)]] : []),
    ...(B ? [['B  bare Fastify hello req/s', n0(B.opsPerSec), n2(B.p50), n2(B.p99)]] : []),
    ...(pgRaw
      ? [[`P  raw PostgreSQL commits/s (pool ${S.pgPoolSize})`, n0(pgRaw.commitsPerSec), n2(pgRaw.p50), n2(pgRaw.p99)]]
      : []),
  ]
  if (baselines.length) {
    console.log('\nBaselines')
    table(['measure', 'value', 'p50 ms', 'p99 ms'], baselines)
  }
  const mixes = mixesOf(r)
  if (mixes.length) {
    console.log(
      `\nEscrow mix over HTTP (${S.connections} connections, ${S.workers} clients unless named; per cycle fund, submit, approve, read contract, read balances)`,
    )
    table(
      [
        'configuration',
        'ops/s',
        'writes/s',
        'p50 ms',
        'p99 ms',
        'ops/base',
        'writes/base',
        'ops/B',
        'errors',
        'srv CPU',
        'drv CPU',
      ],
      mixes
        .flatMap((mix) => [mix, ...mix.fewer.map((f) => ({ ...f, label: `${mix.label}, ${f.workers} clients` }))])
        .map((m) => {
          const base = m.label.startsWith('PostgreSQL')
            ? (pgRaw?.commitsPerSec ?? Number.NaN)
            : (L?.commitsPerSec ?? Number.NaN)
          return [
            m.label,
            n0(m.opsPerSec),
            n0(m.writesPerSec),
            n1(m.p50),
            n1(m.p99),
            n2(m.opsPerSec / base),
            n2(m.writesPerSec / base),
            n2(m.opsPerSec / (B?.opsPerSec ?? Number.NaN)),
            String(m.errors),
            n2(m.serverCpu),
            n2(m.driverCpu),
          ]
        }),
    )
    console.log('  (base = L for SQLite, P for PostgreSQL; CPU = cores busy on average: server processes, load driver)')
  }
  if (timers || verifyR || memory) {
    console.log('\nWorker, verify, memory')
    const rows: string[][] = []
    if (timers) {
      rows.push([
        `timers, one loop (as the worker runs them)`,
        `${n0(timers.serial.perSec)}/s`,
        `${n0(timers.serial.ran)} of ${n0(timers.total)} in ${n1(timers.serial.seconds)} s${timers.serial.finished ? '' : ' (time bound)'}`,
      ])
      rows.push([
        `timers, 8 concurrent loops (info)`,
        `${n0(timers.parallel.perSec)}/s`,
        `${n0(timers.parallel.ran)} in ${n1(timers.parallel.seconds)} s; ledger ok: ${timers.ledgerOk}`,
      ])
    }
    if (verifyR)
      rows.push([
        'verify',
        `${n0(verifyR.best.linesPerSec)} lines/s`,
        `${n0(verifyR.lines)} lines in ${n2(verifyR.best.seconds)} s (runs: ${verifyR.runs.map((r) => n2(r.seconds)).join(', ')} s); ok: ${verifyR.best.ok}`,
      ])
    if (memory)
      rows.push([
        'server RSS',
        `${n0(memory.rssMb)} MB`,
        `${n0(memory.total)} contracts: ${n0(memory.createdHttp)} created over HTTP (${n0(memory.contractsPerSec)}/s), ` +
          `${n0(memory.copied)} copied, ${n0(memory.read)} read back; RSS at start ${n0(memory.rssStartMb)} MB, ` +
          `after HTTP ${n0(memory.rssAfterHttpMb)} MB, peak ${n0(memory.peakMb)} MB`,
      ])
    table(['measure', 'value', 'detail'], rows)
  }
}

/** Each target of the issue, measured or not, passed or missed. */
export function targetsOf(r: RunResults): Target[] {
  const { L, B, pgRaw, mixOn, pgRuns, timers, verifyR, memory } = r
  const targets: Target[] = []
  const add = (
    target: string,
    value: number | null,
    ok: (v: number) => boolean,
    fmt: (v: number) => string,
    note?: string,
  ) =>
    targets.push({
      target,
      value: value === null || !Number.isFinite(value) ? 'not measured' : fmt(value),
      pass: value === null || !Number.isFinite(value) ? null : ok(value),
      ...(note ? { note } : {}),
    })
  add(
    'ops/L ≥ 1.0 (SQLite FULL, group commit on)',
    mixOn && L ? mixOn.opsPerSec / L.commitsPerSec : null,
    (v) => v >= 1,
    n3,
  )
  add('ops/B ≥ 0.10', mixOn && B ? mixOn.opsPerSec / B.opsPerSec : null, (v) => v >= 0.1, n3)
  add(
    'p99 ≤ 25 ms at that throughput',
    mixOn ? mixOn.p99 : null,
    (v) => v <= 25,
    (v) => `${n1(v)} ms`,
  )
  const pg1 = pgRuns.find((r) => r.servers === 1)
  add(
    'PostgreSQL mix ≥ 0.5 × raw commits',
    pg1 && pgRaw ? pg1.opsPerSec / pgRaw.commitsPerSec : null,
    (v) => v >= 0.5,
    n3,
  )
  add(
    'timers ≥ 2,000/s',
    timers ? timers.serial.perSec : null,
    (v) => v >= 2000,
    (v) => `${n0(v)}/s`,
  )
  add(
    'verify ≥ 500,000 lines/s',
    verifyR ? verifyR.best.linesPerSec : null,
    (v) => v >= 500_000,
    (v) => `${n0(v)}/s`,
    verifyR && verifyR.lines < 1_000_000 ? `only ${n0(verifyR.lines)} lines (quick run)` : undefined,
  )
  add(
    'RSS ≤ 300 MB at 100,000 contracts',
    memory ? memory.rssMb : null,
    (v) => v <= 300 && (memory?.total ?? 0) >= 100_000 && (memory?.read ?? 0) >= (memory?.total ?? 0),
    (v) => `${n0(v)} MB`,
    memory && memory.total < 100_000 ? `only ${n0(memory.total)} contracts (quick run)` : undefined,
  )
  return targets
}

/** The targets as a table, with PASS or MISS. */
export function printTargets(targets: Target[]) {
  console.log('\nTargets')
  table(
    ['target', 'measured', 'result'],
    targets.map((t) => [
      t.target,
      t.value,
      t.pass === null ? '–' : t.pass ? 'PASS' : `MISS${t.note ? ` (${t.note})` : ''}`,
    ]),
  )
}

export function printMix(mix: MixResult) {
  console.log(`  setup ${n1(mix.setupSeconds)} s`)
  for (const m of [mix, ...mix.fewer]) {
    console.log(
      `  ${m.workers} clients: ${n0(m.opsPerSec)} ops/s (${n0(m.writesPerSec)} writes/s, ${n0(m.cyclesPerSec)} cycles/s), ` +
        `p50 ${n1(m.p50)} ms, p99 ${n1(m.p99)} ms, errors ${m.errors}, ` +
        `server CPU ${n2(m.serverCpu)}, driver CPU ${n2(m.driverCpu)}`,
    )
    for (const [k, v] of Object.entries(m.byKind))
      console.log(
        `    ${pad(k, 14)} ${lpad(n0(v.perSec), 6)}/s  p50 ${lpad(n1(v.p50), 6)} ms  p99 ${lpad(n1(v.p99), 6)} ms`,
      )
    if (m.errors) console.log(`    errors, e.g.: ${m.errorSamples.join(' | ')}`)
  }
  const w = mix.sampled as {
    activeBackendsByWait: Record<string, number>
    lockWaitersByRelation: Record<string, number>
  } | null
  if (w) {
    const fmt = (o: Record<string, number>) =>
      Object.entries(o)
        .slice(0, 6)
        .map(([k, v]) => `${k} ${n1(v)}`)
        .join(', ') || 'none'
    console.log(`    PostgreSQL backends (average per sample) by wait: ${fmt(w.activeBackendsByWait)}`)
    console.log(`    lock waiters by relation: ${fmt(w.lockWaitersByRelation)}`)
  }
}
