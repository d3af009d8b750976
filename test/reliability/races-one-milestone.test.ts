/**
 * Races on ONE milestone (SPEC §5 "every accepted command is one database transaction", §7 "more than available →
 * 409 insufficient_funds").
 *
 * Each race fires conflicting commands at the same moment and checks that exactly one took effect — in the answers
 * (one 2xx, the others 409 with the fitting code), in the state read back, and in the database (journal entries,
 * events, payouts, disputes, amendments) — that no user balance is ever negative, and that `verify` is ok.
 *
 * - SQLite: the in-process server of the test harness (runtime A), a second in-process runtime with its own
 *   connection and group commit on the same database file (runtime B), and a `tranche serve` process on that file
 *   (C); racing requests go to A, C, B in turn, so each race is fought inside one group-commit batch and across
 *   connections. (A and B share one event loop and better-sqlite3 is synchronous, so a group-commit transaction of
 *   one hardly ever yields to the other; C's transactions truly overlap theirs.)
 * - PostgreSQL (TRANCHE_TEST_DATABASE_URL): three `tranche serve` processes on one database (a fresh schema), started
 *   at the same moment (three servers migrating one database), the racing requests spread over them.
 *
 * The servers and the helpers are in races-support.ts; an Idempotency-Key racing with itself is in
 * races-idempotency-key.test.ts, the payment rail under races in races-payment-rail.test.ts.
 *
 * CI: 3 rounds of 4 racers per race; TRANCHE_DEEP=1: 20 rounds of 8.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { balanceOf } from '../../src/store/repos/ledger-repo.ts'
import { big } from '../../src/store/schema.ts'
import { type Acct, BACKENDS, type Backend, type Body, N, ROUNDS, raceBed, summary, TEST_MS } from './races-support.ts'
import { CLIENT_FEE, errorCode, NET, rand } from './support.ts'

describe.each(BACKENDS)('races on one milestone on %s', (kind) => {
  const bed = raceBed(kind)
  const {
    amount,
    available,
    contract,
    countPayouts,
    credit,
    entries,
    events,
    fund,
    get,
    milestone,
    noNegativeBalance,
    ok,
    oneWinner,
    pending,
    post,
    race,
    submit,
    verifyOk,
  } = bed
  let b: Backend
  let c: Acct
  let f: Acct
  beforeAll(() => {
    ;({ b, c, f } = bed)
  })

  it(
    `approve ×${N}: one release`,
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const a = amount()
        const { ids } = await contract([a])
        const ms = ids[0]!
        await fund(ms)
        await submit(ms)
        const before = await pending(f)
        const rs = await race(
          Array.from({ length: N }, () => ({ path: `/v1/milestones/${ms}/approve`, token: c.token })),
        )
        oneWinner(rs, 200, ['invalid_state_transition'], 'approve')
        const m = await milestone(ms)
        expect([m.state, m.released_amount, m.escrow_amount]).toEqual(['released', a, 0])
        expect(await entries(ms)).toEqual({ fund: 1, release: 1 })
        expect(await events(ms, 'milestone.released')).toBe(1)
        expect((await pending(f)) - before).toBe(NET(BigInt(a)))
        await noNegativeBalance()
      }
      await verifyOk()
    },
    TEST_MS,
  )

  it(
    `fund ×${N}: one charge, also when credit pays`,
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const a = amount()
        if (round % 2 === 1) await credit(a)
        const { ids } = await contract([a])
        const ms = ids[0]!
        const creditBefore = await available(c)
        const rs = await race(Array.from({ length: N }, () => ({ path: `/v1/milestones/${ms}/fund`, token: c.token })))
        oneWinner(rs, 200, ['invalid_state_transition'], 'fund')
        const m = await milestone(ms)
        expect([m.state, m.escrow_amount, m.escrow_fee_amount]).toEqual(['funded', a, Number(CLIENT_FEE(BigInt(a)))])
        expect(await entries(ms)).toEqual({ fund: 1 })
        expect(await events(ms, 'milestone.funded')).toBe(1)
        expect(await balanceOf(b.store.db, `escrow:${ms}`, 'USD')).toBe(BigInt(a) + CLIENT_FEE(BigInt(a)))
        const charge = BigInt(a) + CLIENT_FEE(BigInt(a))
        expect(await available(c)).toBe(creditBefore > charge ? creditBefore - charge : 0n)
        await noNegativeBalance()
      }
      await verifyOk()
    },
    TEST_MS,
  )

  it(
    'fund of two milestones spending the same credit: the credit is spent once',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const a = amount()
        await credit(a)
        const have = await available(c)
        const x = await contract([a])
        const y = await contract([a])
        const rs = await race([
          { path: `/v1/milestones/${x.ids[0]}/fund`, token: c.token },
          { path: `/v1/milestones/${y.ids[0]}/fund`, token: c.token },
        ])
        expect(
          rs.map((r) => r.status),
          summary(rs),
        ).toEqual([200, 200])
        const charge = BigInt(a) + CLIENT_FEE(BigInt(a))
        expect(await available(c)).toBe(have > 2n * charge ? have - 2n * charge : 0n)
        const spent = await b.store.db
          .selectFrom('journal_lines')
          .innerJoin('journal_entries', 'journal_entries.id', 'journal_lines.entry_id')
          .select('journal_lines.amount')
          .where('journal_lines.account', '=', `user:${c.id}:available`)
          .where('journal_entries.milestone_id', 'in', [x.ids[0]!, y.ids[0]!])
          .execute()
        expect(-spent.reduce((s, l) => s + big(l.amount), 0n)).toBe(have < 2n * charge ? have : 2n * charge)
        await noNegativeBalance()
      }
      await verifyOk()
    },
    TEST_MS,
  )

  it(
    'refund (freelancer) + approve (client): one outcome',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const a = amount()
        const { ids } = await contract([a])
        const ms = ids[0]!
        await fund(ms)
        if (round % 2 === 0) await submit(ms)
        const rs = await race(
          Array.from({ length: N }, (_, i) =>
            i % 2 === 0
              ? { path: `/v1/milestones/${ms}/refund`, token: f.token, body: { reason: 'sorry' } }
              : { path: `/v1/milestones/${ms}/approve`, token: c.token },
          ),
        )
        const w = oneWinner(rs, 200, ['invalid_state_transition'], 'refund + approve')
        const m = await milestone(ms)
        if (w % 2 === 0) {
          expect([m.state, m.refunded_amount, m.released_amount]).toEqual(['refunded', a, 0])
          expect(await entries(ms)).toEqual({ fund: 1, refund: 1 })
        } else {
          expect([m.state, m.refunded_amount, m.released_amount]).toEqual(['released', 0, a])
          expect(await entries(ms)).toEqual({ fund: 1, release: 1 })
        }
        expect(await balanceOf(b.store.db, `escrow:${ms}`, 'USD')).toBe(0n)
        await noNegativeBalance()
      }
      await verifyOk()
    },
    TEST_MS,
  )

  it(
    'request_refund (client) + submit (freelancer): one outcome',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const { ids } = await contract()
        const ms = ids[0]!
        await fund(ms)
        const rs = await race(
          Array.from({ length: N }, (_, i) =>
            i % 2 === 0
              ? { path: `/v1/milestones/${ms}/request_refund`, token: c.token, body: { reason: 'changed plans' } }
              : { path: `/v1/milestones/${ms}/submit`, token: f.token, body: { message: 'done' } },
          ),
        )
        const w = oneWinner(rs, 200, ['invalid_state_transition'], 'request_refund + submit')
        const m = await milestone(ms)
        expect(m.state).toBe(w % 2 === 0 ? 'refund_requested' : 'submitted')
        const k = await get(`/v1/contracts/${m.contract_id}`)
        expect(k.refund_requests.length).toBe(w % 2 === 0 ? 1 : 0)
        expect(m.refund_request_id ?? null).toBe(w % 2 === 0 ? k.refund_requests[0].id : null)
        expect(await events(ms, 'milestone.submitted')).toBe(w % 2 === 0 ? 0 : 1)
        await noNegativeBalance()
      }
      await verifyOk()
    },
    TEST_MS,
  )

  it(
    'open_dispute ×2 (client and freelancer): one dispute',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const a = amount()
        const { cid, ids } = await contract([a])
        const ms = ids[0]!
        await fund(ms)
        await submit(ms)
        const rs = await race([
          { path: `/v1/milestones/${ms}/disputes`, token: c.token, body: { reason: 'not done', release_amount: 0 } },
          { path: `/v1/milestones/${ms}/disputes`, token: f.token, body: { reason: 'pay me', release_amount: a } },
        ])
        const w = oneWinner(rs, 201, ['invalid_state_transition'], 'dispute ×2')
        const m = await milestone(ms)
        expect(m.state).toBe('disputed')
        expect(m.dispute_id).toBe(rs[w]!.body.id)
        const k = await get(`/v1/contracts/${cid}`)
        expect(k.disputes.map((d: Body) => d.id)).toEqual([rs[w]!.body.id])
        expect(k.disputes[0].opened_by).toBe(w === 0 ? c.id : f.id)
        expect(await balanceOf(b.store.db, `escrow:${ms}`, 'USD')).toBe(BigInt(a) + CLIENT_FEE(BigInt(a)))
        await noNegativeBalance()
      }
      await verifyOk()
    },
    TEST_MS,
  )

  it(
    `payout of the whole available balance ×${N}: one payout; of half ×${N}: two`,
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        await credit()
        const all = await available(c)
        const payoutsBefore = await countPayouts(c)
        const rs = await race(
          Array.from({ length: N }, () => ({
            path: '/v1/payouts',
            token: c.token,
            body: { amount: Number(all), currency: 'USD' },
          })),
        )
        oneWinner(rs, 201, ['insufficient_funds'], 'payout ×N')
        expect(await available(c)).toBe(0n)
        expect(await countPayouts(c)).toBe(payoutsBefore + 1)

        await credit(rand(10, 100) * 2_000)
        const have = await available(c)
        const half = have / 2n
        const rs2 = await race(
          Array.from({ length: N }, () => ({
            path: '/v1/payouts',
            token: c.token,
            body: { amount: Number(half), currency: 'USD' },
          })),
        )
        expect(rs2.filter((r) => r.status === 201).length, summary(rs2)).toBe(2)
        for (const r of rs2) if (r.status !== 201) expect(errorCode(r), r.text).toBe('insufficient_funds')
        expect(await available(c)).toBe(have - 2n * half)
        expect(await countPayouts(c)).toBe(payoutsBefore + 3)
        await noNegativeBalance()
      }
      await verifyOk()
    },
    TEST_MS,
  )

  it(
    'amendment accept (other party) + withdraw (author): one outcome',
    async () => {
      for (let round = 0; round < ROUNDS; round++) {
        const { cid } = await contract()
        const amd = await ok(
          post(`/v1/contracts/${cid}/amendments`, c.token, { add: [{ title: 'Extra', amount: amount() }] }),
          201,
        )
        const rs = await race(
          Array.from({ length: N }, (_, i) =>
            i % 2 === 0
              ? { path: `/v1/amendments/${amd.id}/accept`, token: f.token }
              : { path: `/v1/amendments/${amd.id}/withdraw`, token: c.token },
          ),
        )
        const w = oneWinner(rs, 200, ['invalid_state_transition'], 'amendment accept + withdraw')
        const k = await get(`/v1/contracts/${cid}`)
        const status = k.amendments.find((x: Body) => x.id === amd.id).status
        expect(status).toBe(w % 2 === 0 ? 'accepted' : 'withdrawn')
        expect(k.milestones.length).toBe(w % 2 === 0 ? 2 : 1)
        expect(await events(amd.id, `amendment.${status}`)).toBe(1)
        await noNegativeBalance()
      }
      await verifyOk()
    },
    TEST_MS,
  )
})
