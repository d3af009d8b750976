/**
 * Memory: the RSS of a `tranche serve` process (SQLite, group commit on, inline worker — as deployed) after
 * 100,000 contracts were created through it over HTTP (offer + accept each, 3 milestones), sampled from
 * /proc/<pid>/status (VmRSS; VmHWM is the peak). RSS is also sampled as the count grows, to show the trend.
 */
import { rmSync } from 'node:fs'
import { makeContract, makePair, type Pair } from '../lib/api.ts'
import { LoadDriver } from '../lib/load.ts'
import { memoryOf, startTranche } from '../lib/proc.ts'
import { S, tempDir } from '../lib/settings.ts'

export interface MemoryResult {
  readonly target: number
  readonly created: number
  readonly seconds: number
  readonly contractsPerSec: number
  readonly rssStartMb: number
  readonly rssMb: number
  readonly peakMb: number
  readonly errors: number
  readonly errorSamples: string[]
  readonly trend: { contracts: number; rssMb: number }[]
}

export async function runMemory(): Promise<MemoryResult> {
  const dir = tempDir('memory')
  const proc = await startTranche({ TRANCHE_DB: `${dir}/tranche.db` })
  const driver = new LoadDriver([proc.origin], S.connections)
  try {
    const pairs: Pair[] = []
    await driver.run(
      S.pairs,
      async (http) => {
        pairs.push(await makePair(http))
      },
      null,
    )
    const rssStartMb = memoryOf(proc.serverPid).rssMb
    const target = S.memoryContracts
    let reserved = 0
    let created = 0
    let failed = 0
    const trend: { contracts: number; rssMb: number }[] = [{ contracts: 0, rssMb: rssStartMb }]
    const every = Math.max(1, Math.floor(target / 10))
    const t0 = performance.now()
    const end = t0 + S.memoryMaxMs
    const s = await driver.run(
      S.workers,
      async (http) => {
        const pair = pairs[http.index % pairs.length]!
        while (reserved < target && performance.now() < end) {
          reserved++
          try {
            await makeContract(http, pair, 3)
          } catch (e) {
            // counted by the driver as an error; give up only when the server keeps failing
            if (++failed > 100) throw e
            continue
          }
          created++
          if (created % every === 0) {
            trend.push({ contracts: created, rssMb: memoryOf(proc.serverPid).rssMb })
            console.log(`  memory: ${created} contracts, RSS ${trend[trend.length - 1]!.rssMb.toFixed(0)} MB`)
          }
        }
      },
      null,
    )
    const seconds = (performance.now() - t0) / 1000
    const m = memoryOf(proc.serverPid)
    return {
      target,
      created,
      seconds,
      contractsPerSec: created / seconds,
      rssStartMb,
      rssMb: m.rssMb,
      peakMb: m.peakMb,
      errors: s.errors,
      errorSamples: s.errorSamples,
      trend,
    }
  } finally {
    await driver.close()
    await proc.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
