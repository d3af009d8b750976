/**
 * WAL checkpoints off the main thread. SQLite copies the WAL back into the database file (a checkpoint, with its
 * own fsync) when the WAL passes 1,000 pages, inside whichever COMMIT crossed the mark — and better-sqlite3 runs on
 * the event loop, so every request waits while it happens (15–20 % of the time of a write-heavy load). Instead, the
 * main connection never checkpoints on its own (`wal_autocheckpoint = 0`), and a worker thread with its own
 * connection runs PASSIVE checkpoints a few times a second: they copy committed pages without blocking the writer or
 * any reader. A WAL is only written from its start again after a checkpoint that nothing overtook, which a writer
 * that hardly pauses rarely allows; so once the WAL is long (`restartPages`), the worker asks the main thread, which
 * runs a RESTART checkpoint between two transactions — short, since the worker has copied nearly everything. The
 * worker runs no checkpoint of its own until the main thread says it has tried (or `WAIT_MS` have passed): a RESTART
 * that met the worker's PASSIVE checkpoint would find the database busy and leave the WAL to grow until the next
 * ask (measured: 4 to 8 restarts in 30 of a back-to-back run found the worker checkpointing).
 * Durability is unchanged: every COMMIT still fsyncs the WAL (synchronous=FULL); a checkpoint only moves committed
 * pages, and a crash before one is recovered from the WAL when the file is opened again.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

const require = createRequire(import.meta.url)

// A CommonJS script for the worker thread (no TypeScript loader needed there).
const SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.module)
const db = new Database(workerData.path)
db.pragma('busy_timeout = 0')
db.pragma('synchronous = FULL')
let asked = 0 // when the main thread was asked to restart the WAL and has not said it tried; 0: not asked
const checkpoint = (always) => {
  if (asked && !always && Date.now() - asked < workerData.waitMs) return
  asked = 0
  try {
    const r = db.pragma('wal_checkpoint(PASSIVE)')[0]
    if (r && r.log >= workerData.restartPages) {
      asked = Date.now()
      parentPort.postMessage('restart')
    }
  } catch {}
}
const timer = setInterval(checkpoint, workerData.everyMs)
parentPort.on('message', (m) => {
  if (m === 'tried') asked = 0
  if (m !== 'stop') return
  clearInterval(timer)
  checkpoint(true)
  db.close()
  parentPort.postMessage('stopped')
})
parentPort.postMessage('ready')
`

export interface Checkpointer {
  stop(): Promise<void>
}

/** How long the worker waits for the main thread's RESTART before it checkpoints again on its own. */
const WAIT_MS = 1_000

/**
 * Starts the worker for the database at `path`. `restart` is called on the main thread when the WAL is long; it
 * should run `PRAGMA wal_checkpoint(RESTART)` on the writing connection outside a transaction (`restartWal`), then
 * call `tried` (the worker checkpoints again from then on).
 */
export async function startCheckpointer(
  path: string,
  restart: (tried: () => void) => void,
  everyMs = 200,
  restartPages = 16_384,
): Promise<Checkpointer> {
  const worker = new Worker(SCRIPT, {
    eval: true,
    workerData: { path, module: require.resolve('better-sqlite3'), everyMs, restartPages, waitMs: WAIT_MS },
  })
  worker.unref() // a process that is done does not wait for checkpoints
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve())
    worker.once('error', reject)
  })
  const tried = () => worker.postMessage('tried')
  worker.on('message', (m) => m === 'restart' && restart(tried))
  return {
    async stop() {
      const stopped = new Promise<void>((resolve) => {
        worker.on('message', (m) => m === 'stopped' && resolve())
        worker.once('exit', () => resolve())
      })
      worker.postMessage('stop')
      await stopped
      await worker.terminate()
    },
  }
}

/** The subset of a better-sqlite3 connection `restartWal` uses. */
interface Connection {
  readonly inTransaction: boolean
  readonly open: boolean
  pragma(source: string): unknown
}

/**
 * Returns a `restart` for `startCheckpointer`: a RESTART checkpoint on `db` as soon as no transaction is open on it
 * (one at a time), never waiting for other connections (busy → the next request tries again).
 */
export function restartWal(db: Connection, busyTimeoutMs: number): (tried?: () => void) => void {
  const waiting: (() => void)[] = [] // a pending restart's callers
  const run = () => {
    if (db.inTransaction && db.open) {
      // a command may wait long inside its transaction (a payment rail's answer): look again in a moment, without
      // turning the event loop around on nothing in the meantime
      setTimeout(run, 1)
      return
    }
    try {
      if (!db.open) return
      db.pragma('busy_timeout = 0')
      try {
        db.pragma('wal_checkpoint(RESTART)')
      } finally {
        db.pragma(`busy_timeout = ${busyTimeoutMs}`)
      }
    } finally {
      for (const tried of waiting.splice(0)) tried()
    }
  }
  return (tried = () => {}) => {
    waiting.push(tried)
    if (waiting.length === 1) setImmediate(run)
  }
}
