/**
 * Crash consistency (SPEC §1 "a 2xx answer means the change is on disk", §5 "every accepted command is one database
 * transaction", §7 invariants, §10 Idempotency-Key).
 *
 * The real server (`tranche serve`, see support.ts) runs as a child process. Concurrent clients drive it — sign-ups,
 * logins, offers, accepts, funds (one milestone, several at once, deposits), submits, approves, refund requests and
 * their acceptance, freelancer refunds, payouts — every POST with an Idempotency-Key, while the test SIGKILLs the
 * server and restarts it on the same database: at a random moment, right after a write was answered (the rest of its
 * group commit may be unanswered), or the instant the SQLite WAL is written; the last kill lands while the test
 * clock steps through the 5-day hold timers. Each client owns a pair of users and keeps a model of what its 2xx
 * answers said (ids, states, balances). A request that got no answer is retried with the same key once the server is
 * back: it must replay or run exactly once. When the server still holds the key as in flight (PostgreSQL keeps claims
 * as rows, stale after 60 s) the request is retried at the end instead, its pair frozen until then.
 *
 * Checked: `verify` after every kill (server down); at the end every 2xx is read back (sessions, logins, offers,
 * contracts, milestone states and amounts, balances, payouts) and every keyed write sent again must replay its
 * answer byte for byte; the database holds exactly the modelled objects — no user, offer, contract or payout more —
 * and per milestone exactly the journal entries and events of what happened to it (a fund is milestone state + escrow
 * + ledger lines + event, or nothing); every hold timer fires exactly once across the kill; `tranche verify` exits 0.
 *
 * The harness is in crash-*.ts: where the server runs (crash-deployment.ts), the model and the sending of requests
 * (crash-model.ts), the commands and flows (crash-commands.ts), the checks (crash-checks.ts) and the run with its kills
 * (crash-run.ts).
 *
 * SIGKILL tests atomicity and "answer only after commit", not fsync ordering: the OS page cache survives a killed
 * process (that would take power-loss simulation).
 *
 * CI: 10 (+1) kills on SQLite, 3 (+1) on PostgreSQL (TRANCHE_TEST_DATABASE_URL). TRANCHE_DEEP=1: 40 and 15, more
 * clients.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { type Deployment, deploy, type Kind } from './crash-deployment.ts'
import { CrashRun } from './crash-run.ts'
import { DEEP, PG_URL, removeBundle } from './support.ts'

const BACKENDS: Kind[] = PG_URL ? ['sqlite', 'postgres'] : ['sqlite']
const PLAN: Record<Kind, { kills: number; clients: number }> = {
  sqlite: { kills: DEEP ? 40 : 10, clients: DEEP ? 16 : 10 },
  postgres: { kills: DEEP ? 15 : 3, clients: DEEP ? 12 : 8 },
}
/** The bound is for a heavily loaded machine; on an idle 2-core machine a run takes about a minute. */
const TEST_MS = DEEP ? 60 * 60_000 : 12 * 60_000

describe.each(BACKENDS)('crash consistency on %s (SIGKILL under load)', (kind) => {
  let d: Deployment | null = null
  afterAll(async () => {
    await d?.server?.kill()
    await d?.cleanup()
    removeBundle()
  })

  it(
    `keeps every acknowledged change, leaves no trace of the others, and verifies after ${PLAN[kind].kills} kills`,
    async () => {
      d = await deploy(kind)
      const run = new CrashRun(d)
      const started = Date.now()
      try {
        await run.run(PLAN[kind])
      } finally {
        console.log(
          `[crash ${kind}] ${Math.round((Date.now() - started) / 1000)} s, ${JSON.stringify(run.stats)}, ` +
            `users ${run.users.length}, offers ${run.offers.size}, contracts ${run.contracts.size}, ` +
            `milestones ${run.milestones.size}, payouts ${run.payouts.size}, problems ${run.problems.length}`,
        )
      }
      if (run.problems.length) console.error(`[crash ${kind}] problems:\n${run.problems.join('\n')}`)
      expect(run.problems.join('\n')).toBe('')
      expect(run.stats.kills).toBe(PLAN[kind].kills + 1)
      expect(run.stats.unansweredWrites).toBeGreaterThan(0)
      expect(run.milestones.size).toBeGreaterThan(0)
    },
    TEST_MS,
  )
})
