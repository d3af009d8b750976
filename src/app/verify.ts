/**
 * Ledger verification (SPEC §7): every invariant checked from the stored data, each failure named.
 */

import { type Contract, isTerminal } from '../domain/contract-model.ts'
import type { Store } from '../store/database.ts'
import { chainHash } from '../store/repos/audit-repo.ts'
import { big, num } from '../store/schema.ts'
import { decode } from './json-codec.ts'

export interface VerifyReport {
  readonly ok: boolean
  readonly problems: string[]
  readonly checked: { entries: number; lines: number; accounts: number; milestones: number; audit_records: number }
}

export async function verify(store: Store): Promise<VerifyReport> {
  const db = store.db
  const problems: string[] = []
  const say = (p: string) => problems.length < 200 && problems.push(p)

  const unbalanced = await db
    .selectFrom('journal_lines')
    .select(['entry_id', 'currency', (eb) => eb.fn.sum<bigint>('amount').as('total')])
    .groupBy(['entry_id', 'currency'])
    .having((eb) => eb.fn.sum('amount'), '!=', 0)
    .execute()
  for (const u of unbalanced)
    say(`journal entry ${u.entry_id} does not balance in ${u.currency} (off by ${big(u.total)})`)

  const accounts = await db.selectFrom('accounts').select(['account', 'currency', 'balance']).execute()
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
    const bal = big(a.balance)
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
  const contracts = await db.selectFrom('contracts').select('data').execute()
  for (const row of contracts) {
    const c = decode<Contract>(row.data)
    for (const m of c.milestones) {
      milestones++
      const held = accountBalance.get(`escrow:${m.id}|${c.currency}`) ?? 0n
      if (held !== m.escrow + m.escrowFee)
        say(`escrow:${m.id} holds ${held} but the milestone reports ${m.escrow} + fee ${m.escrowFee}`)
      if (isTerminal(m.state) && held !== 0n) say(`escrow:${m.id} holds ${held} although the milestone is ${m.state}`)
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

async function verifyAuditChain(store: Store, say: (p: string) => void): Promise<number> {
  let prev = '0'.repeat(64)
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
      if (r.prev_hash !== prev) say(`audit record ${r.id} does not follow the previous record (chain broken)`)
      if (chainHash(r.prev_hash, r.record) !== r.hash) say(`audit record ${r.id} was altered (hash mismatch)`)
      prev = r.hash
      after = big(r.seq)
    }
  }
  const head = await store.db.selectFrom('audit_head').select(['hash', 'count']).where('id', '=', 1).executeTakeFirst()
  if (head && (head.hash !== prev || num(head.count) !== count)) say('the audit head does not match the last record')
  return count
}
