/**
 * The composition root: the only place that picks adapters (SQLite or PostgreSQL, system or manual clock, the
 * sandbox rail, the inline worker) from configuration.
 */
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { ensureAdmin } from './app/accounts.ts'
import type { App, Logger } from './app/app.ts'
import { type Clock, ManualClock, systemClock } from './app/clock.ts'
import type { Config } from './app/config.ts'
import { CredentialCache } from './app/credentials.ts'
import { GroupCommit } from './app/group-commit.ts'
import { sandboxRail } from './app/payment-rail.ts'
import { buildServer } from './http/server.ts'
import { Worker } from './jobs/worker.ts'
import type { Store } from './store/database.ts'
import { openStore } from './store/open-store.ts'
import { localClaims, rowClaims } from './store/repos/idempotency-repo.ts'

export const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.secret',
]

export function makeLogger(config: Pick<Config, 'logLevel'>): Logger & pino.Logger {
  return pino({ level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' } })
}

export interface Runtime {
  readonly app: App
  readonly store: Store
  readonly worker: Worker
  close(): Promise<void>
}

/** Opens the store (migrating it), the clock and the worker; does not start anything yet. */
export async function createRuntime(
  config: Config,
  opts: { log?: Logger; store?: Store; schema?: string } = {},
): Promise<Runtime> {
  const store =
    opts.store ??
    (await openStore({
      databaseUrl: config.databaseUrl,
      sqlitePath: config.sqlitePath,
      ...(opts.schema ? { schema: opts.schema } : {}),
    }))
  const clock: Clock = config.clock === 'manual' ? await ManualClock.load(store) : systemClock
  let worker: Worker | null = null
  const batcher = config.groupCommit && store.caps.dialect === 'sqlite' ? new GroupCommit(store) : undefined
  const app: App = {
    batcher,
    claims: store.caps.dialect === 'sqlite' ? localClaims(store.db) : rowClaims(store.db),
    credentials: new CredentialCache(),
    store,
    clock,
    config,
    rail: sandboxRail,
    log: opts.log ?? makeLogger(config),
    notify: () => worker?.poke(),
  }
  worker = new Worker(app)
  if (config.adminEmail && config.adminPassword) await ensureAdmin(app, config.adminEmail, config.adminPassword)
  const w = worker
  return {
    app,
    store,
    worker: w,
    async close() {
      await w.stop()
      await store.close()
    },
  }
}

/** `tranche serve`: the API (and web app), with the inline worker unless TRANCHE_WORKER=off. */
export async function serve(config: Config) {
  const log = makeLogger(config)
  const rt = await createRuntime(config, { log })
  const server = await buildServer(rt.app, {
    logger: { level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' } },
    worker: rt.worker,
    webRoot: fileURLToPath(new URL('../web/dist', import.meta.url)),
  })
  if (config.worker === 'inline') rt.worker.start()
  await server.listen({ port: config.port, host: config.host })
  let closing = false
  const shutdown = async (signal: string) => {
    if (closing) return
    closing = true
    log.info({ signal }, 'shutting down')
    await server.close()
    await rt.close()
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
  return { server, runtime: rt }
}

/** The address the server bound (the real port when PORT=0; IPv6 in brackets; a wildcard host as localhost). */
export function listeningUrl(address: string | AddressInfo | null): string {
  if (address === null || typeof address === 'string') return String(address)
  const wildcard = address.address === '0.0.0.0' || address.address === '::'
  const host = wildcard ? 'localhost' : address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${host}:${address.port}`
}
