/** Balances, payouts, statements (JSON and CSV) and ledger entries (SPEC §7). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { statement, statementCsv } from '../../src/app/money.ts'
import { adminUser, advance, DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import {
  balance,
  DAY,
  type Deal,
  eventTypes,
  expectError,
  funded,
  get,
  ok,
  type Party,
  post,
  raw,
  user,
} from './helpers.ts'

describe.each(DATABASES)('money on %s', (kind) => {
  let env: TestEnv
  let admin: Party
  let d: Deal
  let releasedAt: string
  let availableAt: string
  let paidAt: string
  let payoutId: string
  beforeAll(async () => {
    env = await startEnv(kind)
    admin = (await adminUser(env)) as Party
    // the freelancer earns 90,000 (100,000 less 10%), waits out the 5-day hold and pays out 30,000
    d = await funded(env, {}, [100_000])
    await advance(env, 3600)
    releasedAt = ok(await get(env, admin.token, '/v1/test_clock')).now
    ok(await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/approve`))
    await advance(env, 5 * DAY)
    availableAt = ok(await get(env, admin.token, '/v1/test_clock')).now
    await advance(env, 3600)
    paidAt = ok(await get(env, admin.token, '/v1/test_clock')).now
    payoutId = ok(await post(env, d.freelancer.token, '/v1/payouts', { amount: 30_000, currency: 'USD' }), 201).id
  })
  afterAll(async () => env.close())

  it('shows balances per currency: available and pending', async () => {
    const b = ok(await get(env, d.freelancer.token, '/v1/balances'))
    expect(b).toMatchObject({ object: 'list', has_more: false })
    expect(b.data).toEqual([{ object: 'balance', currency: 'USD', available: 60_000, pending: 0 }])
    const fresh = await user(env)
    expect(ok(await get(env, fresh.token, '/v1/balances')).data).toEqual([])
    expectError(await get(env, undefined, '/v1/balances'), 401, 'authentication_required')
  })

  it('pays out available money (201) and refuses more than available (409 insufficient_funds)', async () => {
    const p = ok(await get(env, d.freelancer.token, '/v1/payouts'))
    expect(p).toMatchObject({ object: 'list', has_more: false })
    expect(ok(await get(env, d.freelancer.token, `/v1/payouts/${payoutId}`))).toEqual(p.data[0])
    expectError(await get(env, d.client.token, `/v1/payouts/${payoutId}`), 404, 'resource_missing')
    expect(p.data).toEqual([
      {
        id: payoutId,
        object: 'payout',
        user_id: d.freelancer.id,
        currency: 'USD',
        amount: 30_000,
        status: 'paid',
        created_at: paidAt,
      },
    ])
    expect(payoutId).toMatch(/^pay_/)
    const tooMuch = await post(env, d.freelancer.token, '/v1/payouts', { amount: 60_001, currency: 'USD' })
    expectError(tooMuch, 409, 'insufficient_funds')
    // the amount as money, with the minor units the API speaks: not "60000 USD", which reads as dollars
    expect(tooMuch.body.error.message).toBe('Only USD 600.00 (60000 minor units) is available.')
    expectError(
      await post(env, d.freelancer.token, '/v1/payouts', { amount: 1, currency: 'EUR' }),
      409,
      'insufficient_funds',
    )
    // pending money cannot be paid out either
    expectError(
      await post(env, d.client.token, '/v1/payouts', { amount: 1, currency: 'USD' }),
      409,
      'insufficient_funds',
    )
    expect(await balance(env, d.freelancer.token)).toEqual({ available: 60_000, pending: 0 })
    expect((await eventTypes(env, d.freelancer.token))[0]).toBe('payout.paid')
    expect(await eventTypes(env, d.client.token)).not.toContain('payout.paid')
    expectError(await post(env, d.freelancer.token, '/v1/payouts', { amount: 1 }), 400, 'parameter_missing', 'currency')
    expectError(
      await post(env, d.freelancer.token, '/v1/payouts', { amount: 1, currency: 'USD', to: 'x' }),
      400,
      'parameter_unknown',
      'to',
    )
    expectError(
      await post(env, undefined, '/v1/payouts', { amount: 1, currency: 'USD' }),
      401,
      'authentication_required',
    )
  })

  it('lists payouts newest first with pagination; only my own', async () => {
    const u = await funded(env, {}, [10_000])
    ok(await post(env, u.client.token, `/v1/milestones/${u.ids[0]}/approve`))
    await advance(env, 5 * DAY)
    const ids: string[] = []
    for (const amount of [1_000, 2_000, 3_000]) {
      ids.push(ok(await post(env, u.freelancer.token, '/v1/payouts', { amount, currency: 'USD' }), 201).id)
      await advance(env, 1)
    }
    const p1 = ok(await get(env, u.freelancer.token, '/v1/payouts?limit=2'))
    expect(p1.data.map((x: { amount: number }) => x.amount)).toEqual([3_000, 2_000])
    expect(p1.has_more).toBe(true)
    const p2 = ok(await get(env, u.freelancer.token, `/v1/payouts?limit=2&starting_after=${p1.data[1].id}`))
    expect(p2.data.map((x: { id: string }) => x.id)).toEqual([ids[0]])
    expect(p2.has_more).toBe(false)
    expect(await balance(env, u.freelancer.token)).toEqual({ available: 9_000 - 6_000, pending: 0 })
    expect(ok(await get(env, d.client.token, '/v1/payouts')).data).toEqual([])
  })

  it('gives a JSON statement with running balances (available, or pending with account=pending)', async () => {
    const s = ok(await get(env, d.freelancer.token, '/v1/statements?currency=USD'))
    expect(s).toMatchObject({
      object: 'statement',
      account: 'available',
      currency: 'USD',
      opening_balance: 0,
      closing_balance: 60_000,
    })
    expect(s.data.map((l: { kind: string; amount: number; balance: number }) => [l.kind, l.amount, l.balance])).toEqual(
      [
        ['hold_release', 90_000, 90_000],
        ['payout', -30_000, 60_000],
      ],
    )
    expect(s.data[0].date).toBe(availableAt)
    expect(s.data[1].date).toBe(paidAt)
    expect(s.data[0].entry_id).toMatch(/^je_/)
    const p = ok(await get(env, d.freelancer.token, '/v1/statements?currency=USD&account=pending'))
    expect(p.data.map((l: { kind: string; amount: number; balance: number }) => [l.kind, l.amount, l.balance])).toEqual(
      [
        ['release', 90_000, 90_000],
        ['hold_release', -90_000, 0],
      ],
    )
    expect(p.data[0]).toMatchObject({ date: releasedAt, contract_id: d.cid, milestone_id: d.ids[0] })
  })

  it('filters a statement by from/to with the opening balance carried in', async () => {
    const from = ok(
      await get(env, d.freelancer.token, `/v1/statements?currency=USD&from=${encodeURIComponent(paidAt)}`),
    )
    expect(from).toMatchObject({ opening_balance: 90_000, closing_balance: 60_000, from: paidAt })
    expect(from.data.map((l: { kind: string }) => l.kind)).toEqual(['payout'])
    const to = ok(await get(env, d.freelancer.token, `/v1/statements?currency=USD&to=${encodeURIComponent(paidAt)}`))
    expect(to.data.map((l: { kind: string }) => l.kind)).toEqual(['hold_release'])
    const day = paidAt.slice(0, 10)
    const sameDay = ok(await get(env, d.freelancer.token, `/v1/statements?currency=USD&from=${day}&to=${day}`))
    expect(sameDay.data.map((l: { kind: string }) => l.kind)).toContain('payout')
    expect(ok(await get(env, d.freelancer.token, '/v1/statements?currency=EUR')).data).toEqual([])
    // a range that ends before it starts is a mistake, not an empty statement
    for (const [f, t] of [
      ['2026-12-01', '2026-01-01'],
      [paidAt, paidAt],
    ] as [string, string][])
      expectError(
        await get(
          env,
          d.freelancer.token,
          `/v1/statements?currency=USD&from=${encodeURIComponent(f)}&to=${encodeURIComponent(t)}`,
        ),
        400,
        'parameter_invalid',
        'to',
      )
  })

  it('gives the statement as CSV with a header row and running balances', async () => {
    const res = await raw(env, 'GET', '/v1/statements?currency=USD&format=csv', {
      authorization: `Bearer ${d.freelancer.token}`,
    })
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/csv/)
    expect(String(res.headers['content-disposition'])).toMatch(/attachment/)
    const rows = res.text
      .trim()
      .split(/\r?\n/)
      .map((r) => r.split(','))
    expect(rows[0]).toEqual([
      'date',
      'entry_id',
      'kind',
      'description',
      'contract_id',
      'milestone_id',
      'currency',
      'amount',
      'balance',
    ])
    expect(rows).toHaveLength(3)
    const col = (name: string) => rows[0]!.indexOf(name)
    expect(rows.slice(1).map((r) => [r[col('kind')], r[col('currency')], r[col('amount')], r[col('balance')]])).toEqual(
      [
        ['hold_release', 'USD', '90000', '90000'],
        ['payout', 'USD', '-30000', '60000'],
      ],
    )
    expect(rows[1]![col('date')]).toBe(availableAt)
  })

  it('validates statement queries', async () => {
    const t = d.freelancer.token
    expectError(await get(env, t, '/v1/statements'), 400, 'parameter_missing', 'currency')
    expectError(await get(env, t, '/v1/statements?currency=USD&format=xml'), 400, 'parameter_invalid', 'format')
    expectError(await get(env, t, '/v1/statements?currency=USD&from=yesterday'), 400, 'parameter_invalid', 'from')
    // no day of the calendar, as a date or in a timestamp (Date.parse would take March 1st)
    expectError(await get(env, t, '/v1/statements?currency=USD&from=2024-02-30'), 400, 'parameter_invalid', 'from')
    expectError(
      await get(env, t, '/v1/statements?currency=USD&to=2025-02-29T10:00:00Z'),
      400,
      'parameter_invalid',
      'to',
    )
    ok(await get(env, t, '/v1/statements?currency=USD&from=2024-02-29&to=2024-03-01T10:00:00Z'))
    expectError(await get(env, t, '/v1/statements?currency=USD&account=escrow'), 400, 'parameter_invalid', 'account')
    expectError(await get(env, t, '/v1/statements?currency=USD&user=usr_x'), 400, 'parameter_unknown', 'user')
    expectError(await get(env, undefined, '/v1/statements?currency=USD'), 401, 'authentication_required')
  })

  it('lists my ledger lines newest first with pagination; never another user’s', async () => {
    const all = ok(await get(env, d.freelancer.token, '/v1/ledger/entries'))
    expect(all).toMatchObject({ object: 'list', has_more: false })
    expect(
      all.data.map((l: { kind: string; account: string; amount: number }) => [l.kind, l.account, l.amount]),
    ).toEqual([
      ['payout', 'available', -30_000],
      ['hold_release', 'available', 90_000],
      ['hold_release', 'pending', -90_000],
      ['release', 'pending', 90_000],
    ])
    expect(all.data[3]).toMatchObject({
      object: 'ledger_line',
      currency: 'USD',
      contract_id: d.cid,
      milestone_id: d.ids[0],
      created_at: releasedAt,
    })
    const p1 = ok(await get(env, d.freelancer.token, '/v1/ledger/entries?limit=3'))
    expect(p1.has_more).toBe(true)
    const p2 = ok(await get(env, d.freelancer.token, `/v1/ledger/entries?limit=3&starting_after=${p1.data[2].id}`))
    expect(p2.data.map((l: { kind: string }) => l.kind)).toEqual(['release'])
    expect(p2.has_more).toBe(false)
    // the client paid through the rail: no lines on the client's own accounts
    expect(ok(await get(env, d.client.token, '/v1/ledger/entries')).data).toEqual([])
    expectError(await get(env, undefined, '/v1/ledger/entries'), 401, 'authentication_required')
    expect(ok(await get(env, admin.token, '/v1/admin/verify')).ok).toBe(true)
  })

  it('pages a JSON statement: the balances run on across pages, and the CSV holds every line', async () => {
    // a freelancer with six lines on the pending account: three releases an hour apart, then their hold releases
    const e = await funded(env, {}, [10_000, 20_000, 30_000])
    const times: string[] = []
    for (const id of e.ids) {
      await advance(env, 3600)
      times.push(ok(await get(env, admin.token, '/v1/test_clock')).now)
      ok(await post(env, e.client.token, `/v1/milestones/${id}/approve`))
    }
    await advance(env, 5 * DAY)
    const t = e.freelancer.token
    type Line = { id: string; kind: string; amount: number; balance: number }
    const url = (q: string) => `/v1/statements?currency=USD&account=pending${q}`
    const whole = ok(await get(env, t, url('')))
    expect(whole.has_more).toBe(false)
    expect(whole.data.map((l: Line) => [l.kind, l.balance])).toEqual([
      ['release', 9_000],
      ['release', 27_000],
      ['release', 54_000],
      ['hold_release', 45_000],
      ['hold_release', 27_000],
      ['hold_release', 0],
    ])
    expect(whole.data.every((l: Line) => /^jel_\d+$/.test(l.id))).toBe(true)

    // pages of 4, then 2, from the same statement; each page carries the statement's opening and closing balances
    const walk = async (q: string, limit: number) => {
      const pages = []
      let after = ''
      for (;;) {
        const p = ok(await get(env, t, url(`${q}&limit=${limit}${after}`)))
        pages.push(p)
        if (!p.has_more) return pages
        after = `&starting_after=${p.data.at(-1).id}`
      }
    }
    const pages = await walk('', 4)
    expect(pages.map((p) => [p.data.length, p.has_more, p.opening_balance, p.closing_balance])).toEqual([
      [4, true, 0, 0],
      [2, false, 0, 0],
    ])
    expect(pages.flatMap((p) => p.data)).toEqual(whole.data)
    // from the second release on: the first is the opening balance, on every page
    const from = `&from=${encodeURIComponent(times[1]!)}`
    const ranged = await walk(from, 2)
    expect(ranged.map((p) => [p.data.length, p.opening_balance, p.closing_balance])).toEqual([
      [2, 9_000, 0],
      [2, 9_000, 0],
      [1, 9_000, 0],
    ])
    expect(ranged.flatMap((p) => p.data)).toEqual(whole.data.slice(1))
    // a page that ends before the statement does still gives the statement's closing balance
    const to = `&to=${encodeURIComponent(times[2]!)}` // the third release is at `to`: not in the statement
    expect(ok(await get(env, t, url(`${to}&limit=1`)))).toMatchObject({ closing_balance: 27_000, has_more: true })

    // a cursor must be a line of this statement: not another account's, not one outside the bounds
    const available = ok(await get(env, d.freelancer.token, '/v1/statements?currency=USD')).data[0].id
    for (const other of [available, whole.data[0].id]) {
      const q = other === available ? '' : from
      expectError(await get(env, t, url(`${q}&starting_after=${other}`)), 404, 'resource_missing', 'starting_after')
    }
    expectError(await get(env, t, url('&starting_after=je_1')), 400, 'parameter_invalid', 'starting_after')
    for (const limit of ['0', '1001', '2.5'])
      expectError(await get(env, t, url(`&limit=${limit}`)), 400, 'parameter_invalid', 'limit')
    ok(await get(env, t, url('&limit=1000')))
    // the CSV is always the whole statement
    expectError(await get(env, t, url('&format=csv&limit=2')), 400, 'parameter_invalid', 'limit')
    const csv = await raw(env, 'GET', url('&format=csv'), { authorization: `Bearer ${t}` })
    expect(csv.status).toBe(200)
    const balances = csv.text
      .trim()
      .split('\r\n')
      .slice(1)
      .map((r) => Number(r.split(',').at(-1)))
    expect(balances).toEqual(whole.data.map((l: Line) => l.balance))

    // the CSV is read a page at a time: pages of 2 give the same file as one page of all
    const q = { currency: 'USD', from: null, to: null, account: 'pending' as const }
    const app = env.rt.app
    const first = await statement(app, e.freelancer.id, q, { limit: 2, startingAfter: null })
    let paged = ''
    for await (const chunk of statementCsv(app, e.freelancer.id, q, first, 2)) paged += chunk
    expect(paged).toBe(csv.text)
  })
})
