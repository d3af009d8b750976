/** Balances, payouts, statements and ledger entries (SPEC §7). */
import { Readable } from 'node:stream'
import { Type } from 'typebox'
import type { App } from '../../app/app.ts'
import {
  balances,
  createPayout,
  myLedgerEntries,
  presentPayout,
  STATEMENT_PAGE_MAX,
  statement,
  statementCsv,
  timeParam,
} from '../../app/money.ts'
import { fail, noCursor } from '../../domain/errors.ts'
import { isSupportedCurrency } from '../../domain/money.ts'
import { afterCursor } from '../../store/paging.ts'
import { actorOf } from '../auth.ts'
import { idempotent } from '../idempotency.ts'
import { big, list, page, type Server } from '../route-kit.ts'
import { Amount, Currency, Id, ListQuery, NoQuery, StatementQuery, Strict } from '../schemas.ts'

const auth = { auth: 'user' as const }

export function moneyRoutes(server: Server, app: App) {
  server.get(
    '/v1/balances',
    {
      config: auth,
      schema: { tags: ['money'], summary: 'My balances per currency: available and pending', querystring: NoQuery },
    },
    async (req) => list(await balances(app, req.user!.id), false, '/v1/balances'),
  )
  server.post(
    '/v1/payouts',
    {
      config: auth,
      schema: {
        tags: ['money'],
        summary: 'Pay out available money through the rail',
        body: Strict({ amount: Amount, currency: Currency }),
      },
    },
    async (req, reply) =>
      idempotent(app, req, reply, 201, (idem) =>
        createPayout(app, actorOf(req), { amount: big(req.body.amount), currency: req.body.currency }, idem),
      ),
  )
  server.get(
    '/v1/payouts',
    { config: auth, schema: { tags: ['money'], summary: 'My payouts', querystring: ListQuery } },
    async (req) => {
      const p = page(req.query)
      let q = app.store.db.selectFrom('payouts').selectAll().where('user_id', '=', req.user!.id)
      if (p.startingAfter) {
        const cur =
          (await app.store.db
            .selectFrom('payouts')
            .select(['created_at', 'id'])
            .where('id', '=', p.startingAfter)
            .where('user_id', '=', req.user!.id)
            .executeTakeFirst()) ?? noCursor(p.startingAfter)
        q = q.where(afterCursor(cur))
      }
      const rows = await q
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(p.limit + 1)
        .execute()
      return list(rows.slice(0, p.limit).map(presentPayout), rows.length > p.limit, '/v1/payouts')
    },
  )
  server.get(
    '/v1/payouts/:id',
    {
      config: auth,
      schema: { tags: ['money'], summary: 'One of my payouts', params: Type.Object({ id: Id('pay') }) },
    },
    async (req) => {
      const row = await app.store.db
        .selectFrom('payouts')
        .selectAll()
        .where('id', '=', req.params.id)
        .where('user_id', '=', req.user!.id)
        .executeTakeFirst()
      return row ? presentPayout(row) : fail('resource_missing', `No such payout: ${req.params.id}.`)
    },
  )
  server.get(
    '/v1/statements',
    {
      config: auth,
      schema: {
        tags: ['money'],
        summary: 'Statement with running balance (JSON a page at a time, or the whole as CSV with format=csv)',
        querystring: StatementQuery,
      },
    },
    async (req, reply) => {
      const q = req.query
      if (!isSupportedCurrency(q.currency))
        fail('currency_unsupported', `Currency ${q.currency} is not supported.`, 'currency')
      const csv = q.format === 'csv'
      // the CSV is always the whole statement: a page of it would be mistaken for all of it
      for (const param of ['limit', 'starting_after'] as const)
        if (csv && q[param] !== undefined)
          fail('parameter_invalid', `${param} applies to the JSON statement only; the CSV holds every line.`, param)
      const query = {
        currency: q.currency,
        from: timeParam(q.from, 'from'),
        to: timeParam(q.to, 'to', true),
        account: q.account ?? 'available',
      }
      const first = await statement(app, req.user!.id, query, {
        limit: q.limit === undefined ? STATEMENT_PAGE_MAX : Number(q.limit),
        startingAfter: q.starting_after ?? null,
      })
      if (!csv) return first
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="tranche-statement-${q.currency}.csv"`)
      return reply.send(Readable.from(statementCsv(app, req.user!.id, query, first)))
    },
  )
  server.get(
    '/v1/ledger/entries',
    { config: auth, schema: { tags: ['money'], summary: 'Journal lines on my accounts', querystring: ListQuery } },
    async (req) => {
      const lines = await myLedgerEntries(app, req.user!.id, page(req.query))
      return list(lines.data, lines.has_more, '/v1/ledger/entries') // with its url, as every list
    },
  )
}
