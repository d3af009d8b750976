/**
 * The escrow mix over HTTP against real `tranche serve` processes (SQLite or PostgreSQL, one or more servers).
 * Setup (users, contracts with many pending milestones) happens before the clock starts; then every worker runs
 * fund → submit → approve → read contract → read balances on its own fresh milestones, in a closed loop.
 */
import { type Job, makeContract, makePair, milestonesOf, MIX_WRITES, mixCycle, type Pair } from '../lib/api.ts'
import { type LoadSummary, LoadDriver } from '../lib/load.ts'
import { cpuSeconds, type Proc, startTranche } from '../lib/proc.ts'
import { S } from '../lib/settings.ts'

/** One measured window of the mix. */
export interface MixWindow extends LoadSummary {
  readonly workers: number
  readonly writesPerSec: number
  readonly readsPerSec: number
  readonly cyclesPerSec: number
  /** CPU seconds the server process(es) used per second of the window (1.0 = one core busy) */
  readonly serverCpu: number
  /** the same for the benchmark process (the load driver) */
  readonly driverCpu: number
  /** the measured window on the monotonic clock (µs), to cut a CPU profile down to it */
  readonly windowUs: [number, number]
}

export interface MixResult extends MixWindow {
  readonly label: string
  readonly servers: number
  readonly setupSeconds: number
  /** client loops that found no fresh milestone left before the end (the setup was too small) */
  readonly ranOut: number
  readonly serverPids: number[]
  /** the same servers measured again with fewer concurrent clients (latency at a lower load) */
  readonly fewer: MixWindow[]
  /** what the sampler saw during the main window (PostgreSQL: wait events) */
  readonly sampled: unknown
}

export async function runMix(opts: {
  label: string
  servers: number
  env: Record<string, string>
  /** CPU-profile the first server into this directory */
  cpuProfileDir?: string
  /** contracts (of S.milestonesPerContract milestones) set up per client before the clock starts */
  contractsPerWorker?: number
  /** after the main window, measure again with these numbers of clients (on the milestones left) */
  fewerWorkers?: number[]
  /** started when the main window starts, stopped when it ends; its result is kept as `sampled` */
  sampler?: { start(): void; stop(): Promise<unknown> }
  /** called once the servers are up, before the load (e.g. to record their pids) */
  onStarted?: (procs: Proc[]) => void
}): Promise<MixResult> {
  const procs: Proc[] = []
  let driver: LoadDriver | null = null
  try {
    // the first server migrates a fresh database; the others start once it has
    procs.push(await startTranche(opts.env, opts.cpuProfileDir ? { cpuProfileDir: opts.cpuProfileDir } : {}))
    if (opts.servers > 1) {
      procs.push(...(await Promise.all(Array.from({ length: opts.servers - 1 }, () => startTranche(opts.env)))))
    }
    opts.onStarted?.(procs)
    driver = new LoadDriver(
      procs.map((p) => p.origin),
      S.connections,
    )
    const t0 = performance.now()
    const pairs: Pair[] = []
    await driver.run(
      S.pairs,
      async (http) => {
        pairs.push(await makePair(http))
      },
      null,
    )
    const queues: Job[][] = Array.from({ length: S.workers }, () => [])
    await driver.run(
      S.workers,
      async (http) => {
        const pair = pairs[http.index % pairs.length]!
        for (let i = 0; i < (opts.contractsPerWorker ?? S.contractsPerWorker); i++) {
          const contractId = await makeContract(http, pair, S.milestonesPerContract)
          for (const milestoneId of await milestonesOf(http, pair, contractId))
            queues[http.index]!.push({ contractId, milestoneId, pair })
        }
      },
      null,
    )
    const setupSeconds = (performance.now() - t0) / 1000
    let ranOut = 0
    // `workers` clients; client j of k works through queues j, j+k, j+2k…, so no two clients share a contract
    const measure = async (workers: number) => {
      const cpu0 = procs.map((p) => cpuSeconds(p.serverPid))
      const self0 = process.cpuUsage()
      const w0 = performance.now()
      const s = await driver!.run(
        workers,
        async (http) => {
          let job: Job | undefined
          for (let q = http.index; q < queues.length && !job; q += workers) job = queues[q]!.shift()
          if (!job) {
            ranOut++
            return false
          }
          await mixCycle(http, job)
        },
        { warmupMs: S.warmupMs, durationMs: S.loadMs },
      )
      const windowUs = driver!.windowMonotonicUs()
      const wall = (performance.now() - w0) / 1000
      const self = process.cpuUsage(self0)
      const writes = MIX_WRITES.reduce((n, k) => n + (s.byKind[k]?.count ?? 0), 0)
      return {
        ...s,
        workers,
        writesPerSec: writes / s.seconds,
        readsPerSec: (s.ops - writes) / s.seconds,
        cyclesPerSec: (s.byKind.read_balances?.count ?? 0) / s.seconds,
        serverCpu: procs.reduce((sum, p, i) => sum + cpuSeconds(p.serverPid) - cpu0[i]!, 0) / wall,
        driverCpu: (self.user + self.system) / 1e6 / wall,
        windowUs,
      }
    }
    opts.sampler?.start()
    const main = await measure(S.workers)
    const sampled = (await opts.sampler?.stop()) ?? null
    const fewer: MixWindow[] = []
    for (const w of opts.fewerWorkers ?? []) fewer.push(await measure(w))
    return {
      ...main,
      label: opts.label,
      servers: opts.servers,
      setupSeconds,
      ranOut,
      serverPids: procs.map((p) => p.serverPid),
      fewer,
      sampled,
    }
  } finally {
    await driver?.close()
    await Promise.all(procs.map((p) => p.stop()))
  }
}
