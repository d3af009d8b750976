/**
 * `tranche export` (a user's statement as CSV) takes its bounds as the API's statements do — a day of the calendar,
 * `--to` counting the whole day — and refuses what it cannot answer (exit 2) instead of printing an empty statement.
 * `tranche --help` prints the usage.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { funded, ok, post } from '../http/helpers.ts'
import { startEnv, type TestEnv } from '../support/harness.ts'

const run = promisify(execFile)

describe('tranche export', () => {
  let env: TestEnv
  let client: string
  let day: string
  beforeAll(async () => {
    env = await startEnv('sqlite')
    const d = await funded(env, {}, [10_000])
    ok(await post(env, d.freelancer.token, `/v1/milestones/${d.ids[0]}/refund`, {})) // money back to the client
    client = d.client.id
    day = new Date(env.rt.app.clock.now()).toISOString().slice(0, 10)
  })
  afterAll(async () => env.close())

  const cli = (...args: string[]) => tranche('export', ...args)
  const tranche = async (...args: string[]) => {
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      TRANCHE_DB: env.config.sqlitePath,
      TRANCHE_LOG_LEVEL: 'silent',
    }
    delete childEnv.DATABASE_URL
    try {
      const { stdout } = await run('npx', ['tsx', 'src/cli/main.ts', ...args], {
        env: childEnv,
        timeout: 60_000,
      })
      return { code: 0, out: stdout }
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string }
      return { code: err.code ?? -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` }
    }
  }

  it('prints the lines of the days asked for, --to counting the whole day', async () => {
    const r = await cli('--user', client, '--currency', 'USD', '--from', day, '--to', day)
    expect(r.code, r.out).toBe(0)
    const rows = r.out.trim().split('\r\n')
    expect(rows.length).toBeGreaterThan(1) // the header and the refund
    expect(rows.slice(1).join('\n')).toContain('refund')
  })

  it('refuses what it cannot answer, with exit 2 and the reason', async () => {
    for (const [args, reason] of [
      [['--from', 'garbage'], /from must be an ISO date/],
      [['--from', '2025-02-30'], /from must be an ISO date/],
      [['--currency', 'usd'], /unsupported currency "usd"/],
      [['--user', 'usr_nobody'], /no user usr_nobody/],
      [['--from', day, '--to', '2020-01-01'], /--to must be after --from/],
    ] as const) {
      const r = await cli('--user', client, '--currency', 'USD', ...args)
      expect(r.code, r.out).toBe(2)
      expect(r.out).toMatch(reason)
      expect(r.out).not.toContain('usage:') // a refusal, not a mistake in the command line
    }
  })

  it('prints its usage for --help (exit 0) and for a command line it does not understand (exit 2)', async () => {
    for (const help of ['--help', '-h', 'help']) {
      const r = await tranche(help)
      expect(r.code, r.out).toBe(0)
      expect(r.out).toMatch(/^usage: tranche <command>/)
    }
    for (const args of [['export', '--user', client, '--currency', 'USD', '--colour', 'red'], ['nothing']]) {
      const r = await tranche(...args)
      expect(r.code, r.out).toBe(2)
      expect(r.out).toContain('usage: tranche <command>')
    }
  })
})
