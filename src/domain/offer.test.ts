import { describe, expect, it } from 'vitest'
import { createContract } from './contract-model.ts'
import { createOffer, currentRevision, decideOffer, OFFER_TTL_MS, type Offer, type OfferCommand } from './offer.ts'
import {
  CLIENT,
  codeOf,
  ctx,
  DAY,
  errorOf,
  FEES,
  FREELANCER,
  line,
  POLICY,
  STRANGER,
  SYSTEM,
  T0,
  terms,
} from './test-support.ts'

const T1 = terms()
const T2 = terms({ milestones: [line(120_000n)] })
const T3 = terms({ milestones: [line(110_000n)] })

/** An open offer by the freelancer to the client (revision 1). */
const opened = (now = T0) =>
  createOffer({ authorId: FREELANCER, counterpartyId: CLIENT, role: 'freelancer', terms: T1 }, ctx(FREELANCER, now))
    .offer

const decide = (o: Offer, cmd: OfferCommand, who: string, now = T0) => decideOffer(o, cmd, ctx(who, now))

describe('createOffer', () => {
  it('opens revision 1 authored by the opener, expiring in 14 days', () => {
    const d = createOffer(
      { authorId: FREELANCER, counterpartyId: CLIENT, role: 'freelancer', terms: T1 },
      ctx(FREELANCER),
    )
    const o = d.offer
    expect(o).toMatchObject({
      status: 'open',
      clientId: CLIENT,
      freelancerId: FREELANCER,
      contractId: null,
      createdAt: T0,
    })
    expect(o.id).toMatch(/^off_/)
    expect(o.expiresAt).toBe(T0 + 14 * DAY)
    expect(OFFER_TTL_MS).toBe(14 * DAY)
    expect(o.revisions).toEqual([{ revision: 1, authorId: FREELANCER, terms: T1, createdAt: T0 }])
    expect(d.events).toEqual([
      { type: 'offer.created', object: 'offer', objectId: o.id, audience: [CLIENT, FREELANCER] },
    ])
    expect(d.timers.set).toEqual([
      { key: `offer_expiry:${o.id}`, kind: 'offer_expiry', runAt: T0 + 14 * DAY, payload: { offerId: o.id } },
    ])
    expect([d.entries, d.railCharges, d.timers.cancel]).toEqual([[], [], []])
  })

  it('the role says which side the author is on', () => {
    const o = createOffer(
      { authorId: CLIENT, counterpartyId: FREELANCER, role: 'client', terms: T1 },
      ctx(CLIENT),
    ).offer
    expect([o.clientId, o.freelancerId, currentRevision(o).authorId]).toEqual([CLIENT, FREELANCER, CLIENT])
  })

  it('refuses an offer to oneself', () => {
    const fn = () => createOffer({ authorId: CLIENT, counterpartyId: CLIENT, role: 'client', terms: T1 }, ctx(CLIENT))
    expect(codeOf(fn)).toBe('counterparty_unknown')
  })
})

describe('counter', () => {
  it('adds revision 2 by the counterparty, flips authorship and re-sets the expiry to now + 14 days', () => {
    const o = opened()
    const at = T0 + 3 * DAY
    const d = decide(o, { type: 'counter', terms: T2, policy: POLICY }, CLIENT, at)
    expect(d.offer.status).toBe('open')
    expect(d.offer.revisions.map((r) => [r.revision, r.authorId])).toEqual([
      [1, FREELANCER],
      [2, CLIENT],
    ])
    expect(currentRevision(d.offer)).toEqual({ revision: 2, authorId: CLIENT, terms: T2, createdAt: at })
    expect(d.offer.revisions[0]!.terms).toBe(T1) // every revision is kept
    expect(d.offer.expiresAt).toBe(at + 14 * DAY)
    expect(d.offer.updatedAt).toBe(at)
    expect(d.events.map((e) => e.type)).toEqual(['offer.countered'])
    expect(d.timers.set).toEqual([
      { key: `offer_expiry:${o.id}`, kind: 'offer_expiry', runAt: at + 14 * DAY, payload: { offerId: o.id } },
    ])
  })

  it('the author of the current revision cannot counter it; the other side can counter back', () => {
    const o = opened()
    expect(codeOf(() => decide(o, { type: 'counter', terms: T2, policy: POLICY }, FREELANCER))).toBe(
      'actor_not_allowed',
    )
    const o2 = decide(o, { type: 'counter', terms: T2, policy: POLICY }, CLIENT).offer
    expect(codeOf(() => decide(o2, { type: 'counter', terms: T3, policy: POLICY }, CLIENT))).toBe('actor_not_allowed')
    const o3 = decide(o2, { type: 'counter', terms: T3, policy: POLICY }, FREELANCER).offer
    expect(currentRevision(o3)).toMatchObject({ revision: 3, authorId: FREELANCER, terms: T3 })
  })
})

describe('accept', () => {
  it('the counterparty accepts the current revision: accepted, contract id set, expiry timer cancelled', () => {
    const o = opened()
    const d = decide(o, { type: 'accept', revision: 1 }, CLIENT, T0 + DAY)
    expect(d.offer.status).toBe('accepted')
    expect(d.offer.contractId).toMatch(/^ctr_/)
    expect(d.offer.updatedAt).toBe(T0 + DAY)
    expect(d.events.map((e) => e.type)).toEqual(['offer.accepted'])
    expect(d.timers).toEqual({ set: [], cancel: [`offer_expiry:${o.id}`] })
  })

  it('the contract is created from exactly the accepted revision with the fees snapshotted', () => {
    const o2 = decide(opened(), { type: 'counter', terms: T2, policy: POLICY }, CLIENT).offer
    const accepted = decide(o2, { type: 'accept', revision: 2 }, FREELANCER).offer
    const t = currentRevision(accepted).terms
    const { contract, events } = createContract(
      {
        id: accepted.contractId!,
        offerId: accepted.id,
        clientId: accepted.clientId,
        freelancerId: accepted.freelancerId,
        terms: t,
        fees: FEES,
      },
      ctx(FREELANCER),
    )
    expect(contract).toMatchObject({
      id: accepted.contractId,
      offerId: o2.id,
      status: 'active',
      clientFeeBps: 500,
      serviceFeeBps: 1000,
    })
    expect(contract.milestones.map((m) => [m.amount, m.state, m.position])).toEqual([[120_000n, 'pending', 1]])
    expect(events.map((e) => e.type)).toEqual(['contract.created'])
  })

  it('a stale revision → offer_revision_stale', () => {
    const o2 = decide(opened(), { type: 'counter', terms: T2, policy: POLICY }, CLIENT).offer
    const e = errorOf(() => decide(o2, { type: 'accept', revision: 1 }, FREELANCER))
    expect([e.code, e.param, e.status]).toEqual(['offer_revision_stale', 'revision', 409])
    expect(codeOf(() => decide(o2, { type: 'accept', revision: 3 }, FREELANCER))).toBe('offer_revision_stale')
  })

  it('the author cannot accept their own revision', () => {
    const e = errorOf(() => decide(opened(), { type: 'accept', revision: 1 }, FREELANCER))
    expect([e.code, e.status]).toEqual(['actor_not_allowed', 403])
  })
})

describe('decline and withdraw', () => {
  it('the counterparty declines', () => {
    const o = opened()
    const d = decide(o, { type: 'decline' }, CLIENT)
    expect(d.offer.status).toBe('declined')
    expect(d.events.map((e) => e.type)).toEqual(['offer.declined'])
    expect(d.timers.cancel).toEqual([`offer_expiry:${o.id}`])
    expect(codeOf(() => decide(o, { type: 'decline' }, FREELANCER))).toBe('actor_not_allowed')
  })

  it('only the author withdraws', () => {
    const o = opened()
    expect(codeOf(() => decide(o, { type: 'withdraw' }, CLIENT))).toBe('actor_not_allowed')
    const d = decide(o, { type: 'withdraw' }, FREELANCER)
    expect(d.offer.status).toBe('withdrawn')
    expect(d.events.map((e) => e.type)).toEqual(['offer.withdrawn'])
    expect(d.timers.cancel).toEqual([`offer_expiry:${o.id}`])
    // after a counter, the author is the other side
    const o2 = decide(o, { type: 'counter', terms: T2, policy: POLICY }, CLIENT).offer
    expect(codeOf(() => decide(o2, { type: 'withdraw' }, FREELANCER))).toBe('actor_not_allowed')
    expect(decide(o2, { type: 'withdraw' }, CLIENT).offer.status).toBe('withdrawn')
  })
})

describe('expire', () => {
  it('does nothing before expiresAt', () => {
    const o = opened()
    const d = decide(o, { type: 'expire' }, SYSTEM, T0 + 14 * DAY - 1)
    expect(d.offer).toBe(o)
    expect([d.events, d.timers.set, d.timers.cancel]).toEqual([[], [], []])
  })

  it('expires at expiresAt', () => {
    const o = opened()
    const d = decide(o, { type: 'expire' }, SYSTEM, T0 + 14 * DAY)
    expect(d.offer.status).toBe('expired')
    expect(d.events.map((e) => e.type)).toEqual(['offer.expired'])
  })

  it('an offer past its expiry cannot be accepted, even before the expiry timer ran', () => {
    const o = opened()
    expect(codeOf(() => decide(o, { type: 'accept', revision: 1 }, CLIENT, T0 + 14 * DAY))).toBe(
      'invalid_state_transition',
    )
  })

  it('a counter pushes the expiry back', () => {
    const o2 = decide(opened(), { type: 'counter', terms: T2, policy: POLICY }, CLIENT, T0 + 10 * DAY).offer
    expect(decide(o2, { type: 'expire' }, SYSTEM, T0 + 14 * DAY).offer.status).toBe('open')
    expect(decide(o2, { type: 'expire' }, SYSTEM, T0 + 24 * DAY).offer.status).toBe('expired')
  })
})

describe('closed offers and strangers', () => {
  const closed = () => {
    const o = opened()
    return {
      accepted: decide(o, { type: 'accept', revision: 1 }, CLIENT).offer,
      declined: decide(o, { type: 'decline' }, CLIENT).offer,
      withdrawn: decide(o, { type: 'withdraw' }, FREELANCER).offer,
      expired: decide(o, { type: 'expire' }, SYSTEM, T0 + 15 * DAY).offer,
    }
  }

  it('every command on a closed offer → 409 invalid_state_transition naming the status', () => {
    for (const [status, o] of Object.entries(closed())) {
      expect(o.status).toBe(status)
      const cmds: OfferCommand[] = [
        { type: 'accept', revision: 1 },
        { type: 'decline' },
        { type: 'counter', terms: T2, policy: POLICY },
      ]
      for (const cmd of cmds) {
        const e = errorOf(() => decide(o, cmd, CLIENT))
        expect([e.code, e.status]).toEqual(['invalid_state_transition', 409])
        expect(e.message).toContain(`is ${status}`)
      }
      expect(codeOf(() => decide(o, { type: 'withdraw' }, FREELANCER))).toBe('invalid_state_transition')
      expect(codeOf(() => decide(o, { type: 'expire' }, SYSTEM, T0 + 30 * DAY))).toBe('invalid_state_transition')
    }
  })

  it('a stranger is told the offer does not exist, whatever the command or status', () => {
    const cmds: OfferCommand[] = [
      { type: 'accept', revision: 1 },
      { type: 'decline' },
      { type: 'withdraw' },
      { type: 'counter', terms: T2, policy: POLICY },
    ]
    for (const o of [opened(), ...Object.values(closed())]) {
      for (const cmd of cmds) {
        const e = errorOf(() => decide(o, cmd, STRANGER))
        expect([e.code, e.status]).toEqual(['resource_missing', 404])
      }
    }
  })
})
