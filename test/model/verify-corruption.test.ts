/**
 * Corrupts a SQLite database by hand, one row at a time, and checks that `verify`, `GET /v1/admin/verify` and
 * `tranche verify` (exit 1) name each problem (SPEC §7) — and are happy again once it is undone. The database is
 * filled by replaying a generated sequence through the app layer in lockstep with the pure model
 * (verify-replay-support.ts), as verify-replay.test.ts does.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import fc from 'fast-check'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { milestoneCommand } from '../../src/app/contracts.ts'
import { offerCommand, openOffer } from '../../src/app/offers.ts'
import { verify } from '../../src/app/verify.ts'
import type { Contract } from '../../src/domain/contract-model.ts'
import { escrow, PLATFORM } from '../../src/domain/ledger.ts'
import { loadContract } from '../../src/store/repos/aggregate-repo.ts'
import { big } from '../../src/store/schema.ts'
import { call, startEnv, type TestEnv } from '../support/harness.ts'
import { stepsArb, worldArb } from './model.ts'
import { type Person, problemsOf, replay } from './verify-replay-support.ts'

const run = promisify(execFile)

describe('verify names what was corrupted by hand', () => {
  let env: TestEnv
  let admin: Person
  let funded: { id: string; currency: string; held: bigint }
  let released: { id: string; currency: string }

  beforeAll(async () => {
    env = await startEnv('sqlite')
    // A history with every kind of entry: a generated sequence (fixed seed), plus one milestone left in escrow and
    // one released, so that both escrow checks have something to work on.
    const [world, seq] = fc.sample(fc.tuple(worldArb(true), stepsArb(40)), { seed: 20_250_106, numRuns: 1 })[0]!
    const r = await replay(env, world, seq)
    admin = r.admin
    const [client, freelancer] = r.people as [Person, Person]
    const offer = await openOffer(
      env.rt.app,
      { kind: 'user', id: client.id },
      {
        role: 'client',
        counterpartyEmail: freelancer.email,
        terms: {
          title: 'Corruption target',
          description: '',
          currency: 'KWD',
          paymentMode: 'by_milestone',
          reviewDays: 3,
          revisionLimit: 1,
          unitName: null,
          unitPrice: null,
          milestones: [5_000n, 12_345n, 7_777n].map((amount, i) => ({
            title: `M${i}`,
            description: '',
            acceptanceCriteria: '',
            amount,
            dueDate: null,
            deposit: false,
            entries: null,
          })),
        },
      },
    )
    const accepted = await offerCommand(env.rt.app, { kind: 'user', id: freelancer.id }, offer.id, {
      type: 'accept',
      revision: 1,
    })
    const c = (await loadContract(env.rt.store.db, accepted!.contract_id!))!.value
    const [m0, m1, m2] = c.milestones as [
      Contract['milestones'][number],
      Contract['milestones'][number],
      Contract['milestones'][number],
    ]
    await milestoneCommand(
      env.rt.app,
      { kind: 'user', id: client.id },
      { type: 'fund', milestoneIds: [m0.id, m1.id, m2.id] },
      { contractId: c.id },
    )
    await milestoneCommand(
      env.rt.app,
      { kind: 'user', id: freelancer.id },
      { type: 'refund', milestoneId: m2.id, reason: null },
    )
    await milestoneCommand(
      env.rt.app,
      { kind: 'user', id: client.id },
      {
        type: 'approve',
        milestoneId: m0.id,
        amount: null,
        acceptedEntries: null,
        bonus: 1_000n,
        rest: 'refund',
        message: null,
      },
    )
    const after = (await loadContract(env.rt.store.db, c.id))!.value
    const held = after.milestones[1]!
    funded = { id: held.id, currency: 'KWD', held: held.escrow + held.escrowFee }
    released = { id: m0.id, currency: 'KWD' }
    expect(after.milestones[0]!.state).toBe('released')
    expect(held.state).toBe('funded')
  }, 120_000)
  afterAll(async () => env?.close())

  const db = () => env.rt.store.db
  const expectOk = async () => {
    const report = await verify(env.rt.store)
    expect(report.ok, problemsOf(report)).toBe(true)
    return report
  }
  const expectProblems = async (...patterns: RegExp[]) => {
    const report = await verify(env.rt.store)
    expect(report.ok).toBe(false)
    for (const p of patterns)
      expect(
        report.problems.some((x) => p.test(x)),
        `${p} in\n  ${report.problems.join('\n  ')}`,
      ).toBe(true)
    const res = await call(env, 'GET', '/v1/admin/verify', { token: admin.token })
    expect(res.status).toBe(200)
    expect(res.body.ok).toBe(false)
    expect(res.body.problems).toEqual(report.problems)
    return report
  }
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

  it('starts from a database that verifies', async () => {
    const report = await expectOk()
    expect(report.checked.entries).toBeGreaterThan(0)
    expect(report.checked.audit_records).toBeGreaterThan(0)
    const res = await call(env, 'GET', '/v1/admin/verify', { token: admin.token })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ object: 'verification', ok: true, problems: [] })
  })

  it('(a) a user balance edited by hand in accounts', async () => {
    const row = await db()
      .selectFrom('accounts')
      .select(['account', 'currency', 'balance'])
      .where('account', 'like', 'user:%:available')
      .orderBy('account')
      .executeTakeFirstOrThrow()
    const bal = big(row.balance)
    await sql`UPDATE accounts SET balance = balance + 250 WHERE account = ${row.account} AND currency = ${row.currency}`.execute(
      db(),
    )
    await expectProblems(
      new RegExp(`^${esc(row.account)} in ${row.currency} holds ${bal + 250n} but its entries sum to ${bal}$`),
      new RegExp(`^accounts in ${row.currency} sum to 250, not zero$`),
    )
    // Below zero is named too.
    await sql`UPDATE accounts SET balance = -1 WHERE account = ${row.account} AND currency = ${row.currency}`.execute(
      db(),
    )
    await expectProblems(new RegExp(`^${esc(row.account)} is below zero in ${row.currency}: -1$`))
    await sql`UPDATE accounts SET balance = ${bal} WHERE account = ${row.account} AND currency = ${row.currency}`.execute(
      db(),
    )
    await expectOk()
  })

  it('(b) a journal line amount edited', async () => {
    const line = await db()
      .selectFrom('journal_lines')
      .select(['seq', 'entry_id', 'account', 'currency', 'amount'])
      .where('account', 'like', 'escrow:%')
      .orderBy('seq')
      .executeTakeFirstOrThrow()
    await sql`UPDATE journal_lines SET amount = amount + 7 WHERE seq = ${line.seq}`.execute(db())
    await expectProblems(
      new RegExp(`^journal entry ${esc(line.entry_id)} does not balance in ${line.currency} \\(off by 7\\)$`),
      new RegExp(`^${esc(line.account)} in ${line.currency} holds .* but its entries sum to `),
    )
    await sql`UPDATE journal_lines SET amount = ${big(line.amount)} WHERE seq = ${line.seq}`.execute(db())
    await expectOk()
  })

  it('(b2) a journal line moved to another currency: its entry is off in both', async () => {
    const line = await db()
      .selectFrom('journal_lines')
      .select(['seq', 'entry_id', 'currency', 'amount'])
      .where('account', 'like', 'escrow:%')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow()
    const other = line.currency === 'EUR' ? 'USD' : 'EUR'
    const amount = big(line.amount)
    await sql`UPDATE journal_lines SET currency = ${other} WHERE seq = ${line.seq}`.execute(db())
    await expectProblems(
      new RegExp(`^journal entry ${esc(line.entry_id)} does not balance in ${line.currency} \\(off by ${-amount}\\)$`),
      new RegExp(`^journal entry ${esc(line.entry_id)} does not balance in ${other} \\(off by ${amount}\\)$`),
    )
    await sql`UPDATE journal_lines SET currency = ${line.currency} WHERE seq = ${line.seq}`.execute(db())
    await expectOk()
  })

  it('(b3) lines added to an entry in a second currency that balance there: the entry is not named as off', async () => {
    const line = await db()
      .selectFrom('journal_lines')
      .select(['seq', 'entry_id', 'currency', 'created_at'])
      .orderBy('seq')
      .executeTakeFirstOrThrow()
    const other = line.currency === 'EUR' ? 'USD' : 'EUR'
    await sql`INSERT INTO journal_lines (entry_id, account, currency, amount, created_at) VALUES
      (${line.entry_id}, 'ext:rail', ${other}, -5, ${line.created_at}),
      (${line.entry_id}, ${PLATFORM}, ${other}, 5, ${line.created_at})`.execute(db())
    const report = await expectProblems(/has no balance row|holds .* but its entries sum to/)
    expect(report.problems.filter((p) => p.includes(line.entry_id))).toEqual([])
    await sql`DELETE FROM journal_lines WHERE entry_id = ${line.entry_id} AND currency = ${other}`.execute(db())
    await expectOk()
  })

  it('(c) an audit_log record text edited', async () => {
    const rows = await db().selectFrom('audit_log').select(['seq', 'id', 'record']).orderBy('seq').execute()
    const rec = rows[Math.floor(rows.length / 2)]!
    const edited = rec.record.replace('"action":"', '"action":"forged.')
    expect(edited).not.toBe(rec.record)
    await sql`UPDATE audit_log SET record = ${edited} WHERE seq = ${rec.seq}`.execute(db())
    const report = await expectProblems(new RegExp(`^audit record ${esc(rec.id)} was altered \\(hash mismatch\\)$`))
    expect(report.problems).toHaveLength(1)
    await sql`UPDATE audit_log SET record = ${rec.record} WHERE seq = ${rec.seq}`.execute(db())
    await expectOk()
  })

  it('(d) an escrow account that no longer matches its milestone (a balanced, well-formed entry)', async () => {
    const now = BigInt(env.rt.app.clock.now())
    // Moves 1 minor unit from a funded milestone's escrow to the platform: the entry balances and the balances
    // agree with their lines, so the only thing wrong is the escrow against its milestone.
    const forge = async (id: string, from: string, to: string) => {
      await sql`INSERT INTO journal_entries (id, kind, currency, memo, contract_id, milestone_id, created_at) VALUES (${id}, 'release', 'KWD', 'forged', NULL, NULL, ${now})`.execute(
        db(),
      )
      await sql`INSERT INTO journal_lines (entry_id, account, currency, amount, created_at) VALUES (${id}, ${from}, 'KWD', -1, ${now}), (${id}, ${to}, 'KWD', 1, ${now})`.execute(
        db(),
      )
      await sql`UPDATE accounts SET balance = balance - 1 WHERE account = ${from} AND currency = 'KWD'`.execute(db())
      await sql`INSERT INTO accounts (account, currency, balance, user_id) VALUES (${to}, 'KWD', 1, NULL) ON CONFLICT (account, currency) DO UPDATE SET balance = balance + 1`.execute(
        db(),
      )
    }
    const unforge = async (id: string, from: string, to: string) => {
      await sql`DELETE FROM journal_lines WHERE entry_id = ${id}`.execute(db())
      await sql`DELETE FROM journal_entries WHERE id = ${id}`.execute(db())
      await sql`UPDATE accounts SET balance = balance + 1 WHERE account = ${from} AND currency = 'KWD'`.execute(db())
      await sql`UPDATE accounts SET balance = balance - 1 WHERE account = ${to} AND currency = 'KWD'`.execute(db())
    }
    await forge('je_forged1', escrow(funded.id), PLATFORM)
    const report = await expectProblems(
      new RegExp(`^escrow:${esc(funded.id)} holds ${funded.held - 1n} but the milestone reports `),
    )
    expect(report.problems).toHaveLength(1)
    await unforge('je_forged1', escrow(funded.id), PLATFORM)
    await expectOk()

    // Money parked in a released milestone's escrow: terminal milestones hold nothing.
    await forge('je_forged2', PLATFORM, escrow(released.id))
    await expectProblems(
      new RegExp(`^escrow:${esc(released.id)} holds 1 but the milestone reports 0 \\+ fee 0$`),
      new RegExp(`^escrow:${esc(released.id)} holds 1 although the milestone is released$`),
    )
    await unforge('je_forged2', PLATFORM, escrow(released.id))
    await expectOk()

    // Money in an escrow that no milestone accounts for: a milestone that does not exist, and a real milestone's
    // escrow in another currency than its contract's (KWD).
    await forge('je_forged3', PLATFORM, escrow('ms_nosuchmilestone'))
    const ghost = await expectProblems(
      /^escrow:ms_nosuchmilestone holds 1 in KWD, which is no milestone's escrow in that currency$/,
    )
    expect(ghost.problems).toHaveLength(1)
    await unforge('je_forged3', PLATFORM, escrow('ms_nosuchmilestone'))
    await expectOk()
    await sql`UPDATE journal_lines SET currency = 'EUR' WHERE entry_id IN (SELECT id FROM journal_entries WHERE kind = 'fund') AND account = ${escrow(funded.id)}`.execute(
      db(),
    )
    await sql`UPDATE accounts SET currency = 'EUR' WHERE account = ${escrow(funded.id)}`.execute(db())
    await expectProblems(
      new RegExp(
        `^escrow:${esc(funded.id)} holds ${funded.held} in EUR, which is no milestone's escrow in that currency$`,
      ),
    )
    await sql`UPDATE journal_lines SET currency = 'KWD' WHERE account = ${escrow(funded.id)}`.execute(db())
    await sql`UPDATE accounts SET currency = 'KWD' WHERE account = ${escrow(funded.id)}`.execute(db())
    await expectOk()
  })

  it('`tranche verify` exits 0 on the good database and 1 on a corrupted one, printing what is wrong', async () => {
    const cli = async () => {
      const childEnv: NodeJS.ProcessEnv = {
        ...process.env,
        TRANCHE_DB: env.config.sqlitePath,
        TRANCHE_LOG_LEVEL: 'silent',
      }
      delete childEnv.DATABASE_URL
      try {
        const { stdout } = await run('npx', ['tsx', 'src/cli/main.ts', 'verify'], {
          cwd: process.cwd(),
          env: childEnv,
          timeout: 60_000,
        })
        return { code: 0, stdout }
      } catch (e) {
        const err = e as { code?: number; stdout?: string; stderr?: string }
        return { code: err.code ?? -1, stdout: `${err.stdout ?? ''}${err.stderr ?? ''}` }
      }
    }
    const good = await cli()
    expect(good.code, good.stdout).toBe(0)
    expect(JSON.parse(good.stdout)).toMatchObject({ ok: true, problems: [] })

    const row = await db()
      .selectFrom('accounts')
      .select(['account', 'currency', 'balance'])
      .where('account', 'like', 'user:%:pending')
      .where('balance', '>', 0)
      .orderBy('account')
      .executeTakeFirstOrThrow()
    await sql`UPDATE accounts SET balance = balance - 3 WHERE account = ${row.account} AND currency = ${row.currency}`.execute(
      db(),
    )
    try {
      const bad = await cli()
      expect(bad.code, bad.stdout).toBe(1)
      expect(bad.stdout).toContain(
        `${row.account} in ${row.currency} holds ${big(row.balance) - 3n} but its entries sum to ${big(row.balance)}`,
      )
      expect(bad.stdout).toContain(`accounts in ${row.currency} sum to -3, not zero`)
      expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false })
    } finally {
      await sql`UPDATE accounts SET balance = ${big(row.balance)} WHERE account = ${row.account} AND currency = ${row.currency}`.execute(
        db(),
      )
    }
    await expectOk()
  }, 240_000)
})
