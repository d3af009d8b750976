/**
 * Ledger verification (SPEC §7): every invariant checked from the stored data, each failure named.
 */

import { type Contract, isTerminal } from '../domain/contract-model.ts'
import type { Store } from '../store/database.ts'
import { chainHash } from '../store/repos/audit-repo.ts'
import { allBalances } from '../store/repos/ledger-repo.ts'
import { big, num } from '../store/schema.ts'
import { decode } from './json-codec.ts'

export interface VerifyReport {
  readonly ok: boolean
  readonly problems: string[]
  readonly checked: { entries: number; lines: number; accounts: number; milestones: number; audit_records: number }
}

/** The most problems one report names (a ledger broken everywhere would otherwise be listed line by line). */
const MAX_PROBLEMS = 200

export async function verify(store: Store): Promise<VerifyReport> {
  const db = store.db
  const problems: string[] = []
  const say = (p: string) => problems.length < MAX_PROBLEMS && problems.push(p)

  for (const u of await unbalancedEntries(db))
    say(`journal entry ${u.entry_id} does not balance in ${u.currency} (off by ${big(u.total)})`)

  // a shared account's rows (`platform:fees~3`) summed into its one balance
  const accounts = await allBalances(db)
  const sums = await db
    .selectFrom('journal_lines')
    .select([
      'account',
      'currency',
      (eb) => eb.fn.sum<bigint>('amount').as('total'),
      (eb) => eb.fn.countAll<bigint>().as('n'),
    ])
    .groupBy(['account', 'currency'])
    .execute()
  const lineSum = new Map(sums.map((s) => [`${s.account}|${s.currency}`, big(s.total)]))
  const lines = sums.reduce((s, r) => s + num(r.n), 0)
  const perCurrency = new Map<string, bigint>()
  const accountBalance = new Map<string, bigint>()
  for (const a of accounts) {
    const bal = a.balance
    accountBalance.set(`${a.account}|${a.currency}`, bal)
    perCurrency.set(a.currency, (perCurrency.get(a.currency) ?? 0n) + bal)
    if (a.account.startsWith('user:') && bal < 0n) say(`${a.account} is below zero in ${a.currency}: ${bal}`)
    const expected = lineSum.get(`${a.account}|${a.currency}`) ?? 0n
    if (expected !== bal) say(`${a.account} in ${a.currency} holds ${bal} but its entries sum to ${expected}`)
  }
  for (const key of lineSum.keys())
    if (!accountBalance.has(key)) say(`entries touch ${key.replace('|', ' in ')} which has no balance row`)
  for (const [cur, total] of perCurrency) if (total !== 0n) say(`accounts in ${cur} sum to ${total}, not zero`)

  let milestones = 0
  const escrows = new Set<string>() // the escrow account of every milestone, in its contract's currency
  const contracts = await db.selectFrom('contracts').select('data').execute()
  for (const row of contracts) {
    const c = decode<Contract>(row.data)
    for (const m of c.milestones) {
      milestones++
      escrows.add(`escrow:${m.id}|${c.currency}`)
      const held = accountBalance.get(`escrow:${m.id}|${c.currency}`) ?? 0n
      if (held !== m.escrow + m.escrowFee)
        say(`escrow:${m.id} holds ${held} but the milestone reports ${m.escrow} + fee ${m.escrowFee}`)
      if (isTerminal(m.state) && held !== 0n) say(`escrow:${m.id} holds ${held} although the milestone is ${m.state}`)
    }
  }
  // money in an escrow that no milestone accounts for: an unknown milestone, or another currency than its contract's
  for (const [key, held] of accountBalance) {
    if (key.startsWith('escrow:') && held !== 0n && !escrows.has(key)) {
      const [account, currency] = key.split('|')
      say(`${account} holds ${held} in ${currency}, which is no milestone's escrow in that currency`)
    }
  }

  const entries = await db
    .selectFrom('journal_entries')
    .select((eb) => eb.fn.countAll<bigint>().as('n'))
    .executeTakeFirst()
  const audit = await verifyAuditChain(store, say)
  return {
    ok: problems.length === 0,
    problems,
    checked: { entries: num(entries?.n), lines, accounts: accounts.length, milestones, audit_records: audit },
  }
}

/**
 * The entries whose lines do not sum to zero in a currency. Tranche writes every line of an entry in the entry's
 * currency, so the lines are grouped by entry alone — in the order of the entry index, without sorting a million
 * lines by (entry, currency) first (~30 % less time) — and only an entry whose lines are off or in more than one
 * currency (a hand-made one: it may still balance in each) is summed again per currency.
 */
async function unbalancedEntries(db: Store['db']) {
  const suspects = await db
    .selectFrom('journal_lines')
    .select('entry_id')
    .groupBy('entry_id')
    .having((eb) => eb.or([eb(eb.fn.sum('amount'), '!=', 0), eb(eb.fn.min('currency'), '!=', eb.fn.max('currency'))]))
    .execute()
  const out: { entry_id: string; currency: string; total: bigint }[] = []
  // a few hundred at a time (far below the databases' limits on parameters), no more than verify names
  for (let i = 0; i < suspects.length && out.length < MAX_PROBLEMS; i += 500) {
    const ids = suspects.slice(i, i + 500).map((s) => s.entry_id)
    const rows = await db
      .selectFrom('journal_lines')
      .select(['entry_id', 'currency', (eb) => eb.fn.sum<bigint>('amount').as('total')])
      .where('entry_id', 'in', ids)
      .groupBy(['entry_id', 'currency'])
      .having((eb) => eb.fn.sum('amount'), '!=', 0)
      .orderBy('entry_id')
      .orderBy('currency')
      .execute()
    out.push(...rows)
  }
  return out
}

/**
 * The audit chains (audit-repo.ts): in insertion order, every record must extend the end of exactly one chain — its
 * `prev_hash` is a chain's current last hash, and its own hash is sha256(prev_hash + record) — and the chains must
 * end at their head rows. An edited, removed or inserted record breaks this.
 */
async function verifyAuditChain(store: Store, say: (p: string) => void): Promise<number> {
  const heads = await store.db.selectFrom('audit_head').select(['id', 'hash', 'count']).execute()
  const ends = new Map<string, number>() // the end of every chain, as a multiset (all start at the same genesis)
  const add = (hash: string, n: number) => {
    const left = (ends.get(hash) ?? 0) + n
    if (left) ends.set(hash, left)
    else ends.delete(hash)
  }
  add(GENESIS, heads.length)
  let count = 0
  let after = 0n
  for (;;) {
    const rows = await store.db
      .selectFrom('audit_log')
      .select(['seq', 'id', 'record', 'prev_hash', 'hash'])
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(5000)
      .execute()
    if (!rows.length) break
    for (const r of rows) {
      count++
      if (ends.has(r.prev_hash)) add(r.prev_hash, -1)
      else say(`audit record ${r.id} does not follow the previous record of its chain (chain broken)`)
      if (chainHash(r.prev_hash, r.record) !== r.hash) say(`audit record ${r.id} was altered (hash mismatch)`)
      add(r.hash, 1)
      after = big(r.seq)
    }
  }
  for (const h of heads) add(h.hash, -1)
  const counted = heads.reduce((n, h) => n + num(h.count), 0)
  if (ends.size || counted !== count) say('the audit heads do not match the last records of their chains')
  return count
}

const GENESIS = '0'.repeat(64)
