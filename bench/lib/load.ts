/**
 * The in-process load driver: undici Pools that keep their connections open (one Pool per server, requests spread
 * round-robin across them), and M concurrent workers, each running its own script in a closed loop — a worker
 * sends its next request when the previous one has answered. Latency is measured per request from send to the
 * last byte of the body; only requests that complete between the end of the warm-up and the end count.
 */
import { Pool } from 'undici'

export interface Sample {
  readonly kind: string
  readonly ms: number
}

export interface LoadSummary {
  readonly ops: number
  readonly opsPerSec: number
  readonly seconds: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
  readonly errors: number
  readonly errorSamples: string[]
  readonly byKind: Record<string, { count: number; perSec: number; p50: number; p99: number }>
}

export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

class Stop extends Error {}

export interface Reply {
  readonly status: number
  readonly body: unknown
  readonly text: string
}

/** One worker's view of the servers: `call` sends one request, records it, and stops the worker at the end. */
export class Http {
  constructor(
    private readonly driver: LoadDriver,
    readonly index: number,
  ) {}

  async call(
    kind: string,
    method: 'GET' | 'POST',
    path: string,
    opts: { token?: string; body?: unknown; expect?: number } = {},
  ): Promise<Reply> {
    const d = this.driver
    if (d.stopped()) throw new Stop()
    const headers: Record<string, string> = {}
    if (opts.token) headers.authorization = `Bearer ${opts.token}`
    let body: string | undefined
    if (method === 'POST') {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(opts.body ?? {})
    }
    const t0 = performance.now()
    const res = await d.next().request({ method, path, headers, ...(body !== undefined ? { body } : {}) })
    const text = await res.body.text()
    const t1 = performance.now()
    const ok = opts.expect ? res.statusCode === opts.expect : res.statusCode >= 200 && res.statusCode < 300
    d.record(
      kind,
      t0,
      t1,
      ok,
      ok ? '' : `${method} ${path.replace(/_[A-Za-z0-9]{20}/g, '_…')} → ${res.statusCode} ${text.slice(0, 200)}`,
    )
    let parsed: unknown
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      parsed = undefined
    }
    return { status: res.statusCode, body: parsed, text }
  }
}

export class LoadDriver {
  private readonly pools: Pool[]
  private rr = 0
  private startAt = 0
  private measureFrom = 0
  private endAt = Number.POSITIVE_INFINITY
  private readonly samples = new Map<string, number[]>()
  private errors = 0
  private readonly errorSamples: string[] = []

  constructor(origins: readonly string[], connections: number) {
    const per = Math.max(1, Math.floor(connections / origins.length))
    this.pools = origins.map((o) => new Pool(o, { connections: per, pipelining: 1, keepAliveTimeout: 60_000 }))
  }

  next(): Pool {
    const p = this.pools[this.rr++ % this.pools.length]!
    return p
  }

  /** The measured window on the monotonic clock, in µs (the clock V8 CPU profiles use for their timestamps). */
  windowMonotonicUs(): [number, number] {
    const offsetUs = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000
    return [this.measureFrom * 1000 + offsetUs, this.endAt * 1000 + offsetUs]
  }

  stopped() {
    return performance.now() >= this.endAt
  }

  record(kind: string, t0: number, t1: number, ok: boolean, error: string) {
    // A request counts when it completes inside the window (completions per second = throughput).
    if (t1 < this.measureFrom || t1 > this.endAt) return
    if (!ok) {
      this.errors++
      if (this.errorSamples.length < 5) this.errorSamples.push(error)
      return
    }
    let list = this.samples.get(kind)
    if (!list) this.samples.set(kind, (list = []))
    list.push(t1 - t0)
  }

  /**
   * Runs `workers` scripts concurrently: each loops `script(http)` until the time is up (or the script answers
   * false: it has no more work). Without a duration (setup work), each script runs once and everything is recorded.
   */
  async run(
    workers: number,
    script: (http: Http) => Promise<void | false>,
    timing: { warmupMs: number; durationMs: number } | null,
  ): Promise<LoadSummary> {
    this.samples.clear()
    this.errors = 0
    this.errorSamples.length = 0
    this.startAt = performance.now()
    this.measureFrom = timing ? this.startAt + timing.warmupMs : 0
    this.endAt = timing ? this.measureFrom + timing.durationMs : Number.POSITIVE_INFINITY
    const loop = async (i: number) => {
      const http = new Http(this, i)
      try {
        if (!timing) {
          await script(http)
          return
        }
        while (!this.stopped()) if ((await script(http)) === false) break
      } catch (e) {
        if (!(e instanceof Stop)) throw e
      }
    }
    await Promise.all(Array.from({ length: workers }, (_, i) => loop(i)))
    const seconds = timing ? timing.durationMs / 1000 : (performance.now() - this.startAt) / 1000
    return this.summary(seconds)
  }

  private summary(seconds: number): LoadSummary {
    const all: number[] = []
    const byKind: LoadSummary['byKind'] = {}
    for (const [kind, list] of this.samples) {
      list.sort((a, b) => a - b)
      for (const v of list) all.push(v)
      byKind[kind] = {
        count: list.length,
        perSec: list.length / seconds,
        p50: percentile(list, 50),
        p99: percentile(list, 99),
      }
    }
    all.sort((a, b) => a - b)
    return {
      ops: all.length,
      opsPerSec: all.length / seconds,
      seconds,
      p50: percentile(all, 50),
      p90: percentile(all, 90),
      p99: percentile(all, 99),
      max: all.length ? all[all.length - 1]! : Number.NaN,
      errors: this.errors,
      errorSamples: [...this.errorSamples],
      byKind,
    }
  }

  async close() {
    await Promise.all(this.pools.map((p) => p.close()))
  }
}
