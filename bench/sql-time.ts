/**
 * `npx tsx bench/sql-time.ts <script.ts> [args…]`: runs a script in process with every better-sqlite3 statement
 * timed (and its preparation), then prints on exit where the database time went, per SQL text (count, total,
 * mean). For the phases that use SQLite in process (bench/phases/timers.ts, verify.ts) or a server
 * (`bench/sql-time.ts src/cli/main.ts serve`, stopped with SIGTERM). COMMIT time is the fsync.
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'

type Method = (...args: unknown[]) => unknown
const stats = new Map<string, { n: number; ms: number }>()
// patching the driver's prototype is the point of this tool; its methods are untyped here on purpose
const proto = Database.prototype as unknown as { prepare: (sql: string) => Record<string, Method> }
const prepare = proto.prepare
proto.prepare = function (this: unknown, sql: string) {
  const key = sql.replace(/\s+/g, ' ').slice(0, 110)
  const t0 = performance.now()
  const stmt = prepare.call(this, sql)
  const p = stats.get(`(prepare) ${key}`) ?? { n: 0, ms: 0 }
  p.n++
  p.ms += performance.now() - t0
  stats.set(`(prepare) ${key}`, p)
  for (const m of ['run', 'all', 'get', 'iterate']) {
    const f = stmt[m]
    if (typeof f !== 'function') continue
    stmt[m] = function (this: unknown, ...args: unknown[]) {
      const t = performance.now()
      try {
        return f.apply(this, args)
      } finally {
        const s = stats.get(key) ?? { n: 0, ms: 0 }
        s.n++
        s.ms += performance.now() - t
        stats.set(key, s)
      }
    }
  }
  return stmt
}
process.on('exit', () => {
  console.error('\n   total ms   count   mean ms  statement')
  for (const [k, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30))
    console.error(`${s.ms.toFixed(0).padStart(11)} ${String(s.n).padStart(7)} ${(s.ms / s.n).toFixed(3).padStart(9)}  ${k}`)
})
const script = process.argv[2]
if (!script) {
  console.error('usage: npx tsx bench/sql-time.ts <script.ts> [args…]')
  process.exit(2)
}
// the script sees its own arguments, as if run directly (e.g. `bench/sql-time.ts src/cli/main.ts serve`)
process.argv.splice(1, 1)
await import(pathToFileURL(resolve(script)).href)
