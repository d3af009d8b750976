/**
 * `count` due auto-releases on a fresh SQLite database (manual clock, no worker loop), for the timer phase and
 * `bench/timers-ab.ts`. Building them through the HTTP API would take longer than the whole benchmark, so one
 * contract is taken through the real use cases (offer, accept, fund, submit) and its rows — contract, offer, object
 * index, escrow account, funding entry and lines, auto_release timer — are copied in bulk with fresh ids in one
 * transaction; the shared accounts (ext:rail) are then recomputed from their lines, so the ledger verifies. The
 * clock is moved past the review deadline: every copy is due at `now`.
 */
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { createUser } from '../../src/app/accounts.ts'
import { ManualClock } from '../../src/app/clock.ts'
import { loadConfig } from '../../src/app/config.ts'
import { milestoneCommand } from '../../src/app/contracts.ts'
import { offerCommand, openOffer } from '../../src/app/offers.ts'
import { DAY_MS } from '../../src/domain/types.ts'
import { termsFromBody } from '../../src/http/routes/offers.ts'
import { createRuntime } from '../../src/main.ts'
import { loadContract } from '../../src/store/repos/aggregate-repo.ts'
import { insertCopies, type Row, recomputeSharedAccounts, type Template } from './clone.ts'
import { silentLog, tempDir } from './settings.ts'

export async function dueAutoReleases(count: number, name = 'timers') {
  const dir = tempDir(name)
  const path = join(dir, 'tranche.db')
  const config = loadConfig({
    TRANCHE_DB: path,
    TRANCHE_CLOCK: 'manual',
    TRANCHE_LOG_LEVEL: 'silent',
    TRANCHE_WORKER: 'off',
  })
  const rt = await createRuntime(config, { log: silentLog })
  const app = rt.app
  const clock = app.clock
  if (!(clock instanceof ManualClock)) throw new Error('the timer benchmark needs the manual clock')

  // 1. One submitted milestone through the real use cases.
  const password = 'bench-password-123'
  const client = await createUser(app, { email: 'client@bench.test', password, name: 'Client' })
  const freelancer = await createUser(app, { email: 'freelancer@bench.test', password, name: 'Freelancer' })
  const asClient = { kind: 'user', id: client.id } as const
  const asFreelancer = { kind: 'user', id: freelancer.id } as const
  const offer = await openOffer(app, asClient, {
    role: 'client',
    counterpartyEmail: freelancer.email,
    terms: termsFromBody({
      title: 'Benchmark job',
      description: 'One stage',
      currency: 'USD',
      payment_mode: 'by_milestone',
      milestones: [{ title: 'Stage 1', amount: 10_000 }],
    }),
  })
  const accepted = await offerCommand(app, asFreelancer, offer.id, { type: 'accept', revision: 1 })
  const contractId = accepted!.contract_id!
  const ms = (await loadContract(rt.store.db, contractId))!.value.milestones[0]!.id
  await milestoneCommand(app, asClient, { type: 'fund', milestoneIds: [ms] })
  await milestoneCommand(app, asFreelancer, {
    type: 'submit',
    milestoneId: ms,
    message: 'done',
    links: [],
    entries: null,
  })
  const reviewDays = (await loadContract(rt.store.db, contractId))!.value.reviewDays

  // 2. Bulk copies of its rows with fresh ids, in one transaction.
  const t0 = performance.now()
  const raw = new Database(path)
  raw.defaultSafeIntegers(true)
  raw.pragma('journal_mode = WAL')
  raw.pragma('busy_timeout = 5000')
  raw.pragma('cache_size = -262144') // 256 MB of page cache for the bulk copy
  // Reminders would have run days before the deadline; only the auto-release is left due.
  raw.prepare("delete from timers where kind = 'review_reminder'").run()
  const one = (sql: string, ...args: unknown[]) => raw.prepare(sql).all(...args) as Row[]
  const journalEntries = one('select * from journal_entries where contract_id = ?', contractId)
  const template: Template = {
    rows: {
      offers: one('select * from offers where id = ?', offer.id),
      contracts: one('select * from contracts where id = ?', contractId),
      object_index: one('select * from object_index where contract_id = ?', contractId),
      accounts: one('select * from accounts where account = ?', `escrow:${ms}`),
      journal_entries: journalEntries,
      journal_lines: one(
        'select * from journal_lines where entry_id in (select id from journal_entries where contract_id = ?)',
        contractId,
      ),
      timers: one("select * from timers where key = ? and kind = 'auto_release'", `auto_release:${ms}`),
    },
    ids: [contractId, offer.id, ms, ...journalEntries.map((e) => String(e.id))],
  }
  raw.transaction(() => {
    insertCopies(raw, template, count - 1)
    // shared accounts (ext:rail): their balance is the sum of their lines
    recomputeSharedAccounts(raw)
  })()
  raw.close()
  const buildSeconds = (performance.now() - t0) / 1000
  const due = async () =>
    Number(
      (
        await rt.store.db
          .selectFrom('timers')
          .select((eb) => eb.fn.countAll<bigint>().as('n'))
          .where('kind', '=', 'auto_release')
          .executeTakeFirstOrThrow()
      ).n,
    )
  const total = await due()

  // 3. Past the review deadline.
  await clock.set(clock.now() + (reviewDays + 1) * DAY_MS)
  const now = clock.now()
  return { rt, dir, now, total, buildSeconds, due }
}
