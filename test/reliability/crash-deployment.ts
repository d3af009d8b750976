/**
 * Support for the crash test (crash.test.ts): where the server under test runs — a SQLite file in a temporary
 * directory (its write-ahead log watched) or a fresh PostgreSQL schema — and the gate clients wait at while it is down.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Store } from '../../src/store/database.ts'
import { openStore } from '../../src/store/open-store.ts'
import { ADMIN, dropSchema, freePort, PG_URL, prepareSchema, type ServerProc, schemaUrl } from './support.ts'

export type Kind = 'sqlite' | 'postgres'

export interface Deployment {
  readonly env: Record<string, string>
  /** SQLite: the write-ahead log, watched to kill the server in the middle of a commit */
  readonly wal: string | null
  readonly port: number
  server: ServerProc | null
  open(): Promise<Store>
  cleanup(): Promise<void>
}

export async function deploy(kind: Kind): Promise<Deployment> {
  const port = await freePort()
  const base = {
    TRANCHE_CLOCK: 'manual',
    TRANCHE_ADMIN_EMAIL: ADMIN.email,
    TRANCHE_ADMIN_PASSWORD: ADMIN.password,
    TRANCHE_LOG_LEVEL: 'silent',
    // a timer leased by a killed server is free again after 2 s (default 60 s)
    TRANCHE_TIMER_LEASE_MS: '2000',
  }
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tranche-crash-'))
    const file = join(dir, 'tranche.db')
    return {
      env: { ...base, TRANCHE_DB: file },
      wal: `${file}-wal`,
      port,
      server: null,
      open: () => openStore({ databaseUrl: null, sqlitePath: file }),
      async cleanup() {
        rmSync(dir, { recursive: true, force: true })
      },
    }
  }
  const schema = await prepareSchema()
  return {
    env: { ...base, DATABASE_URL: schemaUrl(schema) },
    wal: null,
    port,
    server: null,
    open: () => openStore({ databaseUrl: PG_URL, sqlitePath: '', schema }),
    cleanup: () => dropSchema(schema),
  }
}

/** Closed while the server is down: clients wait here instead of hammering a dead port. */
export class Gate {
  private waiting: Promise<void> = Promise.resolve()
  private release: (() => void) | null = null
  close() {
    if (!this.release) this.waiting = new Promise((r) => (this.release = r))
  }
  open() {
    this.release?.()
    this.release = null
  }
  wait() {
    return this.waiting
  }
}
