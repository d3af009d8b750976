/**
 * Support for verify-replay.test.ts and verify-corruption.test.ts: replays generated command sequences into a real
 * SQLite database through the app layer (the use cases, one transaction each; time through the worker's manual clock),
 * in lockstep with the pure model: after every step the outcome, the contracts, the balances and the timers must agree
 * with the model, and `verify` must find nothing wrong (SPEC §7).
 */
import { expect } from 'vitest'
import { contractCommand, disputeCommand, milestoneCommand } from '../../src/app/contracts.ts'
import { offerCommand, openOffer } from '../../src/app/offers.ts'
import { type VerifyReport, verify } from '../../src/app/verify.ts'
import type { Contract } from '../../src/domain/contract-model.ts'
import { DomainError } from '../../src/domain/errors.ts'
import { available, escrow, PLATFORM, pending, RAIL } from '../../src/domain/ledger.ts'
import type { Actor } from '../../src/domain/types.ts'
import { loadContract } from '../../src/store/repos/aggregate-repo.ts'
import { allBalances } from '../../src/store/repos/ledger-repo.ts'
import { num } from '../../src/store/schema.ts'
import { adminUser, advance, type TestEnv, user } from '../support/harness.ts'
import {
  describeCommand,
  type Outcome,
  type Party,
  PureModel,
  type Resolved,
  resolveStep,
  type Step,
  termsOf,
  type WorldSpec,
} from './model.ts'

export interface Person {
  readonly id: string
  readonly email: string
  readonly token: string
}

export interface Replay {
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

export const problemsOf = (r: VerifyReport) => `verify found:\n  ${r.problems.join('\n  ')}`

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
export async function replay(env: TestEnv, world: WorldSpec, steps: readonly Step[]): Promise<Replay> {
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
