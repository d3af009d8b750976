/**
 * PostgreSQL: everything a contract command writes once it has decided, in ONE statement of data-modifying WITH —
 * one round trip instead of five: the contract's next version (guarded by the version read), the index rows of its
 * new objects, its timers cancelled and set, its events with their recipients (and those recipients' webhook
 * endpoints, read), its journal entries with their lines and balances, and its audit record chained to the head of
 * one audit chain. The statement's rows tell what the separate statements would have: whether the version still
 * held, each event's sequence number, the endpoints, the balances left and the head moved.
 *
 * Every part runs to completion, whatever the others do; a version that no longer holds or a user balance left
 * below zero throws afterwards, which rolls the transaction back with all of it. Rows are locked in the order of the
 * statement's final SELECT — the contract's (already locked by its read), its timers', the balance rows (sorted,
 * `postingRows`), then the audit head — in every command, as when they were separate statements; the rest are new
 * rows (events, recipients, journal entries and lines, index rows).
 */
import { type Kysely, type RawBuilder, sql } from 'kysely'
import type { Contract } from '../../domain/contract-model.ts'
import type { JournalEntry } from '../../domain/ledger.ts'
import type { TimerChanges } from '../../domain/types.ts'
import type { Capabilities } from '../database.ts'
import { prepared, rawQuery } from '../prepared.ts'
import type { DB } from '../schema.ts'
import { contractUpdate, contractUpdateQuery, indexQuery, saveContract, VersionConflict } from './aggregate-repo.ts'
import {
  type AuditInput,
  appendAudit,
  appendOneCtes,
  chainFor,
  missingHead,
  type OneRecord,
  oneRecord,
} from './audit-repo.ts'
import {
  type Big,
  type Endpoint,
  endpointsQuery,
  eventRows,
  eventsQuery,
  insertDeliveries,
  insertEvents,
  type NewEvent,
} from './event-repo.ts'
import {
  balancesQuery,
  CHUNK,
  entriesQuery,
  linesQuery,
  type Postings,
  postEntries,
  postingRows,
  refuseNegative,
} from './ledger-repo.ts'
import { applyTimers, deleteTimersQuery, setTimersQuery, timerRows } from './timer-repo.ts'

export interface ContractWrites {
  /** the contract's next version, the version it was read at, and that read */
  readonly contract: Contract
  readonly version: number
  readonly before: Contract
  readonly timers: TimerChanges
  readonly events: readonly NewEvent[]
  readonly entries: readonly JournalEntry[]
  /** the command's audit record, when the transaction ends with it (null: appended by the caller) */
  readonly audit: AuditInput | null
  readonly now: number
}

/** Writes a contract command's decision (see the module comment); separate statements when a part is very large. */
export async function writeContractCommand(
  db: Kysely<DB>,
  caps: Capabilities,
  w: ContractWrites,
  newDeliveryId: () => string,
) {
  const timers = timerRows(w.timers, w.now)
  const events = eventRows(w.events)
  const postings = postingRows(w.entries, w.now) ?? { entries: [], lines: [], deltas: [] }
  const parts = [timers.keys, timers.rows, events.events, events.audiences, ...Object.values(postings)]
  if (parts.some((rows) => rows.length > CHUNK)) {
    await saveContract(db, w.contract, w.version, w.before)
    await applyTimers(db, w.timers, w.now)
    await insertEvents(db, w.events, newDeliveryId)
    await postEntries(db, w.entries, w.now)
    if (w.audit) await appendAudit(db, caps, [w.audit])
    return
  }
  const { update, index } = contractUpdate(w.contract, w.version, w.before)
  const chain = chainFor(caps)
  const audit = w.audit ? [oneRecord(w.audit, chain)] : []
  const { rows } = await writeAll(db, { update, index, ...timers, ...events, ...postings, audit })
  let updated = false
  let moved = false
  const seqOf = new Map<string, Big>()
  const endpoints: Endpoint[] = []
  const balances: { account: string; balance: Big }[] = []
  for (const r of rows) {
    if (r.k === 'contract') updated = true
    else if (r.k === 'event') seqOf.set(r.id, r.n!)
    else if (r.k === 'endpoint') endpoints.push({ id: r.id, user_id: r.u!, enabled_events: r.e! })
    else if (r.k === 'balance') balances.push({ account: r.id, balance: r.n! })
    else if (r.k === 'audit') moved = true
  }
  if (!updated) throw new VersionConflict(w.contract.id)
  refuseNegative(balances)
  if (audit.length && !moved) throw missingHead(chain)
  await insertDeliveries(db, w.events, endpoints, seqOf, newDeliveryId)
}

type Update = Parameters<typeof contractUpdateQuery>[1]
type Args = {
  update: Update
  index: { id: string; contract_id: string }[]
  keys: string[]
  rows: Parameters<typeof setTimersQuery>[1]
  events: Parameters<typeof eventsQuery>[1]
  audiences: { event_id: string; user_id: string }[]
  users: string[]
  /** none, or the one record (the CTEs have fixed names) */
  audit: OneRecord[]
} & Postings

/** One row per thing the caller checks: `k` says which, the other columns what (see `writeContractCommand`). */
type Out = { k: string; id: string; n: Big | null; u: string | null; e: string | null }

/**
 * The statement. Its parts depend on which lists are empty, which is part of a prepared query's shape (the lengths
 * of its arrays), so each shape is compiled once.
 */
const writeAll = prepared((db, a: Args) => {
  const ctes: RawBuilder<unknown>[] = [sql`contract as (${contractUpdateQuery(db, a.update)})`]
  const out: RawBuilder<unknown>[] = [
    sql`select 'contract'::text as k, id, null::bigint as n, null::text as u, null::text as e from contract`,
  ]
  if (a.index.length) ctes.push(sql`object_index_rows as (${indexQuery(db, a.index)})`)
  // the timers are read by the final SELECT, only so that their rows are locked before the balances and the audit
  // head (a data-modifying WITH that nothing reads runs after the SELECT), as when they were separate statements
  if (a.keys.length) {
    ctes.push(sql`timers_cancelled as (${deleteTimersQuery(db, a.keys).returning('key')})`)
    out.push(sql`select 'timer', key, null, null, null from timers_cancelled`)
  }
  if (a.rows.length) {
    ctes.push(sql`timers_set as (${setTimersQuery(db, a.rows).returning('key')})`)
    out.push(sql`select 'timer', key, null, null, null from timers_set`)
  }
  if (a.events.length) {
    ctes.push(sql`ev as (${eventsQuery(db, a.events)})`)
    out.push(sql`select 'event', id, seq, null, null from ev`)
  }
  if (a.audiences.length)
    ctes.push(sql`event_recipients_rows as (
      insert into event_recipients (user_id, event_seq)
      select r.user_id, ev.seq
      from ev join (values ${sql.join(a.audiences.map((r) => sql`(${r.event_id}, ${r.user_id})`))}) as r(event_id, user_id)
        on r.event_id = ev.id)`)
  if (a.users.length)
    out.push(sql`select 'endpoint', id, null, user_id, enabled_events from (${endpointsQuery(db, a.users)}) as ep`)
  if (a.entries.length) ctes.push(sql`journal_entries_rows as (${entriesQuery(db, a.entries)})`)
  if (a.lines.length) ctes.push(sql`journal_lines_rows as (${linesQuery(db, a.lines)})`)
  if (a.deltas.length) {
    ctes.push(sql`balances as (${balancesQuery(db, a.deltas)})`)
    out.push(sql`select 'balance', account, balance, null, null from balances`)
  }
  const [record] = a.audit
  if (record) {
    ctes.push(appendOneCtes(db, record))
    out.push(sql`select 'audit', id::text, null, null, null from audit_moved`)
  }
  return rawQuery(db, sql<Out>`with ${sql.join(ctes)} ${sql.join(out, sql` union all `)}`)
})
