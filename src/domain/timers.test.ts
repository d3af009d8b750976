/**
 * Timer scheduling and cancellation for every rule of SPEC §4–§7, decided by the pure deciders: what each command
 * puts in `timers.set` (key, kind, deadline, payload) and `timers.cancel`.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { decideContract } from './contract-commands.ts'
import { type Contract, createContract } from './contract-model.ts'
import { decideDispute } from './dispute-commands.ts'
import { decideMilestone } from './milestone-commands.ts'
import { fee } from './money.ts'
import { createOffer, decideOffer } from './offer.ts'
import type { MilestoneTerms, Terms } from './terms.ts'
import { type Actor, DAY_MS, type DecisionContext, type Effects, HOUR_MS, type TimerSpec } from './types.ts'

const CLIENT = 'usr_client'
const FREELANCER = 'usr_freelancer'
const ADMIN = 'usr_admin'
const T0 = Date.UTC(2025, 0, 10, 12, 0, 0)
const client: Actor = { kind: 'user', id: CLIENT }
const freelancer: Actor = { kind: 'user', id: FREELANCER }
const admin: Actor = { kind: 'admin', id: ADMIN }
const system: Actor = { kind: 'system' }
const FEES = { clientFeeBps: 500, serviceFeeBps: 1000 }

let n = 0
beforeEach(() => {
  n = 0
})
const ctx = (actor: Actor, now: number): DecisionContext => ({ now, actor, newId: (p) => `${p}_${++n}` })

function line(over: Partial<MilestoneTerms> = {}): MilestoneTerms {
  return {
    title: 'Stage',
    description: '',
    acceptanceCriteria: '',
    amount: 100_000n,
    dueDate: null,
    deposit: false,
    entries: null,
    ...over,
  }
}

function terms(over: Partial<Terms> = {}, lines: Partial<MilestoneTerms>[] = [{}]): Terms {
  return {
    title: 'Job',
    description: 'Work',
    currency: 'USD',
    paymentMode: 'by_milestone',
    reviewDays: 14,
    revisionLimit: 3,
    unitName: null,
    unitPrice: null,
    milestones: lines.map(line),
    ...over,
  }
}

function newContract(over: Partial<Terms> = {}, lines: Partial<MilestoneTerms>[] = [{}]): Contract {
  return createContract(
    {
      id: 'ctr_1',
      offerId: 'off_1',
      clientId: CLIENT,
      freelancerId: FREELANCER,
      terms: terms(over, lines),
      fees: FEES,
    },
    ctx(system, T0),
  ).contract
}

const msId = (c: Contract, i = 0) => c.milestones[i]!.id
const keys = (fx: Effects) => fx.timers.set.map((t) => t.key).sort()
const timer = (fx: Effects, key: string): TimerSpec | undefined => fx.timers.set.find((t) => t.key === key)
const setOf = (fx: Effects, kind: TimerSpec['kind']) => fx.timers.set.filter((t) => t.kind === kind)

function fund(c: Contract, now = T0, i = 0) {
  return decideMilestone(c, { type: 'fund', milestoneIds: [msId(c, i)], credit: 0n }, ctx(client, now))
}
function submit(c: Contract, now: number, i = 0) {
  return decideMilestone(
    c,
    { type: 'submit', milestoneId: msId(c, i), message: 'done', links: [], entries: null },
    ctx(freelancer, now),
  )
}
function requestChanges(c: Contract, now: number, i = 0) {
  return decideMilestone(c, { type: 'request_changes', milestoneId: msId(c, i), message: 'more' }, ctx(client, now))
}
function approve(c: Contract, now: number, over: { amount?: bigint; bonus?: bigint } = {}, i = 0) {
  return decideMilestone(
    c,
    {
      type: 'approve',
      milestoneId: msId(c, i),
      amount: over.amount ?? null,
      acceptedEntries: null,
      bonus: over.bonus ?? null,
      rest: 'refund',
      message: null,
      credit: 0n,
    },
    ctx(client, now),
  )
}
function requestRefund(c: Contract, now: number, i = 0) {
  return decideMilestone(c, { type: 'request_refund', milestoneId: msId(c, i), reason: 'not needed' }, ctx(client, now))
}
function openDispute(c: Contract, now: number, by: Actor, releaseAmount: bigint, i = 0) {
  return decideDispute(
    c,
    { type: 'open_dispute', milestoneId: msId(c, i), reason: 'disagree', releaseAmount },
    ctx(by, now),
  )
}
function fire(c: Contract, t: TimerSpec, now = t.runAt) {
  return decideContract(c, { type: 'timer', timer: t }, ctx(system, now))
}

/** A contract with its first milestone funded and submitted at `at`. */
function submitted(over: Partial<Terms> = {}, lines: Partial<MilestoneTerms>[] = [{}], at = T0 + HOUR_MS) {
  const funded = fund(newContract(over, lines)).contract
  return submit(funded, at)
}

const reviewKeys = (id: string) => [`auto_release:${id}`, `review_reminder:${id}:24h`, `review_reminder:${id}:72h`]

describe('review window: auto_release and reminders at submit', () => {
  it('sets auto_release at now + review_days and reminders 72 h and 24 h before it', () => {
    const at = T0 + HOUR_MS
    const d = submitted({ reviewDays: 14 }, [{}], at)
    const id = msId(d.contract)
    const deadline = at + 14 * DAY_MS
    expect(d.contract.milestones[0]!.state).toBe('submitted')
    expect(d.contract.milestones[0]!.reviewDeadline).toBe(deadline)
    expect(timer(d, `auto_release:${id}`)).toEqual({
      key: `auto_release:${id}`,
      kind: 'auto_release',
      runAt: deadline,
      payload: { contractId: 'ctr_1', milestoneId: id },
    })
    expect(timer(d, `review_reminder:${id}:72h`)).toEqual({
      key: `review_reminder:${id}:72h`,
      kind: 'review_reminder',
      runAt: deadline - 72 * HOUR_MS,
      payload: { contractId: 'ctr_1', milestoneId: id, hours: '72' },
    })
    expect(timer(d, `review_reminder:${id}:24h`)).toEqual({
      key: `review_reminder:${id}:24h`,
      kind: 'review_reminder',
      runAt: deadline - 24 * HOUR_MS,
      payload: { contractId: 'ctr_1', milestoneId: id, hours: '24' },
    })
    // nothing set is cancelled in the same decision
    for (const k of reviewKeys(id)) expect(d.timers.cancel).not.toContain(k)
  })

  it('review_days 1: no reminder falls inside the window (72 h before; 24 h before = the submission itself)', () => {
    const at = T0 + HOUR_MS
    const d = submitted({ reviewDays: 1 }, [{}], at)
    const id = msId(d.contract)
    expect(timer(d, `auto_release:${id}`)?.runAt).toBe(at + DAY_MS)
    expect(setOf(d, 'review_reminder')).toEqual([])
    // a skipped reminder is also cancelled, so none from an earlier window survives
    expect(d.timers.cancel).toContain(`review_reminder:${id}:72h`)
    expect(d.timers.cancel).toContain(`review_reminder:${id}:24h`)
  })

  it('review_days 2: the 72 h reminder is skipped, the 24 h one is set', () => {
    const at = T0 + HOUR_MS
    const d = submitted({ reviewDays: 2 }, [{}], at)
    const id = msId(d.contract)
    expect(setOf(d, 'review_reminder').map((t) => [t.key, t.runAt])).toEqual([
      [`review_reminder:${id}:24h`, at + DAY_MS],
    ])
  })

  it('review_days 3: the 72 h reminder would fall at the submission itself → skipped; 24 h set', () => {
    const at = T0 + HOUR_MS
    const d = submitted({ reviewDays: 3 }, [{}], at)
    const id = msId(d.contract)
    expect(timer(d, `review_reminder:${id}:72h`)).toBeUndefined()
    expect(d.timers.cancel).toContain(`review_reminder:${id}:72h`)
    expect(timer(d, `review_reminder:${id}:24h`)?.runAt).toBe(at + 2 * DAY_MS)
    expect(timer(d, `auto_release:${id}`)?.runAt).toBe(at + 3 * DAY_MS)
  })

  it('review_days 4: both reminders are set, each before the deadline and after the submission', () => {
    const at = T0 + HOUR_MS
    const d = submitted({ reviewDays: 4 }, [{}], at)
    const id = msId(d.contract)
    expect(timer(d, `review_reminder:${id}:72h`)?.runAt).toBe(at + DAY_MS)
    expect(timer(d, `review_reminder:${id}:24h`)?.runAt).toBe(at + 3 * DAY_MS)
    for (const t of setOf(d, 'review_reminder')) {
      expect(t.runAt).toBeGreaterThan(at)
      expect(t.runAt).toBeLessThan(at + 4 * DAY_MS)
    }
  })

  it('request_changes cancels auto_release and both reminders and clears the deadline', () => {
    const s = submitted({ reviewDays: 14 })
    const id = msId(s.contract)
    const d = requestChanges(s.contract, T0 + 2 * DAY_MS)
    expect(d.contract.milestones[0]!.state).toBe('changes_requested')
    expect(d.contract.milestones[0]!.reviewDeadline).toBeNull()
    for (const k of reviewKeys(id)) expect(d.timers.cancel).toContain(k)
    expect(setOf(d, 'auto_release')).toEqual([])
    expect(setOf(d, 'review_reminder')).toEqual([])
  })

  it('a resubmission restarts the whole window (same keys, new deadlines)', () => {
    const s = submitted({ reviewDays: 14 })
    const id = msId(s.contract)
    const changed = requestChanges(s.contract, T0 + 3 * DAY_MS).contract
    const again = T0 + 10 * DAY_MS
    const d = submit(changed, again)
    const deadline = again + 14 * DAY_MS
    expect(d.contract.milestones[0]!.reviewDeadline).toBe(deadline)
    expect(keys(d)).toEqual(reviewKeys(id))
    expect(timer(d, `auto_release:${id}`)?.runAt).toBe(deadline)
    expect(timer(d, `review_reminder:${id}:72h`)?.runAt).toBe(deadline - 72 * HOUR_MS)
    expect(timer(d, `review_reminder:${id}:24h`)?.runAt).toBe(deadline - 24 * HOUR_MS)
    expect(d.timers.cancel.filter((k) => reviewKeys(id).includes(k))).toEqual([])
  })

  it('a rework round (by_entry, rest "rework") also stops the clock; the next submit restarts it', () => {
    const f = fund(
      newContract({ paymentMode: 'by_entry', unitName: 'article', unitPrice: 10_000n }, [
        { amount: 30_000n, entries: 3 },
      ]),
    ).contract
    const s = submit(f, T0 + HOUR_MS).contract
    const id = msId(s)
    const rework = decideMilestone(
      s,
      {
        type: 'approve',
        milestoneId: id,
        amount: null,
        acceptedEntries: [1],
        bonus: null,
        rest: 'rework',
        message: null,
        credit: 0n,
      },
      ctx(client, T0 + DAY_MS),
    )
    expect(rework.contract.milestones[0]!.state).toBe('changes_requested')
    for (const k of reviewKeys(id)) expect(rework.timers.cancel).toContain(k)
    expect(setOf(rework, 'hold_release')).toHaveLength(1)
    const again = submit(rework.contract, T0 + 2 * DAY_MS)
    expect(timer(again, `auto_release:${id}`)?.runAt).toBe(T0 + 2 * DAY_MS + 14 * DAY_MS)
  })

  it.each([
    ['approve', (c: Contract, now: number) => approve(c, now)],
    [
      'refund by the freelancer',
      (c: Contract, now: number) =>
        decideMilestone(c, { type: 'refund', milestoneId: msId(c), reason: null }, ctx(freelancer, now)),
    ],
    ['a dispute by the client', (c: Contract, now: number) => openDispute(c, now, client, 0n)],
    ['a dispute by the freelancer', (c: Contract, now: number) => openDispute(c, now, freelancer, 100_000n)],
  ])('%s cancels auto_release and both reminders', (_name, command) => {
    const s = submitted({ reviewDays: 14 })
    const id = msId(s.contract)
    const d = command(s.contract, T0 + 2 * DAY_MS)
    for (const k of reviewKeys(id)) expect(d.timers.cancel).toContain(k)
    expect(setOf(d, 'auto_release')).toEqual([])
    expect(setOf(d, 'review_reminder')).toEqual([])
    expect(d.contract.milestones[0]!.reviewDeadline).toBeNull()
  })

  it('the auto_release timer releases the full escrow at the deadline and starts the hold', () => {
    const s = submitted({ reviewDays: 14 })
    const t = timer(s, `auto_release:${msId(s.contract)}`)!
    const d = fire(s.contract, t)
    expect(d.contract.milestones[0]!.state).toBe('released')
    expect(d.events.map((e) => e.type)).toContain('milestone.auto_released')
    const holds = setOf(d, 'hold_release')
    expect(holds).toHaveLength(1)
    expect(holds[0]!.runAt).toBe(t.runAt + 5 * DAY_MS)
    expect(holds[0]!.payload.amount).toBe(String(100_000n - fee(100_000n, 1000)))
  })

  it('timers that fire on a stale state change nothing (running twice is harmless)', () => {
    const s = submitted({ reviewDays: 14 })
    const id = msId(s.contract)
    const auto = timer(s, `auto_release:${id}`)!
    const reminder = timer(s, `review_reminder:${id}:24h`)!
    // the reminder fires inside the window: one event, no other effect
    const r = fire(s.contract, reminder)
    expect(r.events.map((e) => e.type)).toEqual(['milestone.review_reminder'])
    expect(r.entries).toEqual([])
    // after changes were requested, neither the reminder nor the auto-release does anything
    const changed = requestChanges(s.contract, T0 + DAY_MS).contract
    for (const t of [auto, reminder]) {
      const d = fire(changed, t)
      expect(d.events).toEqual([])
      expect(d.entries).toEqual([])
      expect(d.timers).toEqual({ set: [], cancel: [] })
    }
    // already released: a second auto_release run changes nothing
    const released = fire(s.contract, auto).contract
    const twice = fire(released, auto)
    expect(twice.events).toEqual([])
    expect(twice.entries).toEqual([])
  })
})

describe('refund_expiry (7 days)', () => {
  it('request_refund sets refund_expiry at now + 7 days and cancels dormancy', () => {
    const f = fund(newContract({}, [{ dueDate: '2025-02-01' }])).contract
    const now = T0 + DAY_MS
    const d = requestRefund(f, now)
    const m = d.contract.milestones[0]!
    const rr = d.contract.refundRequests[0]!
    expect(m.state).toBe('refund_requested')
    expect(rr.expiresAt).toBe(now + 7 * DAY_MS)
    expect(d.timers.set).toEqual([
      {
        key: `refund_expiry:${rr.id}`,
        kind: 'refund_expiry',
        runAt: now + 7 * DAY_MS,
        payload: { contractId: 'ctr_1', milestoneId: m.id, refundRequestId: rr.id },
      },
    ])
    expect(d.timers.cancel).toContain(`dormancy:${m.id}`)
  })

  it('a partial approve sets refund_expiry for the rest and a hold for the part released', () => {
    const s = submitted({ reviewDays: 14 })
    const id = msId(s.contract)
    const now = T0 + 2 * DAY_MS
    const d = approve(s.contract, now, { amount: 40_000n })
    const rr = d.contract.refundRequests[0]!
    expect(rr.amount).toBe(60_000n)
    expect(rr.source).toBe('partial_approve')
    expect(timer(d, `refund_expiry:${rr.id}`)?.runAt).toBe(now + 7 * DAY_MS)
    const holds = setOf(d, 'hold_release')
    expect(holds.map((h) => h.payload.amount)).toEqual([String(40_000n - fee(40_000n, 1000))])
    for (const k of reviewKeys(id)) expect(d.timers.cancel).toContain(k)
  })

  it('accept_refund cancels refund_expiry', () => {
    const r = requestRefund(fund(newContract()).contract, T0 + DAY_MS)
    const rr = r.contract.refundRequests[0]!
    const d = decideMilestone(
      r.contract,
      { type: 'accept_refund', refundRequestId: rr.id },
      ctx(freelancer, T0 + 2 * DAY_MS),
    )
    expect(d.contract.milestones[0]!.state).toBe('refunded')
    expect(d.timers.cancel).toContain(`refund_expiry:${rr.id}`)
    expect(d.timers.set).toEqual([])
  })

  it('decline_refund cancels refund_expiry and starts dispute_response (5 days)', () => {
    const r = requestRefund(fund(newContract()).contract, T0 + DAY_MS)
    const rr = r.contract.refundRequests[0]!
    const now = T0 + 2 * DAY_MS
    const d = decideMilestone(
      r.contract,
      { type: 'decline_refund', refundRequestId: rr.id, reason: null },
      ctx(freelancer, now),
    )
    const dsp = d.contract.disputes[0]!
    expect(d.timers.cancel).toContain(`refund_expiry:${rr.id}`)
    expect(d.timers.set).toEqual([
      {
        key: `dispute_response:${dsp.id}`,
        kind: 'dispute_response',
        runAt: now + 5 * DAY_MS,
        payload: { contractId: 'ctr_1', milestoneId: msId(d.contract), disputeId: dsp.id },
      },
    ])
  })

  it('a dispute opened on a refund request cancels its refund_expiry', () => {
    const r = requestRefund(fund(newContract()).contract, T0 + DAY_MS)
    const rr = r.contract.refundRequests[0]!
    const d = openDispute(r.contract, T0 + 2 * DAY_MS, freelancer, 100_000n)
    expect(d.timers.cancel).toContain(`refund_expiry:${rr.id}`)
    expect(setOf(d, 'dispute_response')).toHaveLength(1)
  })

  it('the refund_expiry timer refunds at 7 days, and not before', () => {
    const r = requestRefund(fund(newContract()).contract, T0 + DAY_MS)
    const t = r.timers.set[0]!
    expect(fire(r.contract, t, t.runAt - 1).entries).toEqual([])
    const d = fire(r.contract, t)
    expect(d.contract.milestones[0]!.state).toBe('refunded')
    expect(d.contract.refundRequests[0]!.status).toBe('expired')
  })

  it('ending the contract (client) turns a funded milestone into a refund request with its refund_expiry', () => {
    const f = fund(newContract()).contract
    const now = T0 + DAY_MS
    const d = decideContract(f, { type: 'end', reason: null }, ctx(client, now))
    const rr = d.contract.refundRequests[0]!
    expect(rr.source).toBe('contract_end')
    expect(timer(d, `refund_expiry:${rr.id}`)?.runAt).toBe(now + 7 * DAY_MS)
  })
})

describe('dispute_response (5 days) and dispute_negotiation (14 days)', () => {
  it('opening a dispute sets dispute_response at now + 5 days', () => {
    const f = fund(newContract()).contract
    const now = T0 + DAY_MS
    const d = openDispute(f, now, client, 0n)
    const dsp = d.contract.disputes[0]!
    expect(dsp.responseDeadline).toBe(now + 5 * DAY_MS)
    expect(timer(d, `dispute_response:${dsp.id}`)).toEqual({
      key: `dispute_response:${dsp.id}`,
      kind: 'dispute_response',
      runAt: now + 5 * DAY_MS,
      payload: { contractId: 'ctr_1', milestoneId: msId(f), disputeId: dsp.id },
    })
  })

  it('the other party answering cancels dispute_response and sets dispute_negotiation at now + 14 days', () => {
    const o = openDispute(fund(newContract()).contract, T0 + DAY_MS, client, 0n)
    const dsp = o.contract.disputes[0]!
    const now = T0 + 3 * DAY_MS
    const d = decideDispute(
      o.contract,
      { type: 'propose', disputeId: dsp.id, releaseAmount: 80_000n, message: 'most of it' },
      ctx(freelancer, now),
    )
    expect(d.contract.disputes[0]!.status).toBe('negotiation')
    expect(d.timers.cancel).toEqual([`dispute_response:${dsp.id}`])
    expect(d.timers.set).toEqual([
      {
        key: `dispute_negotiation:${dsp.id}`,
        kind: 'dispute_negotiation',
        runAt: now + 14 * DAY_MS,
        payload: { contractId: 'ctr_1', milestoneId: msId(o.contract), disputeId: dsp.id },
      },
    ])
  })

  it('a new proposal by the filer or the admin does not count as an answer (dispute_response stays)', () => {
    const o = openDispute(fund(newContract()).contract, T0 + DAY_MS, client, 0n)
    const dsp = o.contract.disputes[0]!
    const byFiler = decideDispute(
      o.contract,
      { type: 'propose', disputeId: dsp.id, releaseAmount: 10_000n, message: 'a bit' },
      ctx(client, T0 + 2 * DAY_MS),
    )
    expect(byFiler.contract.disputes[0]!.status).toBe('awaiting_response')
    expect(byFiler.timers).toEqual({ set: [], cancel: [] })
    const byAdmin = decideDispute(
      o.contract,
      { type: 'propose', disputeId: dsp.id, releaseAmount: 50_000n, message: 'half' },
      ctx(admin, T0 + 2 * DAY_MS),
    )
    expect(byAdmin.contract.disputes[0]!.status).toBe('awaiting_response')
    expect(byAdmin.timers).toEqual({ set: [], cancel: [] })
  })

  it('escalation cancels both dispute timers', () => {
    const o = openDispute(fund(newContract()).contract, T0 + DAY_MS, client, 0n)
    const dsp = o.contract.disputes[0]!
    const neg = decideDispute(
      o.contract,
      { type: 'propose', disputeId: dsp.id, releaseAmount: 80_000n, message: 'x' },
      ctx(freelancer, T0 + 2 * DAY_MS),
    )
    const d = decideDispute(neg.contract, { type: 'escalate', disputeId: dsp.id }, ctx(client, T0 + 3 * DAY_MS))
    expect(d.contract.disputes[0]!.status).toBe('arbitration')
    expect(d.timers.cancel).toEqual([`dispute_response:${dsp.id}`, `dispute_negotiation:${dsp.id}`])
    expect(d.timers.set).toEqual([])
  })

  it('an agreement cancels both dispute timers and holds the release', () => {
    const o = openDispute(fund(newContract()).contract, T0 + DAY_MS, client, 0n)
    const dsp = o.contract.disputes[0]!
    const neg = decideDispute(
      o.contract,
      { type: 'propose', disputeId: dsp.id, releaseAmount: 80_000n, message: 'x' },
      ctx(freelancer, T0 + 2 * DAY_MS),
    )
    const p = neg.contract.disputes[0]!.proposals.at(-1)!
    const now = T0 + 3 * DAY_MS
    const d = decideDispute(
      neg.contract,
      { type: 'accept_proposal', disputeId: dsp.id, proposalId: p.id },
      ctx(client, now),
    )
    expect(d.contract.disputes[0]!.status).toBe('resolved')
    expect(d.timers.cancel).toContain(`dispute_response:${dsp.id}`)
    expect(d.timers.cancel).toContain(`dispute_negotiation:${dsp.id}`)
    expect(setOf(d, 'hold_release').map((t) => [t.runAt, t.payload.amount])).toEqual([
      [now + 5 * DAY_MS, String(80_000n - fee(80_000n, 1000))],
    ])
  })

  it('the dispute_response timer applies the filer proposal by default; dispute_negotiation escalates at 14 days', () => {
    const o = openDispute(fund(newContract()).contract, T0 + DAY_MS, freelancer, 70_000n)
    const byDefault = fire(o.contract, o.timers.set[0]!)
    expect(byDefault.contract.disputes[0]!.resolution?.by).toBe('default')
    expect(byDefault.contract.milestones[0]!.released).toBe(70_000n)

    const dsp = o.contract.disputes[0]!
    const neg = decideDispute(
      o.contract,
      { type: 'propose', disputeId: dsp.id, releaseAmount: 20_000n, message: 'x' },
      ctx(client, T0 + 2 * DAY_MS),
    )
    const t = timer(neg, `dispute_negotiation:${dsp.id}`)!
    // the stale dispute_response timer does nothing once the dispute is in negotiation
    expect(fire(neg.contract, o.timers.set[0]!).events).toEqual([])
    const esc = fire(neg.contract, t)
    expect(esc.contract.disputes[0]!.status).toBe('arbitration')
  })
})

describe('offer_expiry (14 days)', () => {
  const offerTerms = terms()
  const open = (now = T0) =>
    createOffer({ authorId: CLIENT, counterpartyId: FREELANCER, role: 'client', terms: offerTerms }, ctx(client, now))

  it('is set on create at now + 14 days', () => {
    const d = open()
    expect(d.offer.expiresAt).toBe(T0 + 14 * DAY_MS)
    expect(d.timers).toEqual({
      set: [
        {
          key: `offer_expiry:${d.offer.id}`,
          kind: 'offer_expiry',
          runAt: T0 + 14 * DAY_MS,
          payload: { offerId: d.offer.id },
        },
      ],
      cancel: [],
    })
  })

  it('is re-set (same key, new deadline) on every counter', () => {
    const o = open().offer
    const c1 = decideOffer(o, { type: 'counter', terms: offerTerms }, ctx(freelancer, T0 + 3 * DAY_MS))
    expect(c1.timers.set).toEqual([
      { key: `offer_expiry:${o.id}`, kind: 'offer_expiry', runAt: T0 + 17 * DAY_MS, payload: { offerId: o.id } },
    ])
    expect(c1.offer.expiresAt).toBe(T0 + 17 * DAY_MS)
    const c2 = decideOffer(c1.offer, { type: 'counter', terms: offerTerms }, ctx(client, T0 + 10 * DAY_MS))
    expect(c2.timers.set.map((t) => [t.key, t.runAt])).toEqual([[`offer_expiry:${o.id}`, T0 + 24 * DAY_MS]])
    expect(c2.timers.cancel).toEqual([])
  })

  it.each([
    ['accept', { type: 'accept', revision: 1 } as const, freelancer],
    ['decline', { type: 'decline' } as const, freelancer],
    ['withdraw', { type: 'withdraw' } as const, client],
  ])('is cancelled on %s', (_name, cmd, actor) => {
    const o = open().offer
    const d = decideOffer(o, cmd, ctx(actor, T0 + DAY_MS))
    expect(d.timers).toEqual({ set: [], cancel: [`offer_expiry:${o.id}`] })
  })

  it('the expire timer expires only at the deadline (a counter moved it)', () => {
    const o = open().offer
    const countered = decideOffer(o, { type: 'counter', terms: offerTerms }, ctx(freelancer, T0 + 3 * DAY_MS)).offer
    const early = decideOffer(countered, { type: 'expire' }, ctx(system, T0 + 14 * DAY_MS))
    expect(early.offer).toBe(countered)
    expect(early.events).toEqual([])
    const late = decideOffer(countered, { type: 'expire' }, ctx(system, T0 + 17 * DAY_MS))
    expect(late.offer.status).toBe('expired')
  })
})

describe('hold_release (5 days, net amount) on every release and bonus', () => {
  it('a full approve holds the net of the release for 5 days', () => {
    const s = submitted()
    const now = T0 + 2 * DAY_MS
    const d = approve(s.contract, now)
    const release = d.entries.find((e) => e.kind === 'release')!
    expect(setOf(d, 'hold_release')).toEqual([
      {
        key: `hold_release:${release.id}`,
        kind: 'hold_release',
        runAt: now + 5 * DAY_MS,
        payload: { contractId: 'ctr_1', userId: FREELANCER, currency: 'USD', amount: '90000', entryId: release.id },
      },
    ])
  })

  it('a bonus gets its own hold (bonus less the service fee) beside the release hold', () => {
    const s = submitted()
    const now = T0 + 2 * DAY_MS
    const d = approve(s.contract, now, { bonus: 12_345n })
    const holds = setOf(d, 'hold_release')
    const bonusEntry = d.entries.find((e) => e.kind === 'bonus')!
    const releaseEntry = d.entries.find((e) => e.kind === 'release')!
    expect(holds.map((h) => [h.key, h.payload.amount, h.payload.entryId, h.runAt]).sort()).toEqual(
      [
        [`hold_release:${bonusEntry.id}`, String(12_345n - fee(12_345n, 1000)), bonusEntry.id, now + 5 * DAY_MS],
        [`hold_release:${releaseEntry.id}`, '90000', releaseEntry.id, now + 5 * DAY_MS],
      ].sort(),
    )
    // the held amount is exactly what the entry put into pending
    for (const h of holds) {
      const entry = d.entries.find((e) => e.id === h.payload.entryId)!
      const toPending = entry.lines.find((l) => l.account === `user:${FREELANCER}:pending`)!.amount
      expect(h.payload.amount).toBe(String(toPending))
    }
  })

  it('a deposit released at funding is held too, and gets no dormancy', () => {
    const c = newContract({}, [{ amount: 50_000n, deposit: true, dueDate: '2025-02-01' }, { amount: 50_000n }])
    const d = fund(c)
    expect(d.contract.milestones[0]!.state).toBe('released')
    expect(setOf(d, 'hold_release').map((h) => [h.runAt, h.payload.amount])).toEqual([
      [T0 + 5 * DAY_MS, String(50_000n - fee(50_000n, 1000))],
    ])
    expect(setOf(d, 'dormancy')).toEqual([])
  })

  it('every release across rounds has its own hold key', () => {
    const f = fund(
      newContract({ paymentMode: 'by_entry', unitName: 'article', unitPrice: 10_000n }, [
        { amount: 30_000n, entries: 3 },
      ]),
    ).contract
    const s1 = submit(f, T0 + HOUR_MS).contract
    const a1 = decideMilestone(
      s1,
      {
        type: 'approve',
        milestoneId: msId(s1),
        amount: null,
        acceptedEntries: [1],
        bonus: null,
        rest: 'rework',
        message: null,
        credit: 0n,
      },
      ctx(client, T0 + DAY_MS),
    )
    const s2 = submit(a1.contract, T0 + 2 * DAY_MS).contract
    const a2 = approve(s2, T0 + 3 * DAY_MS)
    const k1 = setOf(a1, 'hold_release').map((t) => t.key)
    const k2 = setOf(a2, 'hold_release').map((t) => t.key)
    expect(k1).toHaveLength(1)
    expect(k2).toHaveLength(1)
    expect(k1[0]).not.toBe(k2[0])
    expect(setOf(a2, 'hold_release')[0]!.payload.amount).toBe(String(20_000n - fee(20_000n, 1000)))
  })

  it('a release of 0 (dispute resolved as a full refund) sets no hold', () => {
    const o = openDispute(fund(newContract()).contract, T0 + DAY_MS, client, 0n)
    const d = fire(o.contract, o.timers.set[0]!)
    expect(d.contract.milestones[0]!.state).toBe('refunded')
    expect(setOf(d, 'hold_release')).toEqual([])
  })
})

describe('dormancy (due date passed and 90 days without activity)', () => {
  const dueEnd = Date.UTC(2025, 1, 1) + DAY_MS // end of 2025-02-01

  it('is set on fund when the milestone has a due date: at max(due date end, last activity + 90 days)', () => {
    // due soon: 90 days from the funding (the last activity) come after the due date
    const d = fund(newContract({}, [{ dueDate: '2025-02-01' }]))
    const id = msId(d.contract)
    expect(d.timers.set.filter((t) => t.kind === 'dormancy')).toEqual([
      {
        key: `dormancy:${id}`,
        kind: 'dormancy',
        runAt: Math.max(dueEnd, T0 + 90 * DAY_MS),
        payload: { contractId: 'ctr_1', milestoneId: id },
      },
    ])
    expect(setOf(d, 'dormancy')[0]!.runAt).toBe(T0 + 90 * DAY_MS)
    // due far ahead: the end of the due date
    const far = fund(newContract({}, [{ dueDate: '2025-12-31' }]))
    expect(setOf(far, 'dormancy')[0]!.runAt).toBe(Date.UTC(2026, 0, 1))
  })

  it('is not set on fund without a due date', () => {
    const d = fund(newContract())
    expect(setOf(d, 'dormancy')).toEqual([])
  })

  it('funded after the due date: 90 days from the funding (the last activity)', () => {
    const late = Date.UTC(2025, 2, 1)
    const d = fund(newContract({}, [{ dueDate: '2025-02-01' }]), late)
    expect(setOf(d, 'dormancy')[0]!.runAt).toBe(late + 90 * DAY_MS)
  })

  it('is cancelled on submit and set again when changes are requested', () => {
    const f = fund(newContract({}, [{ dueDate: '2025-02-01' }])).contract
    const id = msId(f)
    const s = submit(f, T0 + DAY_MS)
    expect(s.timers.cancel).toContain(`dormancy:${id}`)
    expect(setOf(s, 'dormancy')).toEqual([])
    const rc = requestChanges(s.contract, T0 + 2 * DAY_MS)
    expect(setOf(rc, 'dormancy').map((t) => t.key)).toEqual([`dormancy:${id}`])
  })

  it('a timer that falls due early (activity since) re-schedules; one that is due opens a refund request', () => {
    const funded = fund(newContract({}, [{ dueDate: '2025-02-01' }]))
    const f = funded.contract
    const t = setOf(funded, 'dormancy')[0]!
    // the milestone saw activity after the due date: the deadline moves
    const active = { ...f, milestones: [{ ...f.milestones[0]!, lastActivityAt: dueEnd + 10 * DAY_MS }] }
    const moved = fire(active, t)
    expect(moved.events).toEqual([])
    expect(setOf(moved, 'dormancy').map((x) => x.runAt)).toEqual([dueEnd + 100 * DAY_MS])
    const due = fire(f, t)
    expect(due.events.map((e) => e.type)).toContain('milestone.dormant')
    const rr = due.contract.refundRequests[0]!
    expect(rr.source).toBe('dormancy')
    expect(timer(due, `refund_expiry:${rr.id}`)?.runAt).toBe(t.runAt + 7 * DAY_MS)
  })
})
