/** Request validation, error shapes, check order, body limits and exact text round trips (SPEC §3, §5, §10). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminUser, call, DATABASES, startEnv, type TestEnv } from '../support/harness.ts'
import {
  contract,
  expectError,
  fund,
  get,
  milestone,
  offerTerms,
  ok,
  type Party,
  post,
  raw,
  submit,
  user,
} from './helpers.ts'

/** Odd but valid text: emoji and ZWJ sequences, combining marks, RTL, NBSP, CRLF, quotes, SQL, HTML. */
const ODD = [
  'Café ☕ — naïve façade 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 👩🏽‍💻👨‍👩‍👧‍👦 🇫🇷',
  'e\u0301 (combining) \u200b zero-width \u00a0nbsp \u202eRTL override\u202c עברית العربية',
  `quotes ' " \` \\ backslash \\n literal, tab\there, CRLF\r\nnext line`,
  "Robert'); DROP TABLE offers;-- OR 1=1; SELECT * FROM users WHERE name = '' --",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: literal user text, not a template
  '<script>alert("x")</script> &amp; {"$big":"123"} ${template} %s %n',
  '\u0001\u001f\u007f control, \ufeff BOM, \uffff, astral \u{10ffff}',
].join('\n')

describe.each(DATABASES)('validation and errors on %s', (kind) => {
  let env: TestEnv
  let a: Party
  let b: Party
  beforeAll(async () => {
    env = await startEnv(kind)
    a = await user(env, 'a')
    b = await user(env, 'b')
  })
  afterAll(async () => env.close())

  const offer = (over: Record<string, unknown> = {}, amounts?: number[]) =>
    post(env, a.token, '/v1/offers', { role: 'client', counterparty_email: b.email, ...offerTerms(over, amounts) })
  const line = (m: Record<string, unknown>) => offer({ milestones: [{ title: 'Stage', amount: 10_000, ...m }] })

  it('answers an unknown field with 400 parameter_unknown naming it (top level and nested)', async () => {
    expectError(await offer({ colour: 'red' }), 400, 'parameter_unknown', 'colour')
    expectError(await line({ colour: 'red' }), 400, 'parameter_unknown', 'milestones[0].colour')
  })

  it('answers a missing field with 400 parameter_missing naming it', async () => {
    const { title: _t, ...noTitle } = offerTerms()
    expectError(
      await post(env, a.token, '/v1/offers', { role: 'client', counterparty_email: b.email, ...noTitle }),
      400,
      'parameter_missing',
      'title',
    )
    expectError(await offer({ milestones: [{ amount: 10_000 }] }), 400, 'parameter_missing', 'milestones[0].title')
    expectError(
      await post(env, a.token, '/v1/offers', { role: 'client', ...offerTerms() }),
      400,
      'parameter_missing',
      'counterparty_email',
    )
  })

  it('refuses invalid amounts: non-integer, 0, negative, above 10^12, strings (400 amount_invalid)', async () => {
    for (const amount of [1.5, 0, -500, 1_000_000_000_001, '10000', null, true]) {
      expectError(await line({ amount }), 400, 'amount_invalid', 'milestones[0].amount')
    }
    for (const amount of [0, 2.5, '100', 1e13]) {
      expectError(await post(env, a.token, '/v1/payouts', { amount, currency: 'USD' }), 400, 'amount_invalid', 'amount')
    }
    expectError(
      await offer({
        payment_mode: 'by_entry',
        unit_name: 'page',
        unit_price: 0,
        milestones: [{ title: 'x', entries: 1 }],
      }),
      400,
      'amount_invalid',
      'unit_price',
    )
    // the upper bound itself is valid
    const max = ok(await line({ amount: 1_000_000_000_000 }), 201)
    expect(max.terms.total).toBe(1_000_000_000_000)
  })

  it('refuses unsupported currencies: lower case, unknown and XXX (400 currency_unsupported)', async () => {
    for (const currency of ['usd', 'XYZ', 'XXX', 'US', 'USDT', '', 840]) {
      expectError(await offer({ currency }), 400, 'currency_unsupported', 'currency')
    }
    for (const currency of ['usd', 'XYZ']) {
      expectError(
        await post(env, a.token, '/v1/payouts', { amount: 100, currency }),
        400,
        'currency_unsupported',
        'currency',
      )
      expectError(
        await get(env, a.token, `/v1/statements?currency=${currency}`),
        400,
        'currency_unsupported',
        'currency',
      )
      expectError(
        await post(env, a.token, '/v1/plans', { total: 100_000, currency, payment_mode: 'by_milestone' }),
        400,
        'currency_unsupported',
        'currency',
      )
    }
  })

  it('enforces text lengths: titles 200 characters, descriptions and messages 10,000', async () => {
    ok(await offer({ title: 't'.repeat(200) }), 201)
    expectError(await offer({ title: 't'.repeat(201) }), 400, 'parameter_invalid', 'title')
    expectError(await offer({ title: '' }), 400, 'parameter_invalid', 'title')
    expectError(await line({ title: 'm'.repeat(201) }), 400, 'parameter_invalid', 'milestones[0].title')
    ok(await offer({ description: 'd'.repeat(10_000) }), 201)
    expectError(await offer({ description: 'd'.repeat(10_001) }), 400, 'parameter_invalid', 'description')
    expectError(
      await line({ acceptance_criteria: 'c'.repeat(10_001) }),
      400,
      'parameter_invalid',
      'milestones[0].acceptance_criteria',
    )
    const d = await contract(env)
    await fund(env, d)
    expectError(
      await post(env, d.freelancer.token, `/v1/milestones/${d.ids[0]}/submit`, { message: 'm'.repeat(10_001) }),
      400,
      'parameter_invalid',
      'message',
    )
    expect((await submit(env, d, d.ids[0]!, { message: 'm'.repeat(10_000) })).submission.message).toHaveLength(10_000)
  })

  it('answers malformed JSON with 400 json_invalid and a non-JSON body with 400', async () => {
    const h = { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' }
    for (const body of ['{"title":', '{title: 1}', "{'a': 1}", '[1,2', '{"a":1}}']) {
      expectError(await raw(env, 'POST', '/v1/offers', h, body), 400, 'json_invalid')
    }
    const plain = await raw(
      env,
      'POST',
      '/v1/offers',
      { authorization: `Bearer ${a.token}`, 'content-type': 'text/plain' },
      'hello',
    )
    expect(plain.status).toBe(400)
    expect(plain.body.error.type).toBe('invalid_request_error')
    expectError(await raw(env, 'POST', '/v1/offers', h, '[]'), 400, 'parameter_invalid')
    expectError(await raw(env, 'POST', '/v1/offers', h, '"text"'), 400, 'parameter_invalid')
  })

  it('answers a body over 1 MiB with 413 payload_too_large, and accepts one just under', async () => {
    const h = { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' }
    const big = JSON.stringify({ ...offerTerms(), description: 'x'.repeat(1024 * 1024) })
    expectError(await raw(env, 'POST', '/v1/offers', h, big), 413, 'payload_too_large')
    const under = JSON.stringify({
      role: 'client',
      counterparty_email: b.email,
      ...offerTerms({ padding: undefined }),
      description: 'y'.repeat(10_000),
    })
    expect(under.length).toBeLessThan(1024 * 1024)
    ok(await raw(env, 'POST', '/v1/offers', h, under), 201)
  })

  it('round-trips odd text exactly through offers, contracts, milestones, submissions and events', async () => {
    const title = '💸 "Phase 1" — l\'été; DROP TABLE x;--'
    const o = ok(
      await post(env, a.token, '/v1/offers', {
        role: 'client',
        counterparty_email: b.email,
        ...offerTerms({
          title,
          description: ODD,
          milestones: [{ title: `${title} ✓`, description: ODD, acceptance_criteria: ODD, amount: 10_000 }],
        }),
      }),
      201,
    )
    expect(o.terms.title).toBe(title)
    expect(o.terms.description).toBe(ODD)
    const read = ok(await get(env, b.token, `/v1/offers/${o.id}`))
    expect(read.terms.milestones[0]).toMatchObject({ title: `${title} ✓`, description: ODD, acceptance_criteria: ODD })
    const acc = ok(await post(env, b.token, `/v1/offers/${o.id}/accept`, { revision: 1 }))
    const c = ok(await get(env, a.token, `/v1/contracts/${acc.contract_id}`))
    expect(c.title).toBe(title)
    expect(c.description).toBe(ODD)
    expect(c.milestones[0]).toMatchObject({ title: `${title} ✓`, description: ODD, acceptance_criteria: ODD })
    const ms = c.milestones[0].id
    ok(await post(env, a.token, `/v1/milestones/${ms}/fund`))
    const links = ['https://example.com/a?b=c&d="e"#f', 'ftp://ünïcödé.example/путь', ODD.slice(0, 50)]
    ok(await post(env, b.token, `/v1/milestones/${ms}/submit`, { message: ODD, links }))
    const m = await milestone(env, a.token, ms)
    expect(m.submission.message).toBe(ODD)
    expect(m.submission.links).toEqual(links)
    const ev = ok(await get(env, a.token, '/v1/events?type=milestone.submitted'))
    expect(ev.data[0].data.object.submission.message).toBe(ODD)
    const ch = ok(await post(env, a.token, `/v1/milestones/${ms}/request_changes`, { message: ODD }))
    expect(ch.state).toBe('changes_requested')
    const rr = ok(await post(env, a.token, `/v1/milestones/${ms}/request_refund`, { reason: ODD }))
    const req = ok(await get(env, b.token, `/v1/refund_requests/${rr.refund_request_id}`))
    expect(req.reason).toBe(ODD)
  })

  it('never alters text it cannot store: a NUL or a lone surrogate is stored exactly or refused with 400', async () => {
    for (const bad of ['a\u0000b', 'lone \ud800 high', 'lone \udc00 low']) {
      const res = await offer({ description: bad })
      if (res.status === 201) {
        expect(ok(await get(env, b.token, `/v1/offers/${res.body.id}`)).terms.description).toBe(bad)
      } else {
        expectError(res, 400, 'parameter_invalid', 'description')
      }
    }
  })

  it('runs checks in order: 401, then 404 for non-parties, then 403 for the wrong role, then 400, then 409', async () => {
    const d = await contract(env)
    const s = await user(env, 'stranger')
    const url = `/v1/milestones/${d.ids[0]}/submit`
    expectError(await post(env, undefined, url, { bogus: 1 }), 401, 'authentication_required')
    expectError(await post(env, s.token, url, { message: 'x' }), 404, 'resource_missing')
    expectError(await post(env, d.client.token, url, { message: 'x' }), 403, 'actor_not_allowed')
    expectError(await post(env, d.freelancer.token, url, { message: 'x' }), 409, 'invalid_state_transition')
    const bad = { message: 'x', bogus: 1 }
    expectError(await post(env, d.freelancer.token, url, bad), 400, 'parameter_unknown', 'bogus')
    // SPEC §5: visibility and role come before validation
    expectError(await post(env, s.token, url, bad), 404, 'resource_missing')
    expectError(await post(env, d.client.token, url, bad), 403, 'actor_not_allowed')
  })

  it('checks the rules of a command (400) before the state (409): amendments, proposals, decisions', async () => {
    const ended = await contract(env, {}, [100_000, 100_000])
    ok(await post(env, ended.client.token, `/v1/contracts/${ended.cid}/end`, {}))
    const tooSmall = { add: [{ title: 'Too small', amount: 1 }] }
    expectError(
      await post(env, ended.client.token, `/v1/contracts/${ended.cid}/amendments`, tooSmall),
      400,
      'amount_invalid',
      'add[0].amount',
    )
    expectError(
      await post(env, ended.client.token, `/v1/contracts/${ended.cid}/amendments`, {
        add: [{ title: 'Fine', amount: 10_000 }],
      }),
      409,
      'invalid_state_transition',
    )
    const d = await contract(env, {}, [100_000])
    await fund(env, d)
    const admin = await adminUser(env)
    const dsp = ok(
      await post(env, d.client.token, `/v1/milestones/${d.ids[0]}/disputes`, { reason: 'r', release_amount: 0 }),
      201,
    )
    ok(await post(env, d.freelancer.token, `/v1/disputes/${dsp.id}/escalate`, {}))
    const over = { release_amount: 100_001 }
    expectError(
      await post(env, d.freelancer.token, `/v1/disputes/${dsp.id}/proposals`, over),
      400,
      'amount_invalid',
      'release_amount',
    )
    ok(await post(env, admin!.token, `/v1/disputes/${dsp.id}/decide`, { release_amount: 0, note: 'n' }))
    expectError(
      await post(env, admin!.token, `/v1/disputes/${dsp.id}/decide`, { ...over, note: 'n' }),
      400,
      'amount_invalid',
      'release_amount',
    )
    expectError(
      await post(env, admin!.token, `/v1/disputes/${dsp.id}/decide`, { release_amount: 0, note: 'n' }),
      409,
      'invalid_state_transition',
    )
  })

  it('answers unknown routes and malformed ids with 404 resource_missing (or 400 for a malformed id)', async () => {
    expectError(await get(env, a.token, '/v1/nothing-here'), 404, 'resource_missing')
    expectError(await call(env, 'DELETE', '/v1/offers', { token: a.token }), 404, 'resource_missing')
    expectError(await get(env, a.token, '/v1/milestones/ms_doesnotexist'), 404, 'resource_missing')
    expectError(await get(env, a.token, '/v1/contracts/ctr_doesnotexist'), 404, 'resource_missing')
    const bad = await get(env, a.token, '/v1/milestones/not-an-id')
    expect([400, 404]).toContain(bad.status)
  })

  it('validates list parameters: limit 1..100, unknown query fields', async () => {
    expect(ok(await get(env, a.token, '/v1/offers?limit=1')).data).toHaveLength(1)
    ok(await get(env, a.token, '/v1/offers?limit=100'))
    for (const limit of ['0', '101', '-1', 'abc', '1.5']) {
      expectError(await get(env, a.token, `/v1/offers?limit=${limit}`), 400, 'parameter_invalid', 'limit')
    }
    expectError(await get(env, a.token, '/v1/contracts?colour=red'), 400, 'parameter_unknown', 'colour')
    // each list takes the filters it applies, and refuses the others rather than answering unfiltered
    ok(await get(env, a.token, '/v1/contracts?status=active'))
    ok(await get(env, a.token, '/v1/events?type=offer.created&contract_id=ctr_x'))
    for (const [url, param] of [
      ['/v1/ledger/entries?contract_id=ctr_x', 'contract_id'],
      ['/v1/contracts?contract_id=ctr_x', 'contract_id'],
      ['/v1/offers?type=offer.created', 'type'],
      ['/v1/events?status=active', 'status'],
      ['/v1/payouts?status=paid', 'status'],
      ['/v1/balances?currency=USD', 'currency'],
      ['/v1/api_keys?status=active', 'status'],
    ] as const)
      expectError(await get(env, a.token, url), 400, 'parameter_unknown', param)
    // a filter's value is one there is
    expectError(await get(env, a.token, '/v1/contracts?status=bogus'), 400, 'parameter_invalid', 'status')
    expectError(await get(env, a.token, '/v1/offers?status=active'), 400, 'parameter_invalid', 'status')
    expectError(await get(env, a.token, '/v1/events?type=milestone.paid'), 400, 'parameter_invalid', 'type')
    ok(await get(env, a.token, '/v1/events?type=milestone.*'))
    expectError(await get(env, a.token, '/v1/events?type=invoice.*'), 400, 'parameter_invalid', 'type')
    // API keys and webhook endpoints page like every list
    const u = await user(env, 'keys')
    for (let i = 0; i < 3; i++) ok(await post(env, u.token, '/v1/api_keys', { name: `k${i}` }), 201)
    const first = ok(await get(env, u.token, '/v1/api_keys?limit=2'))
    expect([first.data.length, first.has_more]).toEqual([2, true])
    const rest = ok(await get(env, u.token, `/v1/api_keys?limit=2&starting_after=${first.data[1].id}`))
    expect([rest.data.length, rest.has_more]).toEqual([1, false])
    expect(new Set([...first.data, ...rest.data].map((k: { id: string }) => k.id)).size).toBe(3)
    ok(await get(env, u.token, '/v1/webhook_endpoints?limit=1'))
    expectError(await get(env, u.token, '/v1/api_keys?limit=0'), 400, 'parameter_invalid', 'limit')
  })

  it('says in words what a refused value must be: the allowed values, the format, the place of the parameter', async () => {
    const message = (res: { body: { error: { message: string } } }) => res.body.error.message
    expect(message(await offer({ role: 'boss' }))).toBe('Invalid parameter role: must be one of: client, freelancer.')
    expect(message(await offer({ payment_mode: 'hourly' }))).toBe(
      'Invalid parameter payment_mode: must be one of: by_project, by_milestone, by_entry.',
    )
    expect(message(await offer({ currency: 'usd' }))).toBe(
      'Invalid parameter currency: must be an ISO 4217 code in upper case, like USD.',
    )
    expect(message(await line({ due_date: 'tomorrow' }))).toBe(
      'Invalid parameter milestones[0].due_date: must be a date written YYYY-MM-DD.',
    )
    expect(message(await line({ amount: '100' }))).toBe(
      'Invalid parameter milestones[0].amount: must be a whole number of minor units.',
    )
    expect(message(await line({ entries: 1.5 }))).toBe(
      'Invalid parameter milestones[0].entries: must be a whole number.',
    )
    expect(message(await get(env, a.token, '/v1/contracts?limit=0'))).toBe(
      'Invalid query parameter limit: must be a whole number from 1 to 100.',
    )
    expect(message(await get(env, a.token, '/v1/contracts?status=bogus'))).toBe(
      'Invalid query parameter status: must be one of: active, completed, ended.',
    )
    expect(message(await get(env, a.token, '/v1/events?type=milestone.paid'))).toBe(
      'Invalid query parameter type: must be an event type, like milestone.funded, or a family of them, like milestone.*.',
    )
    expect(message(await get(env, a.token, '/v1/milestones/not-an-id'))).toBe(
      'Invalid path parameter id: must be an id that starts with ms_.',
    )
    expect(message(await get(env, a.token, '/v1/statements?currency=USD&format=xml'))).toBe(
      'Invalid query parameter format: must be one of: json, csv.',
    )
    expect(message(await line({ title: '' }))).toBe('Invalid parameter milestones[0].title: must not be empty.')
    expect(message(await offer({ title: 'x'.repeat(201) }))).toBe(
      'Invalid parameter title: must have at most 200 characters.',
    )
    expect(message(await offer({ milestones: [] }))).toBe('Invalid parameter milestones: must have at least 1 item.')
    expect(message(await offer({ review_days: 31 }))).toBe('Invalid parameter review_days: must be at most 30.')
    expect(message(await line({ amount: 0 }))).toBe('Invalid parameter milestones[0].amount: must be at least 1.')
    expect(message(await line({ amount: 499 }))).toBe('A milestone is at least USD 5.00 (500 minor units).')
    // a body that is not a JSON object: say so, rather than name a parameter "body"
    for (const body of ['[1]', '"text"']) {
      const res = await raw(
        env,
        'POST',
        '/v1/offers',
        { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
        body,
      )
      expectError(res, 400, 'parameter_invalid')
      expect(res.body.error.message).toBe('The request body must be a JSON object (Content-Type: application/json).')
    }
  })

  it('answers a cursor that names nothing the caller may list with 404, not a silent first page', async () => {
    const d = await contract(env) // a contract of two other users
    const stranger = await user(env, 'stranger')
    const theirs = { offers: d.contract.offer_id, contracts: d.cid } as Record<string, string>
    for (const list of ['offers', 'contracts', 'events', 'payouts', 'ledger/entries']) {
      expectError(
        await get(env, a.token, `/v1/${list}?starting_after=${list.startsWith('ledger') ? 'jel_999999' : 'x_nothing'}`),
        404,
        'resource_missing',
        'starting_after',
      )
      if (theirs[list])
        expectError(
          await get(env, stranger.token, `/v1/${list}?starting_after=${theirs[list]}`),
          404,
          'resource_missing',
          'starting_after',
        )
    }
    // a party's own cursor still pages
    const first = ok(await get(env, d.client.token, '/v1/events?limit=1'))
    ok(await get(env, d.client.token, `/v1/events?limit=1&starting_after=${first.data[0].id}`))
    expectError(
      await get(env, stranger.token, `/v1/events?starting_after=${first.data[0].id}`),
      404,
      'resource_missing',
      'starting_after',
    )
  })

  it('sends security headers and JSON errors', async () => {
    const res = await get(env, undefined, '/v1/me')
    expect(res.headers['content-type']).toMatch(/application\/json/)
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(Object.keys(res.body)).toEqual(['error'])
  })
})
