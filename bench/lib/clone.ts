/**
 * Bulk copies of rows that the real use cases wrote: take every row of a template (one contract with its offer,
 * index, ledger rows, timers…), and insert `copies` copies in which each template id is replaced by a fresh id
 * of the same prefix, everywhere it appears (ids, foreign keys, JSON documents, memos, timer keys). Serial `seq`
 * columns are left to the database. The caller runs it inside a transaction.
 */
import type Database from 'better-sqlite3'
import { newId } from '../../src/app/ids.ts'

export type Row = Record<string, unknown>

export interface Template {
  /** table → the template's rows in it */
  readonly rows: Record<string, Row[]>
  /** the ids to replace in each copy */
  readonly ids: readonly string[]
}

export function insertCopies(raw: Database.Database, template: Template, copies: number) {
  const inserts = Object.entries(template.rows)
    .filter(([, rows]) => rows.length > 0)
    .map(([table, rows]) => {
      const cols = Object.keys(rows[0]!).filter((c) => c !== 'seq')
      const stmt = raw.prepare(`insert into ${table} (${cols.join(', ')}) values (${cols.map(() => '?').join(', ')})`)
      return { rows, cols, stmt }
    })
  const prefixOf = (id: string) => id.slice(0, id.lastIndexOf('_'))
  for (let i = 0; i < copies; i++) {
    const map = template.ids.map((id): [string, string] => [id, newId(prefixOf(id))])
    const swap = (v: unknown) => {
      if (typeof v !== 'string') return v
      let s = v
      for (const [from, to] of map) if (s.includes(from)) s = s.replaceAll(from, to)
      return s
    }
    for (const { rows, cols, stmt } of inserts) for (const r of rows) stmt.run(...cols.map((c) => swap(r[c])))
  }
}

/** Sets every non-escrow account's balance to the sum of its journal lines (after copies touched shared ones). */
export function recomputeSharedAccounts(raw: Database.Database) {
  raw
    .prepare(
      `update accounts set balance = (select coalesce(sum(amount), 0) from journal_lines l
         where l.account = accounts.account and l.currency = accounts.currency)
       where account like 'user:%'`,
    )
    .run()
  // the shared ones (the rail, the fees: several rows each, `ext:rail~3`) become one row holding their lines' sum
  raw.prepare(`delete from accounts where account not like 'escrow:%' and account not like 'user:%'`).run()
  raw
    .prepare(
      `insert into accounts (account, currency, balance, user_id)
       select account, currency, sum(amount), null from journal_lines
       where account not like 'escrow:%' and account not like 'user:%' group by account, currency`,
    )
    .run()
}
