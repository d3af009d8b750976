/**
 * The pure model: it applies resolved commands through the domain deciders, fires due timers in deadline order,
 * keeps an in-memory double-entry ledger (model-ledger.ts) and the timer table, and checks the movement of money
 * (model-movement.ts) and every invariant (model-invariants.ts) after each step.
 */
import { decideContract } from '../../src/domain/contract-commands.ts'
import { type Contract, createContract } from '../../src/domain/contract-model.ts'
import type { ContractDecision } from '../../src/domain/contract-work.ts'
import { decideDispute } from '../../src/domain/dispute-commands.ts'
import { DomainError } from '../../src/domain/errors.ts'
import { available, escrow, holdReleaseLines, RAIL } from '../../src/domain/ledger.ts'
import { decideMilestone } from '../../src/domain/milestone-commands.ts'
import { fee } from '../../src/domain/money.ts'
import { createOffer, decideOffer } from '../../src/domain/offer.ts'
import { validateTerms } from '../../src/domain/terms.ts'
import { type Actor, DAY_MS, type DecisionContext, type TimerSpec } from '../../src/domain/types.ts'
import { checkInvariants } from './model-invariants.ts'
import { lineOf, type MsBook, post } from './model-ledger.ts'
import { checkMovement } from './model-movement.ts'
import { describeCommand, type Party, type Resolved, resolveStep } from './model-resolve.ts'
import type { Step } from './model-steps.ts'
import { InvariantViolation } from './model-violation.ts'
import { MINIMUM_MAJOR, minBig, termsOf, type WorldSpec } from './model-world.ts'

export interface Outcome {
  readonly ok: boolean
  readonly code: string | null
}

export interface ModelOptions {
  /** check who may do what (SPEC §2): 404 for non-parties, 403 for the wrong role, never accepted for them */
  readonly checkAuth: boolean
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v)
    for (const x of Object.values(v)) deepFreeze(x)
  }
  return v
}

const stable = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x))

export const USERS = ['usr_a', 'usr_b', 'usr_c'] as const
export const STRANGER = 'usr_stranger'
export const ADMIN = 'usr_admin'

export interface ModelParties {
  readonly stranger: string
  readonly admin: string
}

export class PureModel {
  now: number
  readonly base: number
  contracts: Contract[]
  /** `${currency} ${account}` → balance */
  readonly ledger = new Map<string, bigint>()
  readonly timers = new Map<string, TimerSpec>()
  readonly books = new Map<string, MsBook>()
  readonly bonuses = new Map<string, bigint[]>()
  readonly trace: string[] = []
  readonly entryIds = new Set<string>()
  steps = 0
  accepted = 0
  timersFired = 0
  private seq = 0

  constructor(
    contracts: readonly Contract[],
    now: number,
    readonly parties: ModelParties,
    readonly opts: ModelOptions,
  ) {
    this.now = now
    this.base = now
    this.contracts = contracts.map((c) => deepFreeze(structuredClone(c)))
  }

  /** Builds a world through the pure offer deciders: an offer by one side, accepted by the other. */
  static fromSpec(world: WorldSpec, opts: ModelOptions, now = Date.UTC(2025, 0, 6, 9, 30)): PureModel {
    let seq = 0
    const newId = (p: string) => `${p}_w${++seq}`
    const contracts = world.contracts.map((spec) => {
      const clientId = USERS[spec.client]!
      const freelancerId = USERS[(spec.client + spec.freelancerOffset) % 3]!
      const terms = validateTerms(termsOf(spec, now), { minimumMajor: MINIMUM_MAJOR })
      const author = spec.authorIsClient ? clientId : freelancerId
      const other = spec.authorIsClient ? freelancerId : clientId
      const ctx = (id: string): DecisionContext => ({ now, actor: { kind: 'user', id }, newId })
      const offer = createOffer(
        { authorId: author, counterpartyId: other, role: spec.authorIsClient ? 'client' : 'freelancer', terms },
        ctx(author),
      )
      const accepted = decideOffer(offer.offer, { type: 'accept', revision: 1 }, ctx(other)).offer
      return createContract(
        {
          id: accepted.contractId!,
          offerId: accepted.id,
          clientId: accepted.clientId,
          freelancerId: accepted.freelancerId,
          terms,
          fees: { clientFeeBps: spec.clientFeeBps, serviceFeeBps: spec.serviceFeeBps },
        },
        ctx(other),
      ).contract
    })
    return new PureModel(contracts, now, { stranger: STRANGER, admin: ADMIN }, opts)
  }

  private newId = (prefix: string) => `${prefix}_m${++this.seq}`

  balance(currency: string, account: string): bigint {
    return this.ledger.get(`${currency} ${account}`) ?? 0n
  }

  /** Throws an InvariantViolation naming the rule, with the trace of the run so far. */
  fail(msg: string): never {
    throw new InvariantViolation(
      `${msg}\n  at t=+${((this.now - this.base) / DAY_MS).toFixed(3)}d; trace:\n    ${this.trace.slice(-60).join('\n    ')}`,
    )
  }

  private assert(cond: boolean, msg: () => string) {
    if (!cond) this.fail(msg())
  }

  actorOf(who: Party, c: Contract): Actor {
    if (who === 'client') return { kind: 'user', id: c.clientId }
    if (who === 'freelancer') return { kind: 'user', id: c.freelancerId }
    if (who === 'stranger') return { kind: 'user', id: this.parties.stranger }
    return { kind: 'admin', id: this.parties.admin }
  }

  /** Runs one step; returns the resolved command and its outcome (null when the step had no target). */
  step(step: Step): { resolved: Resolved; outcome: Outcome } | null {
    const r = resolveStep(step, this.contracts, this.base)
    if (!r) return null
    this.steps++
    if (r.kind === 'advance') {
      this.trace.push(describeCommand(r))
      this.advance(r.seconds)
      return { resolved: r, outcome: { ok: true, code: null } }
    }
    return { resolved: r, outcome: this.execute(r) }
  }

  execute(r: Exclude<Resolved, { kind: 'advance' }>): Outcome {
    const c = this.contracts[r.c]!
    const ctx: DecisionContext = { now: this.now, actor: this.actorOf(r.who, c), newId: this.newId }
    const credit = this.balance(c.currency, available(c.clientId))
    let d: ContractDecision
    try {
      if (r.kind === 'milestone') {
        const cmd = r.cmd.type === 'fund' || r.cmd.type === 'approve' ? { ...r.cmd, credit } : r.cmd
        d = decideMilestone(c, cmd, ctx)
      } else if (r.kind === 'dispute') {
        d = decideDispute(c, r.cmd, ctx)
      } else {
        d = decideContract(c, r.cmd, ctx)
      }
    } catch (e) {
      if (!(e instanceof DomainError)) {
        this.trace.push(`${describeCommand(r)} → THREW ${(e as Error).name}`)
        this.fail(`${describeCommand(r)} threw a non-domain error: ${(e as Error).stack ?? e}`)
      }
      this.trace.push(`${describeCommand(r)} → ${e.code}: ${e.message}`)
      if (this.opts.checkAuth) {
        if (r.expect === 'not_party')
          this.assert(
            e.code === 'resource_missing',
            () => `a non-party got ${e.code} instead of resource_missing (404)`,
          )
        if (r.expect === 'wrong_role')
          this.assert(
            e.code === 'actor_not_allowed',
            () => `the wrong role got ${e.code} instead of actor_not_allowed (403)`,
          )
      }
      // A rejected command changes nothing: the model keeps its state, ledger and timers as they were.
      this.check()
      return { ok: false, code: e.code }
    }
    this.trace.push(`${describeCommand(r)} → ok`)
    if (this.opts.checkAuth && r.expect !== 'allowed') {
      this.fail(`${describeCommand(r)} was accepted although the actor (${r.who}) may not do it (${r.expect})`)
    }
    this.accepted++
    this.apply(r.c, d, r)
    this.check()
    return { ok: true, code: null }
  }

  /** Applies a decision: journal entries (checked one by one), timers, the new contract state. */
  private apply(ci: number, d: ContractDecision, r: Resolved | null, timer: TimerSpec | null = null) {
    const c = this.contracts[ci]!
    const cur = c.currency
    this.assert(d.contract.id === c.id, () => 'a decision returned another contract')
    checkMovement(this, c, d, r, timer)
    const availBefore = this.balance(cur, available(c.clientId))
    let railIn = 0n
    for (const e of d.entries) {
      for (const l of e.lines) if (l.account === RAIL) railIn -= l.amount
      post(this, e, d.contract)
    }
    const charged = d.railCharges.reduce((s, x) => s + x.amount, 0n)
    this.assert(
      d.railCharges.every((x) => x.currency === cur && x.amount > 0n),
      () => `rail charges ${stable(d.railCharges)} are not positive amounts in ${cur}`,
    )
    this.assert(charged === railIn, () => `the rail is charged ${charged} but the entries take ${railIn} from ext:rail`)
    if (r?.kind === 'milestone' && r.cmd.type === 'fund') {
      // Credit first (SPEC §5): the client's available balance pays as much of the charge as it can.
      const total = d.entries
        .filter((e) => e.kind === 'fund')
        .reduce((s, e) => s + lineOf(e, escrow(e.milestoneId!)), 0n)
      const fromCredit = -d.entries
        .filter((e) => e.kind === 'fund')
        .reduce((s, e) => s + lineOf(e, available(c.clientId)), 0n)
      const want = minBig(availBefore, total)
      this.assert(
        fromCredit === want,
        () => `fund used ${fromCredit} of credit ${availBefore} for a charge of ${total}; expected ${want}`,
      )
    }
    if (r?.kind === 'milestone' && r.cmd.type === 'approve' && r.cmd.bonus !== null) {
      const b = r.cmd.bonus
      const bonusEntries = d.entries.filter((e) => e.kind === 'bonus')
      this.assert(bonusEntries.length === 1, () => `a bonus of ${b} posted ${bonusEntries.length} bonus entries`)
      const e = bonusEntries[0]!
      const charge = b + fee(b, c.clientFeeBps)
      const fromCredit = -lineOf(e, available(c.clientId))
      const want = minBig(availBefore, charge)
      this.assert(
        fromCredit === want,
        () => `bonus used ${fromCredit} of credit ${availBefore} for a charge of ${charge}; expected ${want}`,
      )
      const list = this.bonuses.get(r.cmd.milestoneId) ?? []
      this.bonuses.set(r.cmd.milestoneId, [...list, b])
    }
    for (const k of d.timers.cancel) this.timers.delete(k)
    for (const t of d.timers.set) {
      this.assert(t.runAt >= this.now, () => `timer ${t.key} set in the past (${t.runAt} < now ${this.now})`)
      this.assert(t.payload.contractId === c.id, () => `timer ${t.key} does not name its contract`)
      this.timers.set(t.key, t)
    }
    this.contracts[ci] = deepFreeze(d.contract)
  }

  /** Moves time to now + seconds, firing every timer due on the way in deadline order, each at its own deadline. */
  advance(seconds: number) {
    const target = this.now + seconds * 1000
    for (let n = 0; ; n++) {
      this.assert(n < 10_000, () => 'timers keep re-arming within one advance')
      let next: TimerSpec | undefined
      for (const t of this.timers.values()) {
        if (t.runAt <= target && (!next || t.runAt < next.runAt || (t.runAt === next.runAt && t.key < next.key)))
          next = t
      }
      if (!next) break
      this.now = Math.max(this.now, next.runAt)
      this.timers.delete(next.key)
      this.fire(next)
      this.check()
    }
    this.now = target
    this.check()
  }

  private fire(t: TimerSpec) {
    this.timersFired++
    if (t.kind === 'hold_release') {
      const p = t.payload
      this.trace.push(`  timer ${t.key} (${p.amount} ${p.currency} → available)`)
      post(
        this,
        {
          id: this.newId('je'),
          kind: 'hold_release',
          currency: p.currency!,
          lines: holdReleaseLines(p.userId!, BigInt(p.amount!)),
          memo: '',
          contractId: p.contractId ?? null,
          milestoneId: null,
        },
        null,
      )
      return
    }
    const ci = this.contracts.findIndex((c) => c.id === t.payload.contractId)
    this.assert(ci >= 0, () => `timer ${t.key} names no contract`)
    const c = this.contracts[ci]!
    let d: ContractDecision
    try {
      d = decideContract(
        c,
        { type: 'timer', timer: t },
        { now: this.now, actor: { kind: 'system' }, newId: this.newId },
      )
    } catch (e) {
      this.trace.push(`  timer ${t.key} → THREW`)
      return this.fail(`timer ${t.key} threw: ${(e as Error).stack ?? e}`)
    }
    const effects = d.events.length + d.entries.length + d.timers.set.length + d.timers.cancel.length
    this.trace.push(
      `  timer ${t.key}${effects ? ` → ${d.events.map((e) => e.type).join(', ') || 'timers'}` : ' (no-op)'}`,
    )
    if (!effects) {
      // The app saves nothing for a timer without effects, so such a timer must not change the state either.
      this.assert(
        stable(d.contract) === stable(c),
        () => `timer ${t.key} changed the contract without any effect (the change would be lost)`,
      )
      return
    }
    this.apply(ci, d, null, t)
  }

  /** Every invariant, on the whole state. */
  check() {
    checkInvariants(this)
  }

  /** What the run did, for the report. */
  stats() {
    const states = new Map<string, number>()
    for (const c of this.contracts) for (const m of c.milestones) states.set(m.state, (states.get(m.state) ?? 0) + 1)
    return { steps: this.steps, accepted: this.accepted, timers: this.timersFired, states }
  }
}
