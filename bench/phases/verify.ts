/**
 * `verify`: journal lines checked per second. Runs in its own process (`BENCH_RESULT` on stdout).
 *
 * The ledger is built directly with SQL in one transaction (through the app it would take hours): balanced
 * two-line entries, money coming in from the rail to 10,000 users' available accounts, and an accounts table whose
 * balances are the sums of the lines — so verify(store) finds nothing wrong and checks every line. Then
 * verify(store) is timed, twice (the better of the two is the result; both are reported).
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { verify } from '../../src/app/verify.ts'
import { openSqlite } from '../../src/store/sqlite/sqlite-store.ts'
import { S, tempDir } from '../lib/settings.ts'

const dir = tempDir('verify')
const path = join(dir, 'tranche.db')
const store = await openSqlite(path)

const USERS = 10_000
const BATCH = 500
const entries = Math.ceil(S.verifyLines / 2 / BATCH) * BATCH
const t0 = performance.now()
const raw = new Database(path)
raw.defaultSafeIntegers(true)
raw.pragma('journal_mode = WAL')
raw.pragma('cache_size = -262144') // 256 MB of page cache for the bulk build (index pages stay in memory)
const rows = (n: number, one: string) => Array.from({ length: n }, () => one).join(', ')
const insEntries = raw.prepare(
  `insert into journal_entries (id, kind, currency, memo, contract_id, milestone_id, created_at) values ${rows(BATCH, "(?, 'fund', 'USD', 'benchmark', null, null, ?)")}`,
)
const insLines = raw.prepare(
  `insert into journal_lines (entry_id, account, currency, amount, created_at) values ${rows(2 * BATCH, "(?, ?, 'USD', ?, ?)")}`,
)
const insAccount = raw.prepare("insert into accounts (account, currency, balance, user_id) values (?, 'USD', ?, ?)")
const userId = (u: number) => `usr_${u.toString(36).padStart(20, '0')}`
raw.transaction(() => {
  const balance = new Array<bigint>(USERS).fill(0n)
  let rail = 0n
  const at = BigInt(Date.now())
  for (let start = 0; start < entries; start += BATCH) {
    const e: unknown[] = []
    const l: unknown[] = []
    for (let k = 0; k < BATCH; k++) {
      const i = start + k
      const id = `je_${i.toString(36).padStart(20, '0')}`
      const u = i % USERS
      const amount = BigInt(1_000 + (i % 97) * 100)
      e.push(id, at)
      l.push(id, 'ext:rail', -amount, at, id, `user:${userId(u)}:available`, amount, at)
      balance[u]! += amount
      rail -= amount
    }
    insEntries.run(...e)
    insLines.run(...l)
  }
  insAccount.run('ext:rail', rail, null)
  for (let u = 0; u < USERS; u++) insAccount.run(`user:${userId(u)}:available`, balance[u]!, userId(u))
})()
raw.close()
const buildSeconds = (performance.now() - t0) / 1000
console.log(`  verify: ledger of ${entries * 2} lines built in ${buildSeconds.toFixed(1)} s`)

const runs: { seconds: number; lines: number; linesPerSec: number; ok: boolean }[] = []
for (let i = 0; i < 2; i++) {
  const v0 = performance.now()
  const report = await verify(store)
  const seconds = (performance.now() - v0) / 1000
  runs.push({ seconds, lines: report.checked.lines, linesPerSec: report.checked.lines / seconds, ok: report.ok })
  console.log(`  verify run ${i + 1}: ${report.checked.lines} lines in ${seconds.toFixed(2)} s, ok=${report.ok}`)
}
await store.close()
rmSync(dir, { recursive: true, force: true })
const best = runs.reduce((a, b) => (b.linesPerSec > a.linesPerSec ? b : a))
console.log(`BENCH_RESULT ${JSON.stringify({ lines: entries * 2, buildSeconds, runs, best })}`)
