/**
 * Timer scheduling and cancellation, decided by the pure deciders: disputes, offer expiry and holds on released money
 * (SPEC §6–§7).
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { decideDispute } from './dispute-commands.ts'
import { decideMilestone } from './milestone-commands.ts'
import { fee } from './money.ts'
import { createOffer, decideOffer } from './offer.ts'
import { POLICY } from './test-support.ts'
import {
  admin,
  approve,
  CLIENT,
  client,
  ctx,
  FREELANCER,
  fire,
  freelancer,
  fund,
  msId,
  newContract,
  openDispute,
  requestChanges,
  resetIds,
  setOf,
  submit,
  submitted,
  system,
  T0,
  terms,
  timer,
} from './timer-test-support.ts'
import { DAY_MS, HOUR_MS } from './types.ts'

beforeEach(resetIds)

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
    const c1 = decideOffer(o, { type: 'counter', terms: offerTerms, policy: POLICY }, ctx(freelancer, T0 + 3 * DAY_MS))
    expect(c1.timers.set).toEqual([
      { key: `offer_expiry:${o.id}`, kind: 'offer_expiry', runAt: T0 + 17 * DAY_MS, payload: { offerId: o.id } },
    ])
    expect(c1.offer.expiresAt).toBe(T0 + 17 * DAY_MS)
    const c2 = decideOffer(
      c1.offer,
      { type: 'counter', terms: offerTerms, policy: POLICY },
      ctx(client, T0 + 10 * DAY_MS),
    )
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
    const countered = decideOffer(
      o,
      { type: 'counter', terms: offerTerms, policy: POLICY },
      ctx(freelancer, T0 + 3 * DAY_MS),
    ).offer
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

  it('a stored due date that is no day of the calendar counts from the last activity, never as no time', () => {
    const d = fund(newContract({}, [{ dueDate: '2025-13-01' }]))
    expect(setOf(d, 'dormancy')[0]!.runAt).toBe(T0 + 90 * DAY_MS)
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
