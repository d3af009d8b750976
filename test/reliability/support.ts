/**
 * Reliability test support: the real server (`tranche serve`) as a child process that can be SIGKILLed and
 * restarted, plain HTTP calls that tell "answered" from "no answer", PostgreSQL schemas for child processes, and the
 * `tranche verify` CLI.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { request as httpRequest } from 'node:http'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { buildServerBundle, type ServerBundle } from '../support/server-bundle.ts'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** `npm run test:deep`: more kills, more rounds, more concurrency. */
export const DEEP = ['1', 'true', 'yes'].includes((process.env.TRANCHE_DEEP ?? '').toLowerCase())
export const PG_URL = process.env.TRANCHE_TEST_DATABASE_URL || null
export const ADMIN = { email: 'admin@reliability.test', password: 'admin-password-1' }

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
export const rand = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1))
export const key = (tag: string) => `${tag}-${randomBytes(8).toString('hex')}`

// ---------------------------------------------------------------------------------------------------------------
// The server entry point

let bundle: ServerBundle | null = null

/**
 * The argv (after `node`) that runs `src/cli/main.ts`. By default the server's bundle, built as `npm start` builds it
 * (test/support/server-bundle.ts): on a loaded 2-core machine it starts ~3× faster than `node --import tsx`, and a
 * crash test restarts the server a dozen times. TRANCHE_RELIABILITY_TSX=1 runs `node --import tsx src/cli/main.ts`
 * instead. Either way the child is the node process itself (no npm/tsx wrapper), so SIGKILL hits the server.
 */
export function serverArgv(): string[] {
  if (process.env.TRANCHE_RELIABILITY_TSX) return ['--import', 'tsx', 'src/cli/main.ts']
  bundle ??= buildServerBundle('reliability')
  return [bundle.file]
}

export function removeBundle() {
  bundle?.remove()
  bundle = null
}

/** The environment of a child: this process's, without any TRANCHE_* or DATABASE_URL, plus `env`. */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('TRANCHE_') && k !== 'DATABASE_URL'),
  )
  return { ...clean, ...env }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

export interface ServerProc {
  readonly url: string
  readonly port: number
  readonly proc: ChildProcess
  output(): string
  /** SIGKILL, and wait until the process is gone */
  kill(): Promise<void>
  /** SIGTERM (graceful), then SIGKILL after a while */
  stop(): Promise<void>
}

/** Starts `tranche serve` on `port` with `env` (PORT/HOST/log level added) and waits until /readyz answers 200. */
export async function startServer(
  env: Record<string, string>,
  port?: number,
  readyTimeoutMs = 180_000,
): Promise<ServerProc> {
  const p = port ?? (await freePort())
  const proc = spawn(process.execPath, [...serverArgv(), 'serve'], {
    cwd: ROOT,
    env: childEnv({ HOST: '127.0.0.1', PORT: String(p), TRANCHE_LOG_LEVEL: 'silent', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const keep = (b: Buffer) => {
    out += String(b)
    if (out.length > 20_000) out = out.slice(-20_000)
  }
  proc.stdout!.on('data', keep)
  proc.stderr!.on('data', keep)
  const exited = new Promise<void>((r) => proc.once('exit', () => r()))
  const url = `http://127.0.0.1:${p}`
  const deadline = Date.now() + readyTimeoutMs
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`server exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${out}`)
    try {
      const r = await http(url, 'GET', '/readyz', { timeoutMs: 5_000 })
      if (r.status === 200) break
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL')
      throw new Error(`server not ready after ${readyTimeoutMs} ms:\n${out}`)
    }
    await sleep(100)
  }
  const gone = () => proc.exitCode !== null || proc.signalCode !== null
  return {
    url,
    port: p,
    proc,
    output: () => out,
    async kill() {
      if (!gone()) proc.kill('SIGKILL')
      await exited
    },
    async stop() {
      if (!gone()) proc.kill('SIGTERM')
      await Promise.race([exited, sleep(10_000)])
      if (!gone()) proc.kill('SIGKILL')
      await exited
    },
  }
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP

/** The request never got an answer (refused, reset, timed out): the server may or may not have done it. */
export class Unanswered extends Error {
  constructor(readonly reason: unknown) {
    super(`no answer: ${(reason as Error)?.message ?? reason}`)
    this.name = 'Unanswered'
  }
}

export interface Res {
  readonly status: number
  // biome-ignore lint/suspicious/noExplicitAny: the JSON answer of any endpoint
  readonly body: any
  readonly text: string
  readonly replayed: boolean
}

export interface CallOpts {
  readonly token?: string | undefined
  readonly body?: unknown
  readonly idem?: string | undefined
  readonly timeoutMs?: number
}

/** One HTTP call on a fresh connection (no keep-alive: a pooled socket never outlives a killed server). */
export function http(base: string, method: string, path: string, opts: CallOpts = {}): Promise<Res> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body)
  const headers: Record<string, string> = {}
  if (payload !== undefined) {
    headers['content-type'] = 'application/json'
    headers['content-length'] = String(Buffer.byteLength(payload))
  }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  if (opts.idem) headers['idempotency-key'] = opts.idem
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', (e) => reject(new Unanswered(e)))
      res.on('aborted', () => reject(new Unanswered(new Error('response aborted'))))
      res.on('end', () => {
        if (!res.complete) return reject(new Unanswered(new Error('incomplete response')))
        const text = Buffer.concat(chunks).toString('utf8')
        let body: unknown
        try {
          body = text ? JSON.parse(text) : undefined
        } catch {
          body = undefined
        }
        resolve({ status: res.statusCode ?? 0, body, text, replayed: res.headers['idempotent-replayed'] === 'true' })
      })
    })
    req.setTimeout(opts.timeoutMs ?? 120_000, () => req.destroy(new Error('timed out')))
    req.on('error', (e) => reject(new Unanswered(e)))
    if (payload !== undefined) req.write(payload)
    req.end()
  })
}

export const errorCode = (r: Res): string | undefined => r.body?.error?.code

// ---------------------------------------------------------------------------------------------------------------
// PostgreSQL

/**
 * A fresh schema with Kysely's two migration tables already in it. Works around a bug outside these tests (see
 * test/jobs/worker-race.test.ts): Kysely's Migrator without `migrationTableSchema` looks for `kysely_migration` in
 * every schema of the database, so migrating a fresh schema while another test migrates its own schema can fail.
 */
export async function prepareSchema(): Promise<string> {
  const name = `rel_${randomBytes(6).toString('hex')}`
  const c = new pg.Client({ connectionString: PG_URL! })
  await c.connect()
  try {
    await c.query(`create schema "${name}"`)
    await c.query(
      `create table "${name}".kysely_migration (name varchar(255) not null primary key, timestamp varchar(255) not null)`,
    )
    await c.query(
      `create table "${name}".kysely_migration_lock (id varchar(255) not null primary key, is_locked integer not null default 0)`,
    )
  } finally {
    await c.end()
  }
  return name
}

/** DATABASE_URL for a child process whose tables live in `schema` (node-postgres honours `options`). */
export function schemaUrl(schema: string): string {
  const url = new URL(PG_URL!)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return url.toString()
}

export async function dropSchema(schema: string) {
  const c = new pg.Client({ connectionString: PG_URL! })
  await c.connect()
  try {
    await c.query(`drop schema if exists "${schema}" cascade`)
  } finally {
    await c.end()
  }
}

// ---------------------------------------------------------------------------------------------------------------
// tranche verify

/** `node --import tsx src/cli/main.ts verify` against the database in `env`: exit code and report. */
export function verifyCli(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'verify'], {
      cwd: ROOT,
      env: childEnv({ TRANCHE_LOG_LEVEL: 'silent', ...env }),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    proc.stdout!.on('data', (b) => (output += String(b)))
    proc.stderr!.on('data', (b) => (output += String(b)))
    proc.once('exit', (code) => resolve({ code, output }))
  })
}

// ---------------------------------------------------------------------------------------------------------------
// Money, as the SPEC defines it (§3), for amounts that are multiples of 1,000 (so both default fees are exact)

export const CLIENT_FEE = (x: bigint) => (x * 500n + 5_000n) / 10_000n
export const SERVICE_FEE = (x: bigint) => (x * 1000n + 5_000n) / 10_000n
export const NET = (x: bigint) => x - SERVICE_FEE(x)
