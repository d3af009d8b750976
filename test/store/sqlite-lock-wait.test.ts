/**
 * A server on a SQLite file that another process writes too (a `tranche worker` of its own): while a command waits
 * for the other process's write lock, the server goes on answering — SQLite's own busy wait would stop its one
 * thread until the lock is free.
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { contract, get, post } from '../http/helpers.ts'
import { call, startEnv, type TestEnv } from '../support/harness.ts'

const require = createRequire(import.meta.url)

/** Another process holding the write lock until `release()`. */
function holdWriteLock(path: string) {
  const script = `
    const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))})
    const db = new Database(${JSON.stringify(path)})
    db.exec('begin immediate')
    db.exec('update clock set now = now')
    process.stdout.write('locked\\n')
    process.stdin.once('data', () => { db.exec('commit'); db.close(); process.exit(0) })
  `
  const p = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] })
  const locked = new Promise<void>((resolve) => p.stdout!.once('data', () => resolve()))
  const exited = new Promise<void>((resolve) => p.on('exit', () => resolve()))
  return {
    locked,
    release: async () => {
      p.stdin!.write('go\n')
      await exited
    },
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A request in flight, and whether it has been answered yet. */
function tracked<T>(request: Promise<T>) {
  const t = { settled: false, result: request }
  request
    .finally(() => {
      t.settled = true
    })
    .catch(() => undefined)
  return t
}

/** The longest the thread goes without running a 10 ms interval, until `stop()`. */
function watchStalls() {
  let last = performance.now()
  let longest = 0
  const ticks = setInterval(() => {
    const now = performance.now()
    longest = Math.max(longest, now - last)
    last = now
  }, 10)
  return {
    stop() {
      clearInterval(ticks)
      return longest
    },
  }
}

describe('a command waiting for another process’s write lock (SQLite)', () => {
  let env: TestEnv
  beforeAll(async () => {
    env = await startEnv('sqlite')
  })
  afterAll(async () => env.close())

  it('does not stop the server: reads are answered meanwhile, and the command completes once the lock is free', async () => {
    const d = await contract(env, {}, [100_000])
    const other = holdWriteLock(env.config.sqlitePath)
    await other.locked
    const stalls = watchStalls()
    const funding = tracked(post(env, d.client.token, `/v1/milestones/${d.ids[0]}/fund`))
    await sleep(300) // the fund is waiting for the lock by now
    // answered while the fund waits for the lock
    const read = await get(env, d.client.token, `/v1/contracts/${d.cid}`)
    expect(read.status).toBe(200)
    expect(read.body.milestones[0].state).toBe('pending')
    expect((await get(env, d.client.token, '/v1/balances')).status).toBe(200)
    expect(funding.settled).toBe(false)
    // SQLite's own busy wait would have stopped the thread for its whole busy timeout (5 s)
    expect(stalls.stop()).toBeLessThan(2_500)
    await other.release()
    const res = await funding.result
    expect(res.status).toBe(200)
    expect(res.body.state).toBe('funded')
  })

  it('logging in waits the same way: its session is written once the lock is free', async () => {
    const d = await contract(env, {}, [100_000])
    const other = holdWriteLock(env.config.sqlitePath)
    await other.locked
    const stalls = watchStalls()
    const body = { email: d.freelancer.email, password: d.freelancer.password }
    const login = tracked(call(env, 'POST', '/v1/sessions', { body }))
    await sleep(1_000) // the password is checked, the session waits for the lock
    expect((await get(env, d.freelancer.token, `/v1/contracts/${d.cid}`)).status).toBe(200)
    expect(login.settled).toBe(false)
    expect(stalls.stop()).toBeLessThan(2_500)
    await other.release()
    const res = await login.result
    expect(res.status).toBe(201)
    expect((await get(env, res.body.token, '/v1/me')).body.id).toBe(d.freelancer.id)
  })

  it('a webhook delivery’s outcome waits the same way', async () => {
    // a receiver that has the other process take the lock before it answers: the worker then records the outcome
    let other: ReturnType<typeof holdWriteLock> | null = null
    const receiver = createServer((req, res) => {
      req.resume()
      req.on('end', async () => {
        other = holdWriteLock(env.config.sqlitePath)
        await other.locked
        res.end('thanks')
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
    env.rt.worker.start()
    try {
      const d = await contract(env, {}, [100_000])
      const ep = await post(env, d.client.token, '/v1/webhook_endpoints', { url, enabled_events: ['milestone.funded'] })
      expect(ep.status).toBe(201)
      const deliveries = async () =>
        (await get(env, d.client.token, `/v1/webhook_endpoints/${ep.body.id}/deliveries`)).body.data as {
          status: string
        }[]
      expect((await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/fund`)).status).toBe(200)
      while (!other) await sleep(10) // the delivery reached the receiver
      await (other as ReturnType<typeof holdWriteLock>).locked
      const stalls = watchStalls()
      await sleep(300) // the worker is recording the outcome by now
      expect((await deliveries()).map((x) => x.status)).toEqual(['pending'])
      expect(stalls.stop()).toBeLessThan(2_500)
      await (other as ReturnType<typeof holdWriteLock>).release()
      for (let i = 0; i < 200 && (await deliveries())[0]!.status !== 'delivered'; i++) await sleep(20)
      expect((await deliveries()).map((x) => x.status)).toEqual(['delivered'])
    } finally {
      await env.rt.worker.stop()
      receiver.closeAllConnections()
      await new Promise((resolve) => receiver.close(resolve))
    }
  })
})
