/**
 * Baseline L: the disk's limit for durable commits — raw better-sqlite3, WAL + synchronous=FULL (the settings of
 * Tranche's SQLite store), one single-row INSERT per transaction, one after another, on the same disk as the
 * servers' databases.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { tempDir } from '../lib/settings.ts'

export function runRawSqlite(ms: number, warmupMs: number) {
  const dir = tempDir('raw')
  const db = new Database(join(dir, 'raw.db'))
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = FULL')
    db.exec('create table raw_commit (id integer primary key, v text not null, at integer not null)')
    const insert = db.prepare('insert into raw_commit (v, at) values (?, ?)')
    const payload = 'x'.repeat(100)
    const start = performance.now()
    while (performance.now() - start < warmupMs) insert.run(payload, Date.now())
    const lat: number[] = []
    const t0 = performance.now()
    let t = t0
    while (t - t0 < ms) {
      insert.run(payload, Date.now())
      const t1 = performance.now()
      lat.push(t1 - t)
      t = t1
    }
    const seconds = (t - t0) / 1000
    lat.sort((a, b) => a - b)
    return {
      commitsPerSec: lat.length / seconds,
      fsyncMsP50: lat[Math.floor(lat.length * 0.5)] ?? Number.NaN,
      fsyncMsP99: lat[Math.floor(lat.length * 0.99)] ?? Number.NaN,
    }
  } finally {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
