/**
 * Timer scheduling and cancellation, decided by the pure deciders: what each command puts in `timers.set` (key, kind,
 * deadline, payload) and `timers.cancel` — the review window and refund requests (SPEC §4–§5).
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { decideContract } from './contract-commands.ts'
import type { Contract } from './contract-model.ts'
import { decideMilestone } from './milestone-commands.ts'
import { fee } from './money.ts'
import {
  approve,
  client,
  ctx,
  fire,
  freelancer,
  fund,
  keys,
  msId,
  newContract,
  openDispute,
  requestChanges,
  requestRefund,
  resetIds,
  reviewKeys,
  setOf,
  submit,
  submitted,
  T0,
  timer,
} from './timer-test-support.ts'
import { DAY_MS, HOUR_MS } from './types.ts'

beforeEach(resetIds)

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
