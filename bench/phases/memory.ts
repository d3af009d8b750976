/**
 * Memory: the RSS of a `tranche serve` process (SQLite, group commit on, inline worker — as deployed) once 100,000
 * contracts exist and all of them went through it, read from /proc/<pid>/status (VmRSS; VmHWM is the peak).
 *
 * 1. Contracts are created through the server over HTTP (offer + accept, 3 milestones) by 32 clients, for at most
 *    `memoryMaxMs` (at a few hundred contracts/s, all 100,000 this way would take most of the run). RSS is
 *    sampled along the way, to show whether it grows with the count.
 * 2. The rest, up to 100,000, are bulk copies of contracts the server created (same users, fresh ids), written to
 *    its database by another connection while the server is idle.
 * 3. Every contract is then read through the server: each client pages through GET /v1/contracts (100 a page),
 *    so the server has decoded and answered all 100,000.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { makeContract, makePair, type Pair } from '../lib/api.ts'
import { insertCopies, type Row } from '../lib/clone.ts'
import { LoadDriver } from '../lib/load.ts'
import { memoryOf, startTranche } from '../lib/proc.ts'
import { S, tempDir } from '../lib/settings.ts'

export interface MemoryResult {
  readonly target: number
  /** contracts created through the server over HTTP */
  readonly createdHttp: number
  readonly httpSeconds: number
  readonly contractsPerSec: number
  /** contracts bulk-copied into its database to reach the target */
  readonly copied: number
  /** contracts in the database at the end */
  readonly total: number
  /** contracts read back through the server (GET /v1/contracts pages) */
  readonly read: number
  readonly readSeconds: number
  readonly rssStartMb: number
  readonly rssAfterHttpMb: number
  readonly rssMb: number
  readonly peakMb: number
  readonly errors: number
  readonly errorSamples: string[]
  readonly trend: { contracts: number; rssMb: number; step: string }[]
}

export async function runMemory(): Promise<MemoryResult> {
  const dir = tempDir('memory')
  const path = join(dir, 'tranche.db')
  const proc = await startTranche({ TRANCHE_DB: path })
  const driver = new LoadDriver([proc.origin], S.connections)
  const rss = () => memoryOf(proc.serverPid).rssMb
  try {
    const pairs: Pair[] = []
    await driver.run(
      S.pairs,
      async (http) => {
        pairs.push(await makePair(http))
      },
      null,
    )
    const rssStartMb = rss()
    const target = S.memoryContracts
    const trend: MemoryResult['trend'] = [{ contracts: 0, rssMb: rssStartMb, step: 'http' }]
    const every = Math.max(1, Math.floor(target / 10))
    const lastOf = new Map<Pair, string>()
    let reserved = 0
    let created = 0
    let failed = 0

    // 1. through the server
    const t0 = performance.now()
    const end = t0 + S.memoryMaxMs
    const s = await driver.run(
      S.workers,
      async (http) => {
        const pair = pairs[http.index % pairs.length]!
        while (reserved < target && performance.now() < end) {
          reserved++
          let id: string
          try {
            id = await makeContract(http, pair, 3)
          } catch (e) {
            // counted by the driver as an error; give up only when the server keeps failing
            if (++failed > 100) throw e
            continue
          }
          lastOf.set(pair, id)
          created++
          if (created % every === 0) {
            trend.push({ contracts: created, rssMb: rss(), step: 'http' })
            console.log(`  memory: ${created} contracts created over HTTP, RSS ${trend.at(-1)!.rssMb.toFixed(0)} MB`)
          }
        }
      },
      null,
    )
    const httpSeconds = (performance.now() - t0) / 1000
    const rssAfterHttpMb = rss()

    // 2. the rest as copies of the server's own contracts, spread over the pairs
    const raw = new Database(path)
    raw.defaultSafeIntegers(true)
    raw.pragma('busy_timeout = 10000')
    raw.pragma('cache_size = -262144')
    const templates = [...lastOf.values()]
    const missing = Math.max(0, target - created)
    raw.transaction(() => {
      templates.forEach((contractId, i) => {
        const contract = raw.prepare('select * from contracts where id = ?').all(contractId) as Row[]
        const doc = JSON.parse(String(contract[0]!.data)) as { offerId: string; milestones: { id: string }[] }
        const copies = Math.floor(missing / templates.length) + (i < missing % templates.length ? 1 : 0)
        insertCopies(
          raw,
          {
            rows: {
              offers: raw.prepare('select * from offers where id = ?').all(doc.offerId) as Row[],
              contracts: contract,
              object_index: raw.prepare('select * from object_index where contract_id = ?').all(contractId) as Row[],
            },
            ids: [contractId, doc.offerId, ...doc.milestones.map((m) => m.id)],
          },
          copies,
        )
      })
    })()
    const total = Number((raw.prepare('select count(*) as n from contracts').get() as { n: bigint }).n)
    raw.close()
    if (missing) {
      trend.push({ contracts: total, rssMb: rss(), step: 'copied' })
      console.log(`  memory: ${missing} contracts copied in bulk, ${total} in the database`)
    }

    // 3. every contract read through the server
    let read = 0
    const r0 = performance.now()
    await driver.run(
      pairs.length,
      async (http) => {
        const pair = pairs[http.index]!
        let after: string | null = null
        for (;;) {
          const q: string = after ? `&starting_after=${after}` : ''
          const page = await http.call('list_contracts', 'GET', `/v1/contracts?limit=100${q}`, {
            token: pair.client.token,
          })
          const body = page.body as { data?: { id: string }[]; has_more?: boolean } | undefined
          const data = body?.data ?? []
          read += data.length
          if (!body?.has_more || !data.length) break
          after = data[data.length - 1]!.id
        }
      },
      null,
    )
    const readSeconds = (performance.now() - r0) / 1000
    const m = memoryOf(proc.serverPid)
    trend.push({ contracts: total, rssMb: m.rssMb, step: 'read' })
    console.log(`  memory: ${read} contracts read through the server in ${readSeconds.toFixed(1)} s`)
    return {
      target,
      createdHttp: created,
      httpSeconds,
      contractsPerSec: created / httpSeconds,
      copied: missing,
      total,
      read,
      readSeconds,
      rssStartMb,
      rssAfterHttpMb,
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
