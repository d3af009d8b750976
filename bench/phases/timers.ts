/**
 * The timer worker: auto-releases processed per second. Runs in its own process (`BENCH_RESULT` on stdout).
 *
 * The due auto-releases are built as `lib/due-timers.ts` says; then `Worker.runDueTimers(now)` runs until none
 * remain or the time bound is reached:
 *   - serial: one loop calling it, exactly as the worker's own loop does (the target's number);
 *   - parallel: 8 loops calling it concurrently on the same store (claims are leased, so none runs twice) — for
 *     information: how far more concurrency would go.
 */
import { rmSync } from 'node:fs'
import { verify } from '../../src/app/verify.ts'
import { dueAutoReleases } from '../lib/due-timers.ts'
import { S } from '../lib/settings.ts'

const { rt, dir, now, total, buildSeconds, due } = await dueAutoReleases(S.timers)
console.log(`  timers: ${total} due auto-releases built in ${buildSeconds.toFixed(1)} s`)
const worker = rt.worker

async function drain(loops: number, ms: number) {
  const before = worker.stats.timersRun
  const failuresBefore = worker.stats.timerFailures
  const start = performance.now()
  const end = start + ms
  let finished = false
  await Promise.all(
    Array.from({ length: loops }, async () => {
      while (performance.now() < end) {
        if ((await worker.runDueTimers(now, loops > 1 ? 32 : 256)) === 0) {
          finished = true
          break
        }
      }
    }),
  )
  const seconds = (performance.now() - start) / 1000
  const ran = worker.stats.timersRun - before
  return {
    loops,
    ran,
    seconds,
    perSec: ran / seconds,
    failures: worker.stats.timerFailures - failuresBefore,
    finished,
  }
}

const serial = await drain(1, S.timerMs)
console.log(`  timers serial: ${serial.ran} in ${serial.seconds.toFixed(1)} s = ${serial.perSec.toFixed(0)}/s`)
const parallel = await drain(8, S.timerMs)
console.log(`  timers 8 loops: ${parallel.ran} in ${parallel.seconds.toFixed(1)} s = ${parallel.perSec.toFixed(0)}/s`)
const remaining = await due()
const v0 = performance.now()
const report = await verify(rt.store)
const verifySeconds = (performance.now() - v0) / 1000
await rt.close()
rmSync(dir, { recursive: true, force: true })
console.log(
  `BENCH_RESULT ${JSON.stringify({
    total,
    buildSeconds,
    serial,
    parallel,
    remaining,
    ledgerOk: report.ok,
    ledgerProblems: report.problems.slice(0, 5),
    verifySeconds,
  })}`,
)
