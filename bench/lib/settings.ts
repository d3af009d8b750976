/**
 * Benchmark settings: one place for durations, sizes and concurrency, full run or `BENCH_QUICK=1` smoke run.
 * Every phase is bounded in time, so a slow machine gives a lower number, never a run that does not end.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const QUICK = ['1', 'true', 'yes'].includes((process.env.BENCH_QUICK ?? '').toLowerCase())
export const PROFILE = ['1', 'true', 'yes'].includes((process.env.BENCH_PROFILE ?? '').toLowerCase())
/** Comma-separated phase names to run (default: all): raw_sqlite, hello, mix, pg, timers, verify, memory */
export const ONLY = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean)

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BENCH_DIR = join(ROOT, 'bench')
export const RESULTS_DIR = join(BENCH_DIR, 'results')

/** The PostgreSQL server (trust auth); each run makes its own database and drops it. */
export const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export const S = QUICK
  ? {
      rawMs: 1_500,
      warmupMs: 500,
      loadMs: 2_000,
      connections: 32,
      workers: 32,
      pairs: 4,
      milestonesPerContract: 10,
      contractsPerWorker: 2,
      contractsPerWorkerMain: 4,
      fewerWorkers: [8],
      pgPoolSize: 10,
      scaleOut: [1, 2],
      timers: 5_000,
      timerMs: 2_000,
      verifyLines: 200_000,
      memoryContracts: 2_000,
      memoryMaxMs: 5_000,
    }
  : {
      rawMs: 5_000,
      warmupMs: 2_000,
      loadMs: 10_000,
      connections: 32,
      workers: 32,
      pairs: 8,
      milestonesPerContract: 10,
      // enough fresh milestones for 12 s at ~4,000 ops/s (32 clients), then 12 s with 8 clients
      contractsPerWorker: 16,
      contractsPerWorkerMain: 56,
      fewerWorkers: [8],
      pgPoolSize: 10,
      scaleOut: [1, 2, 4],
      timers: 100_000,
      timerMs: 15_000,
      verifyLines: 1_000_000,
      memoryContracts: 100_000,
      memoryMaxMs: 150_000,
    }

export const wants = (phase: string) => ONLY.length === 0 || ONLY.includes(phase)

export const tempDir = (tag: string) => mkdtempSync(join(tmpdir(), `tranche-bench-${tag}-`))

export const silentLog = { info() {}, warn() {}, error() {} }
