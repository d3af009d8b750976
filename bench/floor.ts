/**
 * `npx tsx bench/floor.ts [routes] [rounds]`: the floor under each kind of request — server CPU per request for a
 * bare Fastify hello route and for Tranche's cheapest answers, with the mix's load driver (32 connections,
 * 32 concurrent loops). Every route is measured `rounds` times (default 3), the routes alternating, so that all
 * see the same machine. Routes: hello, healthz, healthz_token (the session lookup), me, balances, contract (a
 * contract of 10 milestones, 6.7 KB of JSON, with its parties).
 */
import { join } from 'node:path'
import { makeContract, makePair } from './lib/api.ts'
import { type Http, LoadDriver } from './lib/load.ts'
import { cpuSeconds, live, startProcess, startTranche } from './lib/proc.ts'
import { tempDir } from './lib/settings.ts'

const ALL = ['hello', 'healthz', 'healthz_token', 'me', 'balances', 'contract']
const routes = (process.argv[2] ?? ALL.join(',')).split(',')
const rounds = Number(process.argv[3] ?? 3)
for (const r of routes) if (!ALL.includes(r)) throw new Error(`unknown route ${r}; one of ${ALL.join(', ')}`)

const hello = await startProcess('bench/servers/hello.mjs', [], {})
const tranche = await startTranche({ TRANCHE_DB: join(tempDir('floor'), 'tranche.db'), TRANCHE_WORKER: 'off' })
try {
  let token = ''
  let contractId = ''
  const setup = new LoadDriver([tranche.origin], 1)
  await setup.run(
    1,
    async (http) => {
      const pair = await makePair(http)
      token = pair.client.token
      contractId = await makeContract(http, pair, 10)
    },
    null,
  )
  await setup.close()
  const target: Record<string, { path: string; token?: string }> = {
    hello: { path: '/hello' },
    healthz: { path: '/healthz' },
    healthz_token: { path: '/healthz', token },
    me: { path: '/v1/me', token },
    balances: { path: '/v1/balances', token },
    contract: { path: `/v1/contracts/${contractId}`, token },
  }
  const seen = new Map<string, { perSec: number; cpuUs: number }[]>()
  for (let round = 0; round < rounds; round++) {
    for (const route of routes) {
      const proc = route === 'hello' ? hello : tranche
      const { path, token: t } = target[route]!
      const driver = new LoadDriver([proc.origin], 32)
      const script = async (http: Http) => {
        await http.call(route, 'GET', path, t ? { token: t } : {})
      }
      await driver.run(32, script, { warmupMs: 0, durationMs: 1_000 })
      const cpu0 = cpuSeconds(proc.serverPid)
      const s = await driver.run(32, script, { warmupMs: 0, durationMs: 4_000 })
      const cpu = cpuSeconds(proc.serverPid) - cpu0
      await driver.close()
      if (s.errors) throw new Error(`${route}: ${s.errors} errors, e.g. ${s.errorSamples[0]}`)
      const row = { perSec: s.opsPerSec, cpuUs: (cpu * 1e6) / s.ops }
      seen.set(route, [...(seen.get(route) ?? []), row])
      console.log(
        `${route.padEnd(14)} ${Math.round(row.perSec).toString().padStart(7)} req/s  ${Math.round(row.cpuUs).toString().padStart(4)} µs of server CPU a request`,
      )
    }
  }
  console.log('\nmedian of each route:')
  for (const [route, rows] of seen) {
    const us = rows.map((r) => r.cpuUs).sort((a, b) => a - b)
    console.log(
      `${route.padEnd(14)} ${Math.round(us[us.length >> 1]!)
        .toString()
        .padStart(4)} µs (${us.map(Math.round).join(', ')})`,
    )
  }
} finally {
  for (const p of [...live]) await p.stop()
}
