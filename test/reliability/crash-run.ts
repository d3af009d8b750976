/**
 * Support for the crash test (crash.test.ts): the run. Concurrent clients drive the server while it is SIGKILLed and
 * restarted on the same database: at a random moment, right after a write was answered (the rest of its group commit
 * may be unanswered), or the instant the SQLite WAL is written; `verify` runs after every kill (server down). Then the
 * clients stop, the requests deferred while their key was in flight are retried, and the checks of crash-checks.ts
 * run; the last kill lands while the test clock steps through the 5-day hold timers; `tranche verify` must exit 0.
 */
import { type FSWatcher, watch } from 'node:fs'
import { expect } from 'vitest'
import { CrashChecks } from './crash-checks.ts'
import { Abandon } from './crash-model.ts'
import { ADMIN, DEEP, errorCode, http, rand, sleep, startServer, verifyCli } from './support.ts'

/** ms of load between a restart and the next kill */
const WINDOW: [number, number] = DEEP ? [0, 3_000] : [0, 1_500]

/** One crash run on one deployment: clients under load, the server killed and restarted, then the checks. */
export class CrashRun extends CrashChecks {
  /** Resolves once `n` more writes have been acknowledged (or after `maxMs`): each kill hits a server under load. */
  progress(n: number, maxMs: number) {
    const target = this.stats.acks + n
    const until = Date.now() + maxMs
    return (async () => {
      while (this.stats.acks < target && Date.now() < until) await sleep(50)
    })()
  }

  /**
   * Kills the server. Modes, in turn: at a random moment; right after a write was answered (the commands committed
   * in the same group commit may not be answered yet); right when the SQLite WAL is written (a commit on its way to
   * disk — after restart it is there, unanswered: the retry must replay).
   */
  async kill(k: number) {
    const server = this.d.server!
    const mode = k % 3
    let fire = () => {}
    const fired = new Promise<void>((r) => {
      fire = () => {
        if (server.proc.signalCode !== null || server.proc.killed) return
        this.stats.killsOnTrigger++
        this.gate.close()
        server.proc.kill('SIGKILL')
        r()
      }
    })
    if (mode === 1 || (mode === 2 && !this.d.wal)) {
      this.armed = () => {
        this.armed = null
        fire()
      }
      await Promise.race([fired, sleep(5_000)])
      this.armed = null
    } else if (mode === 2 && this.d.wal) {
      let watcher: FSWatcher | null = null
      try {
        watcher = watch(this.d.wal, () => fire())
        await Promise.race([fired, sleep(5_000)])
      } catch {
        /* no WAL file yet */
      } finally {
        watcher?.close()
      }
    }
    this.gate.close()
    await server.kill()
    this.stats.kills++
  }

  async run(plan: { kills: number; clients: number }) {
    this.d.server = await startServer(this.d.env, this.d.port)
    const admin = await http(this.url, 'POST', '/v1/sessions', { body: ADMIN })
    expect(admin.status, admin.text).toBeLessThan(300)
    this.adminToken = admin.body.token
    const pairs = await Promise.all(Array.from({ length: plan.clients }, () => this.newPair()))
    const clients = pairs.map((p, i) => this.client(i, p))
    for (let k = 1; k <= plan.kills; k++) {
      await this.progress(plan.clients, 60_000)
      await sleep(rand(...WINDOW))
      await this.kill(k)
      await this.verifyNow(`after kill ${k}`)
      this.d.server = await startServer(this.d.env, this.d.port)
      this.gate.open()
    }
    await this.progress(plan.clients, 60_000)
    this.stopping = true
    await Promise.all(clients)
    await this.reconcile()
    await this.readBack()
    await this.replayAll()
    await this.checkDatabase()
    await this.checkHoldRelease()
    await this.d.server!.kill()
    const cli = await verifyCli(this.d.env)
    if (cli.code !== 0) this.problem(`tranche verify exited ${cli.code}:\n${cli.output}`)
    await this.verifyNow('at the end')
  }

  /** The requests deferred because their key was still held as in flight: retried until it is free. */
  async reconcile() {
    const deadline = Date.now() + 150_000
    for (const d of this.deferred) {
      for (;;) {
        const res = await this.send(d.req)
        if (res.status === 409 && errorCode(res) === 'idempotency_key_in_use') {
          if (Date.now() < deadline) {
            await sleep(2_000)
            continue
          }
          this.problem(`${d.req.method} ${d.req.path}: key still in use after 150 s`)
          break
        }
        if (res.replayed) this.stats.deferredReplayed++
        else this.stats.deferredRan++
        if (res.status !== d.expect) {
          this.problem(`deferred ${d.req.method} ${d.req.path} → ${res.status} ${res.text}, expected ${d.expect}`)
          break
        }
        try {
          await d.apply(res.body)
        } catch (e) {
          if (!(e instanceof Abandon)) throw e
        }
        break
      }
    }
  }
}
