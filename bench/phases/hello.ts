/** Baseline B: requests/s of a bare Fastify "hello" route, with the same load driver and connection count. */
import { LoadDriver, type LoadSummary } from '../lib/load.ts'
import { cpuSeconds, startProcess } from '../lib/proc.ts'
import { S } from '../lib/settings.ts'

export async function runHello(): Promise<LoadSummary & { serverCpu: number; driverCpu: number }> {
  const proc = await startProcess('bench/servers/hello.mjs', [], {})
  const driver = new LoadDriver([proc.origin], S.connections)
  try {
    const cpu0 = cpuSeconds(proc.serverPid)
    const self0 = process.cpuUsage()
    const w0 = performance.now()
    const s = await driver.run(
      S.workers,
      async (http) => {
        await http.call('hello', 'GET', '/hello')
      },
      { warmupMs: S.warmupMs, durationMs: S.loadMs },
    )
    const wall = (performance.now() - w0) / 1000
    const self = process.cpuUsage(self0)
    return {
      ...s,
      serverCpu: (cpuSeconds(proc.serverPid) - cpu0) / wall,
      driverCpu: (self.user + self.system) / 1e6 / wall,
    }
  } finally {
    await driver.close()
    await proc.stop()
  }
}
