/**
 * Two versions of the auto-release path, compared in one process: `npx tsx bench/timers-ab.ts [rounds] [timers]`.
 *
 * The code under test reads a temporary switch, `(globalThis as { __ab?: boolean }).__ab` (B when true), which this
 * script flips between rounds of `Worker.runDueTimers(now, 256)` — one group-commit batch each — on due
 * auto-releases built as `lib/due-timers.ts` says. Both versions then see the same machine, the same data and the
 * same JIT state, which runs of the timer phase one after the other cannot give on a machine whose speed moves more
 * than the change. Prints the time an auto-release under A and under B, and B/A. Without a switch in the code, the
 * ratio shows the noise (within ±2–3 % in runs of 160 rounds on 2026-11-27).
 */
import { rmSync } from 'node:fs'
import { dueAutoReleases } from './lib/due-timers.ts'

const rounds = Number(process.argv[2] ?? 200)
const { rt, dir, now, total } = await dueAutoReleases(Number(process.argv[3] ?? 100_000), 'timers-ab')
const worker = rt.worker
const g = globalThis as { __ab?: boolean }
const spent = { a: { ms: 0, n: 0 }, b: { ms: 0, n: 0 } }
for (let i = 0; i < rounds; i++) {
  g.__ab = i % 2 === 1
  const side = g.__ab ? spent.b : spent.a
  const before = worker.stats.timersRun
  const t = performance.now()
  if ((await worker.runDueTimers(now, 256)) === 0) break
  side.ms += performance.now() - t
  side.n += worker.stats.timersRun - before
}
await rt.close()
rmSync(dir, { recursive: true, force: true })
const per = (s: { ms: number; n: number }) => (1000 * s.ms) / s.n
console.log(
  `${total} due; A ${per(spent.a).toFixed(1)} µs an auto-release (${spent.a.n}), B ${per(spent.b).toFixed(1)} µs ` +
    `(${spent.b.n}); B/A ${(per(spent.b) / per(spent.a)).toFixed(3)}`,
)
