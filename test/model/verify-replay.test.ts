/**
 * Replays generated command sequences into a real SQLite database through the app layer (the use cases, one
 * transaction each; time through the worker's manual clock), in lockstep with the pure model: after every step the
 * outcome, the contracts, the balances and the timers must agree with the model, and `verify` must find nothing
 * wrong (SPEC §7). Then corrupts the database by hand, one row at a time, and checks that `verify`,
 * `GET /v1/admin/verify` and `tranche verify` (exit 1) name each problem — and are happy again once it is undone.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import fc from 'fast-check'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { contractCommand, disputeCommand, milestoneCommand } from '../../src/app/contracts.ts'
import { offerCommand, openOffer } from '../../src/app/offers.ts'
import { type VerifyReport, verify } from '../../src/app/verify.ts'
import type { Contract } from '../../src/domain/contract-model.ts'
import { DomainError } from '../../src/domain/errors.ts'
import { available, escrow, PLATFORM, pending, RAIL } from '../../src/domain/ledger.ts'
import type { Actor } from '../../src/domain/types.ts'
import { loadContract } from '../../src/store/repos/aggregate-repo.ts'
import { allBalances } from '../../src/store/repos/ledger-repo.ts'
import { big, num } from '../../src/store/schema.ts'
import { adminUser, advance, call, startEnv, type TestEnv, user } from '../support/harness.ts'
import {
  DEEP,
  describeCommand,
  type Outcome,
  type Party,
  PureModel,
  type Resolved,
  resolveStep,
  type Step,
  stepsArb,
  termsOf,
  type WorldSpec,
  worldArb,
} from './model.ts'

const RUNS = DEEP ? 40 : 4
const MAX_STEPS = DEEP ? 80 : 30
const MIN_STEPS = DEEP ? 30 : 20
const run = promisify(execFile)

interface Person {
  readonly id: string
  readonly email: string
  readonly token: string
}

interface Replay {
  readonly env: TestEnv
  readonly people: Person[]
  readonly admin: Person
  readonly contractIds: string[]
  readonly model: PureModel
  readonly steps: number
}

const actorOf = (who: Party, c: Contract, stranger: string, admin: string): Actor =>
  who === 'client'
    ? { kind: 'user', id: c.clientId }
    : who === 'freelancer'
      ? { kind: 'user', id: c.freelancerId }
      : who === 'stranger'
        ? { kind: 'user', id: stranger }
        : { kind: 'admin', id: admin }

/** Runs one resolved command through the app layer, as the HTTP routes do. */
async function appExecute(
  env: TestEnv,
  r: Exclude<Resolved, { kind: 'advance' }>,
  c: Contract,
  actor: Actor,
): Promise<Outcome> {
  const app = env.rt.app
  try {
    if (r.kind === 'milestone') {
      const { credit: _credit, ...rest } = r.cmd as typeof r.cmd & { credit?: bigint }
      const cmd = rest as Parameters<typeof milestoneCommand>[2]
      await milestoneCommand(app, actor, cmd, r.cmd.type === 'fund' ? { contractId: c.id } : {})
    } else if (r.kind === 'dispute') {
      await disputeCommand(app, actor, r.cmd)
    } else {
      const target = 'amendmentId' in r.cmd ? r.cmd.amendmentId : c.id
      await contractCommand(app, actor, target, r.cmd)
    }
    return { ok: true, code: null }
  } catch (e) {
    if (e instanceof DomainError) return { ok: false, code: e.code }
    throw e
  }
}

/** What must agree between the database and the model (ids differ: new objects get random ids in the app). */
function shape(c: Contract) {
  return {
    status: c.status,
    milestones: c.milestones.map((m) => ({
      position: m.position,
      state: m.state,
      amount: m.amount,
      deposit: m.deposit,
      entries: m.entries,
      dueDate: m.dueDate,
      escrow: m.escrow,
      escrowFee: m.escrowFee,
      released: m.released,
      refunded: m.refunded,
      bonus: m.bonus,
      acceptedEntries: m.acceptedEntries,
      revisionsUsed: m.revisionsUsed,
      reviewDeadline: m.reviewDeadline,
      fundedAt: m.fundedAt,
      settledAt: m.settledAt,
      releasedVia: m.releasedVia,
    })),
    refundRequests: c.refundRequests.map((r) => ({
      status: r.status,
      amount: r.amount,
      source: r.source,
      expiresAt: r.expiresAt,
    })),
    disputes: c.disputes.map((d) => ({
      status: d.status,
      openerRole: d.openerRole,
      escrowAmount: d.escrowAmount,
      responseDeadline: d.responseDeadline,
      negotiationDeadline: d.negotiationDeadline,
      resolution: d.resolution && {
        release: d.resolution.releaseAmount,
        refund: d.resolution.refundAmount,
        by: d.resolution.by,
      },
      proposals: d.proposals.map((p) => ({ byRole: p.byRole, releaseAmount: p.releaseAmount, status: p.status })),
    })),
    amendments: c.amendments.map((a) => ({
      status: a.status,
      add: a.add.length,
      edit: a.edit.length,
      remove: a.remove.length,
    })),
  }
}

const problemsOf = (r: VerifyReport) => `verify found:\n  ${r.problems.join('\n  ')}`

/** The database's balance of every account the model knows, by the model's account names. */
async function compareLedger(env: TestEnv, model: PureModel, appContracts: Contract[], where: string) {
  const db = env.rt.store.db
  const rows = await allBalances(db) // a shared account's rows (`ext:rail~3`) summed
  const dbBal = new Map(rows.map((r) => [`${r.currency} ${r.account}`, r.balance]))
  // Escrow accounts are named by milestone id, which differs for milestones added by an amendment: map by position.
  const rename = new Map<string, string>()
  model.contracts.forEach((mc, i) => {
    const ac = appContracts[i]!
    mc.milestones.forEach((m, j) => {
      rename.set(escrow(m.id), escrow(ac.milestones[j]!.id))
    })
  })
  const accounts = new Set<string>()
  for (const key of model.ledger.keys()) accounts.add(key)
  for (const mc of model.contracts) {
    for (const u of [mc.clientId, mc.freelancerId]) {
      accounts.add(`${mc.currency} ${available(u)}`)
      accounts.add(`${mc.currency} ${pending(u)}`)
    }
    accounts.add(`${mc.currency} ${PLATFORM}`)
    accounts.add(`${mc.currency} ${RAIL}`)
  }
  const appKeys = new Set<string>()
  for (const key of accounts) {
    const [cur, account] = key.split(' ') as [string, string]
    const appKey = `${cur} ${rename.get(account) ?? account}`
    appKeys.add(appKey)
    expect(dbBal.get(appKey) ?? 0n, `${where}: ${appKey} in the database vs ${key} in the model`).toBe(
      model.balance(cur, account),
    )
  }
  // Nothing else holds money.
  for (const [key, bal] of dbBal)
    if (bal !== 0n) expect(appKeys.has(key), `${where}: ${key} holds ${bal}, unknown to the model`).toBe(true)

  const timers = await db.selectFrom('timers').select(['kind', 'run_at']).execute()
  const dbTimers = timers.map((t) => `${t.kind}@${num(t.run_at)}`).sort()
  const modelTimers = [...model.timers.values()].map((t) => `${t.kind}@${t.runAt}`).sort()
  expect(dbTimers, `${where}: timers`).toEqual(modelTimers)
}

/** Creates users and contracts, then replays the steps through the app and the model side by side. */
async function replay(env: TestEnv, world: WorldSpec, steps: readonly Step[]): Promise<Replay> {
  const app = env.rt.app
  const people: Person[] = []
  for (const tag of ['a', 'b', 'c', 'stranger']) people.push(await user(env, tag))
  const admin = await adminUser(env)
  const base = app.clock.now()
  const contractIds: string[] = []
  for (const spec of world.contracts) {
    const client = people[spec.client]!
    const freelancer = people[(spec.client + spec.freelancerOffset) % 3]!
    const [author, other] = spec.authorIsClient ? [client, freelancer] : [freelancer, client]
    const offer = await openOffer(
      app,
      { kind: 'user', id: author.id },
      {
        role: spec.authorIsClient ? 'client' : 'freelancer',
        counterpartyEmail: other.email,
        terms: termsOf(spec, base),
      },
    )
    const accepted = await offerCommand(app, { kind: 'user', id: other.id }, offer.id, { type: 'accept', revision: 1 })
    contractIds.push(accepted!.contract_id!)
  }
  const load = async () => Promise.all(contractIds.map(async (id) => (await loadContract(app.store.db, id))!.value))
  const model = new PureModel(await load(), base, { stranger: people[3]!.id, admin: admin.id }, { checkAuth: false })
  let n = 0
  for (const step of steps) {
    const before = await load()
    const rApp = resolveStep(step, before, model.base)
    const done = model.step(step)
    if (!done) {
      expect(rApp, 'the app state offers a target the model does not have').toBeNull()
      continue
    }
    n++
    const where = `step ${n} (${describeCommand(done.resolved)})\n    ${model.trace.slice(-30).join('\n    ')}\n `
    expect(rApp, where).not.toBeNull()
    if (done.resolved.kind === 'advance') {
      await advance(env, done.resolved.seconds)
      expect(app.clock.now(), where).toBe(model.now)
    } else {
      const r = rApp as Exclude<Resolved, { kind: 'advance' }>
      const c = before[r.c]!
      const outcome = await appExecute(env, r, c, actorOf(r.who, c, people[3]!.id, admin.id))
      expect(outcome, `${where} outcome`).toEqual(done.outcome)
    }
    const after = await load()
    expect(after.map(shape), `${where} contracts`).toEqual(model.contracts.map(shape))
    await compareLedger(env, model, after, where)
    const report = await verify(env.rt.store)
    expect(report.ok, `${where} ${problemsOf(report)}`).toBe(true)
  }
  return { env, people, admin, contractIds, model, steps: n }
}

describe('replaying generated sequences into SQLite through the app layer', () => {
  it(
    `agrees with the pure model step by step and verify stays ok (${RUNS} runs × ${MIN_STEPS}–${MAX_STEPS} steps)`,
    async () => {
      let steps = 0
      let entries = 0
      await fc.assert(
        fc.asyncProperty(worldArb(true), stepsArb(MAX_STEPS, MIN_STEPS), async (world, seq) => {
          const env = await startEnv('sqlite')
          try {
            const r = await replay(env, world, seq)
            steps += r.steps
            const res = await call(env, 'GET', '/v1/admin/verify', { token: r.admin.token })
            expect(res.status).toBe(200)
            expect(res.body.ok, problemsOf(res.body)).toBe(true)
            expect(res.body.problems).toEqual([])
            entries += res.body.checked.entries
          } finally {
            await env.close()
          }
        }),
        { numRuns: RUNS },
      )
      console.log(`[verify-replay] ${RUNS} runs, ${steps} steps replayed, ${entries} journal entries verified`)
    },
    DEEP ? 60 * 60_000 : 120_000,
  )
})

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
