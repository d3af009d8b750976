/**
 * Resolution for the model-based tests: an abstract step becomes a concrete domain command on the contracts as they
 * are now, together with what SPEC §2/§5 expects of the actor who sends it.
 */
import type { ContractCommand } from '../../src/domain/contract-commands.ts'
import type { Contract, Milestone, MilestoneState } from '../../src/domain/contract-model.ts'
import type { DisputeCommand } from '../../src/domain/dispute-commands.ts'
import type { MilestoneCommand } from '../../src/domain/milestone-commands.ts'
import { minimumMilestone } from '../../src/domain/money.ts'
import type { MilestoneInput } from '../../src/domain/terms.ts'
import type { Frac, Side, Step, Who } from './model-steps.ts'
import { dueDate, MINIMUM_MAJOR } from './model-world.ts'

export type Party = 'client' | 'freelancer' | 'stranger' | 'admin'
/**
 * What SPEC §2/§5 says about this actor for this command: `allowed`; `wrong_role` (a party of the other role, or the
 * admin where only parties act: 403 actor_not_allowed); `not_party` (404 resource_missing); `self` (a party who may
 * not answer its own proposal or amendment, or withdraw the other's: refused).
 */
export type Expectation = 'allowed' | 'wrong_role' | 'not_party' | 'self'

export type Resolved =
  | { readonly kind: 'advance'; readonly seconds: number }
  | {
      readonly kind: 'milestone'
      readonly c: number
      readonly who: Party
      readonly cmd: MilestoneCommand
      readonly expect: Expectation
    }
  | {
      readonly kind: 'dispute'
      readonly c: number
      readonly who: Party
      readonly cmd: DisputeCommand
      readonly expect: Expectation
    }
  | {
      readonly kind: 'contract'
      readonly c: number
      readonly who: Party
      readonly cmd: ContractCommand
      readonly expect: Expectation
    }

const at = <T>(list: readonly T[], i: number): T | undefined => (list.length ? list[i % list.length] : undefined)

function candidates(c: Contract, states: readonly MilestoneState[], smart: boolean): readonly Milestone[] {
  if (!smart) return c.milestones
  const f = c.milestones.filter((m) => states.includes(m.state))
  return f.length ? f : c.milestones
}

export function fracOf(f: Frac, whole: bigint): bigint {
  if (f === 'all') return whole
  if (f === 'zero') return 0n
  if (f === 'one') return whole > 0n ? 1n : 0n
  if (f === 'over') return whole + 1n
  return (whole * BigInt(f)) / 10_000n
}

export const openEntries = (m: Milestone) =>
  Array.from({ length: m.entries ?? 0 }, (_, i) => i + 1).filter((n) => !m.acceptedEntries.includes(n))

function pickEntries(m: Milestone, picks: readonly number[] | null): number[] | null {
  if (picks === null) return null
  const open = openEntries(m)
  if (!open.length) return null
  return [...new Set(picks.map((i) => open[i % open.length]!))]
}

function roleExpect(who: Party, allowed: readonly Party[]): Expectation {
  if (who === 'stranger') return 'not_party'
  return allowed.includes(who) ? 'allowed' : 'wrong_role'
}

const auto = (who: Who, dflt: Party): Party => (who === 'auto' ? dflt : who)

const STEP_STATES: Partial<Record<Step['t'], readonly MilestoneState[]>> = {
  fund: ['pending'],
  submit: ['funded', 'changes_requested'],
  request_changes: ['submitted'],
  request_refund: ['funded', 'changes_requested'],
  refund: ['funded', 'submitted', 'changes_requested'],
  approve: ['funded', 'submitted', 'changes_requested'],
  answer_refund: ['refund_requested'],
  open_dispute: ['funded', 'submitted', 'changes_requested', 'refund_requested'],
}

/** The contract a step aims at: a smart step picks among the contracts where it can act. */
function focus(step: Exclude<Step, { t: 'advance' }>, contracts: readonly Contract[]): number {
  const all = contracts.map((_, i) => i)
  if ('smart' in step && !step.smart) return step.c % contracts.length
  const states = STEP_STATES[step.t]
  const can = (c: Contract): boolean => {
    if (states) return c.milestones.some((m) => states.includes(m.state))
    switch (step.t) {
      case 'propose':
      case 'accept_proposal':
      case 'escalate':
        return c.disputes.some((d) => d.status === 'awaiting_response' || d.status === 'negotiation')
      case 'decide':
        return c.disputes.some((d) => d.status === 'arbitration')
      case 'answer_amendment':
        return c.amendments.some((a) => a.status === 'proposed')
      default:
        return c.status === 'active'
    }
  }
  const eligible = all.filter((i) => can(contracts[i]!))
  return (eligible.length ? eligible : all)[step.c % (eligible.length || all.length)]!
}

/** Resolves a step against the contracts as they are now; null when there is nothing to aim at. */
export function resolveStep(step: Step, contracts: readonly Contract[], base: number): Resolved | null {
  if (step.t === 'advance') return { kind: 'advance', seconds: step.seconds }
  const ci = focus(step, contracts)
  const c = contracts[ci]!
  const ms = (m: number, states: readonly MilestoneState[], smart: boolean) => at(candidates(c, states, smart), m)
  const milestone = (who: Party, allowed: readonly Party[], cmd: MilestoneCommand): Resolved => ({
    kind: 'milestone',
    c: ci,
    who,
    cmd,
    expect: roleExpect(who, allowed),
  })
  switch (step.t) {
    case 'fund': {
      const list = candidates(c, ['pending'], step.smart)
      const ids = [...new Set(step.ms.map((i) => list[i % list.length]!.id))]
      return milestone(auto(step.who, 'client'), ['client'], { type: 'fund', milestoneIds: ids, credit: 0n })
    }
    case 'submit': {
      const m = ms(step.m, ['funded', 'changes_requested'], step.smart)!
      const entries = c.paymentMode === 'by_entry' ? pickEntries(m, step.entries) : null
      return milestone(auto(step.who, 'freelancer'), ['freelancer'], {
        type: 'submit',
        milestoneId: m.id,
        message: 'done',
        links: [],
        entries,
      })
    }
    case 'request_changes': {
      const m = ms(step.m, ['submitted'], step.smart)!
      return milestone(auto(step.who, 'client'), ['client'], {
        type: 'request_changes',
        milestoneId: m.id,
        message: 'please fix',
      })
    }
    case 'request_refund': {
      const m = ms(step.m, ['funded', 'changes_requested'], step.smart)!
      return milestone(auto(step.who, 'client'), ['client'], {
        type: 'request_refund',
        milestoneId: m.id,
        reason: 'no longer needed',
      })
    }
    case 'refund': {
      const m = ms(step.m, ['funded', 'submitted', 'changes_requested'], step.smart)!
      return milestone(auto(step.who, 'freelancer'), ['freelancer'], {
        type: 'refund',
        milestoneId: m.id,
        reason: null,
      })
    }
    case 'approve': {
      const m = ms(step.m, ['funded', 'submitted', 'changes_requested'], step.smart)!
      const byEntry = c.paymentMode === 'by_entry'
      return milestone(auto(step.who, 'client'), ['client'], {
        type: 'approve',
        milestoneId: m.id,
        amount: byEntry || step.amount === null ? null : fracOf(step.amount, m.escrow),
        acceptedEntries: byEntry ? pickEntries(m, step.entries) : null,
        bonus: step.bonus,
        rest: byEntry ? step.rest : 'refund',
        message: null,
        credit: 0n,
      })
    }
    case 'answer_refund': {
      const m = ms(step.m, ['refund_requested'], step.smart)!
      const rrId =
        m.state === 'refund_requested' && m.refundRequestId ? m.refundRequestId : at(c.refundRequests, step.m)?.id
      if (!rrId) return null
      const who = auto(step.who, 'freelancer')
      return milestone(
        who,
        ['freelancer'],
        step.accept
          ? { type: 'accept_refund', refundRequestId: rrId }
          : { type: 'decline_refund', refundRequestId: rrId, reason: null },
      )
    }
    case 'open_dispute': {
      const m = ms(step.m, ['funded', 'submitted', 'changes_requested', 'refund_requested'], step.smart)!
      const who = auto(step.who, step.side)
      const cmd: DisputeCommand = {
        type: 'open_dispute',
        milestoneId: m.id,
        reason: 'disagree',
        releaseAmount: fracOf(step.release, m.escrow),
      }
      return { kind: 'dispute', c: ci, who, cmd, expect: roleExpect(who, ['client', 'freelancer']) }
    }
    case 'propose':
    case 'accept_proposal':
    case 'escalate':
    case 'decide': {
      const open = c.disputes.filter((d) =>
        step.t === 'decide'
          ? d.status === 'arbitration'
          : d.status === 'awaiting_response' || d.status === 'negotiation',
      )
      const d = at(step.smart && open.length ? open : c.disputes, step.d)
      if (!d) return null
      const opener: Side = d.openedBy === c.clientId ? 'client' : 'freelancer'
      const other: Side = opener === 'client' ? 'freelancer' : 'client'
      if (step.t === 'propose') {
        const who = auto(step.who, step.side === 'admin' ? 'admin' : step.side === 'opener' ? opener : other)
        const cmd: DisputeCommand = {
          type: 'propose',
          disputeId: d.id,
          releaseAmount: fracOf(step.release, d.escrowAmount),
          message: 'counter',
        }
        return { kind: 'dispute', c: ci, who, cmd, expect: roleExpect(who, ['client', 'freelancer', 'admin']) }
      }
      if (step.t === 'accept_proposal') {
        const props = d.proposals.filter((p) => p.status === 'open')
        const p = at(step.smart && props.length ? props : d.proposals, step.p)!
        const idOf = (s: Side) => (s === 'client' ? c.clientId : c.freelancerId)
        const notYet = (['client', 'freelancer'] as const).filter((s) => !p.acceptedBy.includes(idOf(s)))
        const who = auto(step.who, notYet[0] ?? other)
        let expect = roleExpect(who, ['client', 'freelancer'])
        if (expect === 'allowed' && p.by === idOf(who as Side)) expect = 'self'
        return {
          kind: 'dispute',
          c: ci,
          who,
          cmd: { type: 'accept_proposal', disputeId: d.id, proposalId: p.id },
          expect,
        }
      }
      if (step.t === 'escalate') {
        const who = auto(step.who, step.side)
        return {
          kind: 'dispute',
          c: ci,
          who,
          cmd: { type: 'escalate', disputeId: d.id },
          expect: roleExpect(who, ['client', 'freelancer']),
        }
      }
      const who = auto(step.who, 'admin')
      const cmd: DisputeCommand = {
        type: 'decide',
        disputeId: d.id,
        releaseAmount: fracOf(step.release, d.escrowAmount),
        note: 'decided',
      }
      return { kind: 'dispute', c: ci, who, cmd, expect: roleExpect(who, ['admin']) }
    }
    case 'end': {
      const who = auto(step.who, step.side)
      return {
        kind: 'contract',
        c: ci,
        who,
        cmd: { type: 'end', reason: null },
        expect: roleExpect(who, ['client', 'freelancer']),
      }
    }
    case 'amend': {
      const who = auto(step.who, step.side)
      const min = minimumMilestone(c.currency, MINIMUM_MAJOR)
      const byEntry = c.paymentMode === 'by_entry'
      const pendingOnes = candidates(c, ['pending'], step.smart)
      const add: MilestoneInput[] = step.add.map((a, i) => ({
        title: `Added ${i + 1}`,
        description: '',
        acceptanceCriteria: '',
        amount: byEntry ? null : a.belowMin ? min - 1n : min + a.extra,
        dueDate: dueDate(base, a.dueInDays),
        deposit: false,
        entries: byEntry ? a.entries : null,
      }))
      const edit = step.edit.map((e) => {
        const m = pendingOnes[e.m % pendingOnes.length]!
        if (e.what === 'title') return { milestoneId: m.id, title: 'Edited' }
        if (e.what === 'due') return { milestoneId: m.id, dueDate: dueDate(base, e.dueInDays) }
        return byEntry ? { milestoneId: m.id, entries: e.entries } : { milestoneId: m.id, amount: min + e.extra }
      })
      const remove = [...new Set(step.remove.map((i) => pendingOnes[i % pendingOnes.length]!.id))]
      const cmd: ContractCommand = { type: 'propose_amendment', add, edit, remove, minimumMajor: MINIMUM_MAJOR }
      return { kind: 'contract', c: ci, who, cmd, expect: roleExpect(who, ['client', 'freelancer']) }
    }
    case 'answer_amendment': {
      const proposed = c.amendments.filter((a) => a.status === 'proposed')
      const a = at(step.smart && proposed.length ? proposed : c.amendments, step.a)
      if (!a) return null
      const author: Side = a.proposedBy === c.clientId ? 'client' : 'freelancer'
      const other: Side = author === 'client' ? 'freelancer' : 'client'
      const who = auto(step.who, step.verb === 'withdraw' ? author : other)
      let expect = roleExpect(who, ['client', 'freelancer'])
      if (expect === 'allowed' && (step.verb === 'withdraw' ? who !== author : who === author)) expect = 'self'
      return { kind: 'contract', c: ci, who, cmd: { type: `${step.verb}_amendment`, amendmentId: a.id }, expect }
    }
    default:
      return step satisfies never
  }
}

/** A short human-readable form of a resolved command, for traces. */
export function describeCommand(r: Resolved): string {
  if (r.kind === 'advance') return `advance ${r.seconds}s (${(r.seconds / 86_400).toFixed(2)}d)`
  const show = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x))
  const { type, ...rest } = r.cmd as { type: string } & Record<string, unknown>
  delete rest.credit
  return `c${r.c} ${r.who} ${type} ${show(rest)}`
}
