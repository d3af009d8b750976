/** Offers and negotiation (SPEC §4): open, list, read, counter, accept, decline, withdraw, expire. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { advance, call, DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import { DAY, eventTypes, expectError, get, offerTerms, ok, openOffer, post, user } from './helpers.ts'

describe.each(DATABASES)('offers on %s', (kind) => {
  let env: TestEnv
  beforeAll(async () => {
    env = await startEnv(kind)
  })
  afterAll(async () => env.close())

  it('opens an offer (201): revision 1 by the author, the parties by role, defaults, total, expiry in 14 days', async () => {
    const { client, freelancer, offer } = await openOffer(env, {}, [30_000, 70_000])
    expect(offer).toMatchObject({
      object: 'offer',
      status: 'open',
      revision: 1,
      author_id: client.id,
      client_id: client.id,
      freelancer_id: freelancer.id,
      contract_id: null,
    })
    expect(offer.id).toMatch(/^off_/)
    expect(offer.terms).toMatchObject({
      title: 'Test job',
      currency: 'USD',
      payment_mode: 'by_milestone',
      review_days: 14,
      revision_limit: 3,
      total: 100_000,
    })
    expect(offer.terms.milestones.map((m: { amount: number }) => m.amount)).toEqual([30_000, 70_000])
    expect(offer.revisions).toHaveLength(1)
    expect(Date.parse(offer.expires_at) - Date.parse(offer.created_at)).toBe(14 * DAY * 1000)
    expect(await eventTypes(env, freelancer.token)).toEqual(['offer.created'])
    // nothing is charged at the offer stage
    expect(ok(await get(env, client.token, '/v1/balances')).data).toEqual([])
    expect(ok(await get(env, client.token, '/v1/ledger/entries')).data).toEqual([])
  })

  it('names the parties (id, name, email) on GET of an offer and of the list', async () => {
    const { client, freelancer, offer } = await openOffer(env)
    ok(await call(env, 'PATCH', '/v1/me', { token: client.token, body: { name: 'Olga Offerer' } }))
    const parties = {
      client: { id: client.id, name: 'Olga Offerer', email: client.email },
      freelancer: { id: freelancer.id, name: 'Test user', email: freelancer.email },
    }
    for (const token of [client.token, freelancer.token]) {
      expect(ok(await get(env, token, `/v1/offers/${offer.id}`)).parties).toEqual(parties)
      const listed = ok(await get(env, token, '/v1/offers')).data.find((o: { id: string }) => o.id === offer.id)
      expect(listed.parties).toEqual(parties)
    }
  })

  it('lets a freelancer open the offer (role freelancer)', async () => {
    const f = await user(env)
    const c = await user(env)
    const o = ok(
      await post(env, f.token, '/v1/offers', {
        role: 'freelancer',
        counterparty_email: c.email.toUpperCase(),
        ...offerTerms(),
      }),
      201,
    )
    expect(o).toMatchObject({ author_id: f.id, client_id: c.id, freelancer_id: f.id })
  })

  it('refuses an unknown counterparty or oneself (400 counterparty_unknown) and anonymous callers (401)', async () => {
    const u = await user(env)
    expectError(
      await post(env, u.token, '/v1/offers', {
        role: 'client',
        counterparty_email: 'nobody@tranche.test',
        ...offerTerms(),
      }),
      400,
      'counterparty_unknown',
      'counterparty_email',
    )
    expectError(
      await post(env, u.token, '/v1/offers', { role: 'client', counterparty_email: u.email, ...offerTerms() }),
      400,
      'counterparty_unknown',
    )
    // the email is taken as sign-up and login take it: trimmed, any case
    const other = await user(env)
    const padded = ` ${other.email.toUpperCase()} `
    ok(await post(env, u.token, '/v1/offers', { role: 'client', counterparty_email: padded, ...offerTerms() }), 201)
    expectError(
      await post(env, undefined, '/v1/offers', { role: 'client', counterparty_email: u.email, ...offerTerms() }),
      401,
      'authentication_required',
    )
    expectError(await get(env, undefined, '/v1/offers'), 401, 'authentication_required')
  })

  it('applies the terms rules of §4 (400)', async () => {
    const { client, freelancer } = await openOffer(env)
    const open = (t: Record<string, unknown>, amounts?: number[]) =>
      post(env, client.token, '/v1/offers', {
        role: 'client',
        counterparty_email: freelancer.email,
        ...offerTerms(t, amounts),
      })
    expectError(await open({ payment_mode: 'by_project' }, [50_000, 50_000]), 400, 'terms_invalid', 'milestones')
    const dep = (first: number, second: number, d2 = false) => ({
      milestones: [
        { title: 'Deposit', amount: first, deposit: true },
        { title: 'Rest', amount: second, deposit: d2 },
      ],
    })
    expectError(await open(dep(60_000, 40_000)), 400, 'terms_invalid', 'milestones[0].amount')
    ok(await open(dep(50_000, 50_000)), 201)
    expectError(await open(dep(10_000, 90_000, true)), 400, 'terms_invalid', 'milestones[1].deposit')
    expectError(
      await open({ payment_mode: 'by_project', milestones: [{ title: 'All', amount: 10_000, deposit: true }] }),
      400,
      'terms_invalid',
    )
    // minimum milestone: 5 major units
    expectError(await open({}, [499]), 400, 'amount_invalid', 'milestones[0].amount')
    ok(await open({}, [500]), 201)
    expectError(await open({ currency: 'JPY' }, [4]), 400, 'amount_invalid', 'milestones[0].amount')
    ok(await open({ currency: 'JPY' }, [5]), 201)
    ok(await open({ currency: 'KWD' }, [5_000]), 201)
    expectError(await open({ review_days: 0 }), 400, 'parameter_invalid', 'review_days')
    expectError(await open({ review_days: 31 }), 400, 'parameter_invalid', 'review_days')
    expectError(await open({ revision_limit: 11 }), 400, 'parameter_invalid', 'revision_limit')
    expectError(await open({ payment_mode: 'hourly' }), 400, 'parameter_invalid', 'payment_mode')
    expectError(await open({ milestones: [] }), 400, 'parameter_invalid', 'milestones')
    expectError(
      await open(
        {},
        Array.from({ length: 101 }, () => 1_000),
      ),
      400,
      'parameter_invalid',
      'milestones',
    )
    expectError(
      await open({ milestones: [{ title: 'x', amount: 1_000, due_date: '2026-13-45x' }] }),
      400,
      'parameter_invalid',
      'milestones[0].due_date',
    )
    // the right shape but no day of the calendar: refused before it can reach the dormancy clock
    for (const due_date of ['2026-13-01', '2026-02-29'])
      expectError(
        await open({ milestones: [{ title: 'x', amount: 1_000, due_date }] }),
        400,
        'parameter_invalid',
        'milestones[0].due_date',
      )
    ok(await open({ milestones: [{ title: 'x', amount: 1_000, due_date: '2028-02-29' }] }), 201)
    expectError(await open({ milestones: [{ title: 'x' }] }), 400, 'parameter_missing', 'milestones[0].amount')
    expectError(await open({ unit_price: 1_000 }), 400, 'terms_invalid', 'unit_price')
  })

  it('computes by_entry amounts server-side (entries × unit_price); a disagreeing amount is 400', async () => {
    const { client, freelancer } = await openOffer(env)
    const t = { payment_mode: 'by_entry', unit_name: 'article', unit_price: 2_500 }
    const open = (milestones: unknown[], over: Record<string, unknown> = t) =>
      post(env, client.token, '/v1/offers', {
        role: 'client',
        counterparty_email: freelancer.email,
        ...offerTerms({ ...over, milestones }),
      })
    const o = ok(
      await open([
        { title: 'Batch 1', entries: 4 },
        { title: 'Batch 2', entries: 2, amount: 5_000 },
      ]),
      201,
    )
    expect(o.terms.milestones.map((m: { amount: number }) => m.amount)).toEqual([10_000, 5_000])
    expect(o.terms).toMatchObject({ unit_name: 'article', unit_price: 2_500, total: 15_000 })
    expectError(
      await open([{ title: 'Batch', entries: 4, amount: 9_999 }]),
      400,
      'amount_invalid',
      'milestones[0].amount',
    )
    expectError(await open([{ title: 'Batch' }]), 400, 'terms_invalid', 'milestones[0].entries')
    expectError(
      await open([{ title: 'Batch', entries: 2 }], { payment_mode: 'by_entry', unit_name: 'article' }),
      400,
      'terms_invalid',
      'unit_price',
    )
    expectError(
      await open([{ title: 'Batch', amount: 5_000, entries: 2 }], {}),
      400,
      'terms_invalid',
      'milestones[0].entries',
    )
  })

  it('lists my offers (newest first, status filter, limit and starting_after) and hides others (404)', async () => {
    const a = await user(env)
    const b = await user(env)
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      await advance(env, 1)
      ids.push(
        ok(
          await post(env, a.token, '/v1/offers', {
            role: 'client',
            counterparty_email: b.email,
            ...offerTerms({ title: `Job ${i}` }),
          }),
          201,
        ).id,
      )
    }
    ok(await post(env, b.token, `/v1/offers/${ids[0]}/decline`))
    const all = ok(await get(env, a.token, '/v1/offers'))
    expect(all).toMatchObject({ object: 'list', has_more: false })
    expect(all.data.map((o: { id: string }) => o.id)).toEqual([...ids].reverse())
    const p1 = ok(await get(env, b.token, '/v1/offers?limit=2'))
    expect(p1.data.map((o: { id: string }) => o.id)).toEqual([ids[2], ids[1]])
    expect(p1.has_more).toBe(true)
    const p2 = ok(await get(env, b.token, `/v1/offers?limit=2&starting_after=${ids[1]}`))
    expect(p2.data.map((o: { id: string }) => o.id)).toEqual([ids[0]])
    expect(p2.has_more).toBe(false)
    expect(ok(await get(env, a.token, '/v1/offers?status=declined')).data.map((o: { id: string }) => o.id)).toEqual([
      ids[0],
    ])
    expect(ok(await get(env, a.token, '/v1/offers?status=open')).data).toHaveLength(2)
    const stranger = await user(env)
    expect(ok(await get(env, stranger.token, '/v1/offers')).data).toEqual([])
    expectError(await get(env, stranger.token, `/v1/offers/${ids[1]}`), 404, 'resource_missing')
    expectError(await get(env, a.token, '/v1/offers/off_doesnotexist'), 404, 'resource_missing')
    expect(ok(await get(env, b.token, `/v1/offers/${ids[1]}`)).terms.title).toBe('Job 1')
  })

  it('counters: a new revision, authorship flips, every revision kept; a stale accept is 409', async () => {
    const { client, freelancer, offer } = await openOffer(env, {}, [100_000])
    expectError(
      await post(env, client.token, `/v1/offers/${offer.id}/counter`, offerTerms({}, [90_000])),
      403,
      'actor_not_allowed',
    )
    const c2 = ok(
      await post(env, freelancer.token, `/v1/offers/${offer.id}/counter`, offerTerms({ review_days: 7 }, [120_000])),
    )
    expect(c2).toMatchObject({ revision: 2, author_id: freelancer.id, status: 'open' })
    expect(c2.terms).toMatchObject({ review_days: 7, total: 120_000 })
    expect(c2.revisions.map((r: { revision: number; author_id: string }) => [r.revision, r.author_id])).toEqual([
      [1, client.id],
      [2, freelancer.id],
    ])
    expect(c2.revisions[0].terms.total).toBe(100_000)
    expectError(
      await post(env, client.token, `/v1/offers/${offer.id}/accept`, { revision: 1 }),
      409,
      'offer_revision_stale',
      'revision',
    )
    expectError(
      await post(env, freelancer.token, `/v1/offers/${offer.id}/accept`, { revision: 2 }),
      403,
      'actor_not_allowed',
    )
    const stranger = await user(env)
    expectError(
      await post(env, stranger.token, `/v1/offers/${offer.id}/accept`, { revision: 2 }),
      404,
      'resource_missing',
    )
    expectError(
      await post(env, stranger.token, `/v1/offers/${offer.id}/counter`, offerTerms()),
      404,
      'resource_missing',
    )
    const acc = ok(await post(env, client.token, `/v1/offers/${offer.id}/accept`, { revision: 2 }))
    expect(acc.status).toBe('accepted')
    expect(acc.contract_id).toMatch(/^ctr_/)
    const c = ok(await get(env, client.token, `/v1/contracts/${acc.contract_id}`))
    expect(c).toMatchObject({ offer_id: offer.id, review_days: 7, client_fee_bps: 500, service_fee_bps: 1000 })
    expect(c.milestones.map((m: { amount: number }) => m.amount)).toEqual([120_000])
    expect(await eventTypes(env, client.token)).toEqual([
      'contract.created',
      'offer.accepted',
      'offer.countered',
      'offer.created',
    ])
  })

  it('validates accept and counter bodies', async () => {
    const { freelancer, offer } = await openOffer(env)
    expectError(
      await post(env, freelancer.token, `/v1/offers/${offer.id}/accept`, {}),
      400,
      'parameter_missing',
      'revision',
    )
    expectError(
      await post(env, freelancer.token, `/v1/offers/${offer.id}/accept`, { revision: '1' }),
      400,
      'parameter_invalid',
      'revision',
    )
    expectError(
      await post(env, freelancer.token, `/v1/offers/${offer.id}/accept`, { revision: 1, note: 'x' }),
      400,
      'parameter_unknown',
      'note',
    )
    expectError(
      await post(env, freelancer.token, `/v1/offers/${offer.id}/counter`, { ...offerTerms(), role: 'client' }),
      400,
      'parameter_unknown',
      'role',
    )
    expectError(
      await post(env, freelancer.token, `/v1/offers/${offer.id}/counter`, offerTerms({ currency: 'EURO' })),
      400,
      'currency_unsupported',
      'currency',
    )
  })

  it('checks who may counter (404, 403) before the terms of the counter (400), and those before the state (409)', async () => {
    const { client, freelancer, offer } = await openOffer(env)
    const stranger = await user(env)
    const bad = offerTerms({ payment_mode: 'by_project' }, [50_000, 50_000]) // terms_invalid (§4)
    const counter = (token: string, id = offer.id) => post(env, token, `/v1/offers/${id}/counter`, bad)
    expectError(await counter(stranger.token), 404, 'resource_missing')
    expectError(await counter(stranger.token, 'off_doesnotexist0000000'), 404, 'resource_missing')
    expectError(await counter(client.token), 403, 'actor_not_allowed')
    expectError(await counter(freelancer.token), 400, 'terms_invalid', 'milestones')
    ok(await post(env, freelancer.token, `/v1/offers/${offer.id}/decline`))
    expectError(await counter(freelancer.token), 400, 'terms_invalid', 'milestones')
    expectError(
      await post(env, freelancer.token, `/v1/offers/${offer.id}/counter`, offerTerms()),
      409,
      'invalid_state_transition',
    )
  })

  it('answers the wrong side of an offer 403 even when its request is malformed (role before validation)', async () => {
    const { client, freelancer, offer } = await openOffer(env)
    const url = (cmd: string) => `/v1/offers/${offer.id}/${cmd}`
    // the client wrote revision 1: it may only withdraw; the freelancer may only answer
    expectError(await post(env, client.token, url('accept'), {}), 403, 'actor_not_allowed')
    expectError(await post(env, client.token, url('accept'), { revision: 'one' }), 403, 'actor_not_allowed')
    expectError(await post(env, client.token, url('decline'), { bogus: 1 }), 403, 'actor_not_allowed')
    expectError(await post(env, client.token, url('counter'), { bogus: 1 }), 403, 'actor_not_allowed')
    expectError(await post(env, freelancer.token, url('withdraw'), { bogus: 1 }), 403, 'actor_not_allowed')
    // the side that may act gets the validation error
    expectError(await post(env, freelancer.token, url('accept'), {}), 400, 'parameter_missing', 'revision')
    expectError(await post(env, client.token, url('withdraw'), { bogus: 1 }), 400, 'parameter_unknown', 'bogus')
    expect(ok(await get(env, client.token, `/v1/offers/${offer.id}`)).status).toBe('open')
  })

  it('declines (counterparty) and withdraws (author only); then every command is 409 naming the state', async () => {
    const a = await openOffer(env)
    expectError(await post(env, a.client.token, `/v1/offers/${a.offer.id}/decline`), 403, 'actor_not_allowed')
    expect(
      ok(await post(env, a.freelancer.token, `/v1/offers/${a.offer.id}/decline`, { reason: 'too low' })).status,
    ).toBe('declined')
    const again = await post(env, a.freelancer.token, `/v1/offers/${a.offer.id}/accept`, { revision: 1 })
    expectError(again, 409, 'invalid_state_transition')
    expect(again.body.error.message).toContain('declined')

    const b = await openOffer(env)
    expectError(await post(env, b.freelancer.token, `/v1/offers/${b.offer.id}/withdraw`), 403, 'actor_not_allowed')
    expect(ok(await post(env, b.client.token, `/v1/offers/${b.offer.id}/withdraw`)).status).toBe('withdrawn')
    const late = await post(env, b.freelancer.token, `/v1/offers/${b.offer.id}/counter`, offerTerms())
    expectError(late, 409, 'invalid_state_transition')
    expect(late.body.error.message).toContain('withdrawn')
    expect(await eventTypes(env, b.freelancer.token)).toEqual(['offer.withdrawn', 'offer.created'])

    const c = await openOffer(env)
    ok(await post(env, c.freelancer.token, `/v1/offers/${c.offer.id}/accept`, { revision: 1 }))
    const twice = await post(env, c.freelancer.token, `/v1/offers/${c.offer.id}/accept`, { revision: 1 })
    expectError(twice, 409, 'invalid_state_transition')
    expect(twice.body.error.message).toContain('accepted')
  })

  it('lists 20 by default (limit 1..100) with has_more', async () => {
    const a = await user(env)
    const b = await user(env)
    for (let i = 0; i < 21; i++) {
      ok(
        await post(env, a.token, '/v1/offers', {
          role: 'client',
          counterparty_email: b.email,
          ...offerTerms({ title: `N${i}` }),
        }),
        201,
      )
    }
    const page = ok(await get(env, a.token, '/v1/offers'))
    expect(page.data).toHaveLength(20)
    expect(page.has_more).toBe(true)
    const all = ok(await get(env, a.token, '/v1/offers?limit=100'))
    expect(all.data).toHaveLength(21)
    expect(all.has_more).toBe(false)
  })

  it('expires an offer with no new revision for 14 days (a counter restarts the 14 days)', async () => {
    const a = await openOffer(env)
    const b = await openOffer(env)
    await advance(env, 10 * DAY)
    ok(await post(env, b.freelancer.token, `/v1/offers/${b.offer.id}/counter`, offerTerms({}, [80_000])))
    await advance(env, 4 * DAY + 1)
    expect(ok(await get(env, a.client.token, `/v1/offers/${a.offer.id}`)).status).toBe('expired')
    expect(ok(await get(env, b.client.token, `/v1/offers/${b.offer.id}`)).status).toBe('open')
    expect(await eventTypes(env, a.freelancer.token)).toEqual(['offer.expired', 'offer.created'])
    const late = await post(env, a.freelancer.token, `/v1/offers/${a.offer.id}/accept`, { revision: 1 })
    expectError(late, 409, 'invalid_state_transition')
    expect(late.body.error.message).toContain('expired')
    await advance(env, 10 * DAY)
    expect(ok(await get(env, b.client.token, `/v1/offers/${b.offer.id}`)).status).toBe('expired')
  })
})
