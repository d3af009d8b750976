/**
 * An Idempotency-Key racing with itself (SPEC §10 Idempotency-Key "same key while the first is in flight → 409
 * idempotency_key_in_use"), among the races on one milestone (the `describe` of races-one-milestone.test.ts, on the
 * same servers, with the same helpers from races-support.ts).
 *
 * The same keyed request — an offer, a fund, a payout of a third of the balance — is fired at the same moment by every
 * racer and takes effect once: every answer is the one response (2xx, identical bodies, at most one not a replay) or
 * 409 idempotency_key_in_use; the database holds one offer, one fund entry, one more payout; afterwards the key
 * replays. No user balance is ever negative, and `verify` is ok.
 *
 * - SQLite: the in-process server of the test harness (runtime A) only: the keyed requests all go to it (same
 *   server), since one server process serves a SQLite file and claims the keys in flight in its memory.
 * - PostgreSQL (TRANCHE_TEST_DATABASE_URL): three `tranche serve` processes on one database (a fresh schema), started
 *   at the same moment (three servers migrating one database); the keyed requests go once all to the first (same
 *   server), once spread over the three (different servers).
 *
 * CI: 3 rounds of 4 racers per race; TRANCHE_DEEP=1: 20 rounds of 8.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import {
  type Acct,
  BACKENDS,
  type Backend,
  N,
  ROUNDS,
  raceBed,
  summary,
  type Target,
  TEST_MS,
} from './races-support.ts'
import { errorCode, key, type Res } from './support.ts'

describe.each(BACKENDS)('races on one milestone on %s', (kind) => {
  // on SQLite every keyed request goes to one server (the keys in flight are claimed in its memory)
  const bed = raceBed(kind, { sqliteAlone: true })
  const { available, contract, countPayouts, credit, entries, noNegativeBalance, race, verifyOk } = bed
  let b: Backend
  let c: Acct
  let f: Acct
  let t0: Target
  beforeAll(() => {
    ;({ b, t0, c, f } = bed)
  })

  describe('an Idempotency-Key racing with itself', () => {
    /** Every answer is the one response (2xx, identical bodies) or 409 idempotency_key_in_use. */
    function oneResponse(rs: Res[], status: number, what: string) {
      const answered = rs.filter((r) => r.status === status)
      expect(answered.length, `${what}: ${summary(rs)}`).toBeGreaterThan(0)
      for (const r of rs)
        if (r.status !== status) expect(errorCode(r), `${what}: ${r.text}`).toBe('idempotency_key_in_use')
      expect(new Set(answered.map((r) => r.text)).size, `${what}: different bodies`).toBe(1)
      expect(answered.filter((r) => !r.replayed).length, `${what}: more than one first answer`).toBeLessThanOrEqual(1)
      return answered[0]!.body
    }

    const spreads = kind === 'postgres' ? (['same server', 'different servers'] as const) : (['same server'] as const)

    for (const spread of spreads) {
      const at = (i: number) => (spread === 'same server' ? t0 : b.targets[i % b.targets.length]!)

      it(
        `offers, funds and payouts: one effect (${spread})`,
        async () => {
          for (let round = 0; round < ROUNDS; round++) {
            // an offer: nothing but the key stops a second one
            const title = `Keyed offer ${key('t')}`
            const k1 = key('offer')
            const body = {
              role: 'client',
              counterparty_email: f.email,
              title,
              currency: 'USD',
              payment_mode: 'by_milestone',
              milestones: [{ title: 'One', amount: 50_000 }],
            }
            const offers = await race(
              Array.from({ length: N }, (_, i) => ({
                path: '/v1/offers',
                token: c.token,
                body,
                idem: k1,
                target: at(i),
              })),
            )
            const offer = oneResponse(offers, 201, 'keyed offer')
            const rows = await b.store.db
              .selectFrom('offers')
              .select(['id', 'data'])
              .where('client_id', '=', c.id)
              .execute()
            expect(rows.filter((r) => r.data.includes(title)).map((r) => r.id)).toEqual([offer.id])

            // a fund
            const { ids } = await contract()
            const k2 = key('fund')
            const funds = await race(
              Array.from({ length: N }, (_, i) => ({
                path: `/v1/milestones/${ids[0]}/fund`,
                token: c.token,
                idem: k2,
                target: at(i),
              })),
            )
            expect(oneResponse(funds, 200, 'keyed fund').state).toBe('funded')
            expect(await entries(ids[0]!)).toEqual({ fund: 1 })

            // a payout of a third of the balance: only the key stops a second and a third
            await credit()
            const have = await available(c)
            const third = have / 3n
            const before = await countPayouts(c)
            const k3 = key('payout')
            const payouts = await race(
              Array.from({ length: N }, (_, i) => ({
                path: '/v1/payouts',
                token: c.token,
                body: { amount: Number(third), currency: 'USD' },
                idem: k3,
                target: at(i),
              })),
            )
            oneResponse(payouts, 201, 'keyed payout')
            expect(await countPayouts(c)).toBe(before + 1)
            expect(await available(c)).toBe(have - third)

            // afterwards the key replays
            const again = await at(1).call('POST', '/v1/payouts', {
              token: c.token,
              body: { amount: Number(third), currency: 'USD' },
              idem: k3,
            })
            expect([again.status, again.replayed]).toEqual([201, true])
            await noNegativeBalance()
          }
          await verifyOk()
        },
        TEST_MS,
      )
    }
  })
})
