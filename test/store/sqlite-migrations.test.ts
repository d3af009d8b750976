/**
 * Migrations on SQLite (SPEC §11: they run on start) when a server and its worker (`tranche serve` + `tranche
 * worker`) start at once on one file: Kysely's SQLite adapter takes no migration lock and runs each statement on its
 * own, so `migrateToLatest` makes the whole of it one write transaction — one process migrates, the other then
 * finds nothing to do, and a process stopped half-way leaves nothing behind.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { openSqlite } from '../../src/store/sqlite/sqlite-store.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

function migrate(db: string): Promise<{ code: number | null; out: string }> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('TRANCHE_') && k !== 'DATABASE_URL'),
  )
  const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'migrate'], {
    cwd: ROOT,
    env: { ...clean, TRANCHE_DB: db },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  p.stdout!.on('data', (b) => (out += b))
  p.stderr!.on('data', (b) => (out += b))
  return new Promise((resolve) => p.on('exit', (code) => resolve({ code, out: out.trim() })))
}

describe('SQLite migrations with two processes starting at once', () => {
  it('two `tranche migrate` processes on one fresh file both succeed (5 tries)', async () => {
    const failures: string[] = []
    for (let i = 0; i < 5; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'rv-mig-'))
      try {
        const db = join(dir, 'tranche.db')
        const rs = await Promise.all([migrate(db), migrate(db)])
        for (const r of rs) if (r.code !== 0) failures.push(`try ${i}: exit ${r.code}: ${r.out}`)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
    expect(failures).toEqual([])
  }, 120_000)

  it('refuses a database that a newer version of Tranche migrated, saying so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tranche-mig-'))
    try {
      const path = join(dir, 'tranche.db')
      await (await openSqlite(path)).close()
      const raw = new Database(path)
      raw.prepare('insert into kysely_migration (name, timestamp) values (?, ?)').run('999_future', '2030-01-01')
      raw.close()
      await expect(openSqlite(path)).rejects.toThrow(/migrated by a newer version of Tranche \(999_future\)/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('a first migration interrupted half-way leaves nothing behind (it is one transaction)', async () => {
    // Stand-in for a process stopped during its first start: a table in the way makes the migration fail at one of
    // its CREATE TABLEs. Atomic, it leaves no table; run again once the cause is gone, it succeeds.
    const dir = mkdtempSync(join(tmpdir(), 'rv-mig-'))
    try {
      const path = join(dir, 'tranche.db')
      const raw = new Database(path)
      raw.exec('create table clock (x integer)')
      raw.close()
      await expect(openSqlite(path)).rejects.toThrow(/clock/)
      const raw2 = new Database(path)
      const left = raw2.prepare("select count(*) as n from sqlite_master where type = 'table'").get() as { n: number }
      raw2.exec('drop table clock')
      raw2.close()
      let second = 'ok'
      try {
        await (await openSqlite(path)).close()
      } catch (e) {
        second = String(e)
      }
      expect(left.n - 1).toBe(0) // no table of the failed migration is left (the stand-in's own is not counted)
      expect(second).toBe('ok')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
