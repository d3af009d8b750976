/**
 * Replays generated command sequences into a real SQLite database through the app layer (the use cases, one
 * transaction each; time through the worker's manual clock), in lockstep with the pure model: after every step the
 * outcome, the contracts, the balances and the timers must agree with the model, and `verify` must find nothing
 * wrong (SPEC §7); at the end `GET /v1/admin/verify` agrees. The replay is in verify-replay-support.ts; the checks on a
 * database corrupted by hand are in verify-corruption.test.ts.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { call, startEnv } from '../support/harness.ts'
import { DEEP, stepsArb, worldArb } from './model.ts'
import { problemsOf, replay } from './verify-replay-support.ts'

const RUNS = DEEP ? 40 : 4
const MAX_STEPS = DEEP ? 80 : 30
const MIN_STEPS = DEEP ? 30 : 20

describe('replaying generated sequences into SQLite through the app layer', () => {
  it(
    `agrees with the pure model step by step and verify stays ok (${RUNS} runs × ${MIN_STEPS}–${MAX_STEPS} steps)`,
    async () => {
      let steps = 0
      let entries = 0
      await fc.assert(
        fc.asyncProperty(worldArb(true), stepsArb(MAX_STEPS, MIN_STEPS), async (world, seq) => {
          const env = await startEnv('sqlite')
          try {
            const r = await replay(env, world, seq)
            steps += r.steps
            const res = await call(env, 'GET', '/v1/admin/verify', { token: r.admin.token })
            expect(res.status).toBe(200)
            expect(res.body.ok, problemsOf(res.body)).toBe(true)
            expect(res.body.problems).toEqual([])
            entries += res.body.checked.entries
          } finally {
            await env.close()
          }
        }),
        { numRuns: RUNS },
      )
      console.log(`[verify-replay] ${RUNS} runs, ${steps} steps replayed, ${entries} journal entries verified`)
    },
    DEEP ? 60 * 60_000 : 120_000,
  )
})
