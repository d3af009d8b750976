/** The admin's routes and the manual test clock (SPEC §10). */
import { Type } from 'typebox'
import type { App } from '../../app/app.ts'
import { decode } from '../../app/json-codec.ts'
import { presentDispute } from '../../app/present.ts'
import { verify } from '../../app/verify.ts'
import type { Contract, DisputeStatus } from '../../domain/contract-model.ts'
import { DomainError, noCursor } from '../../domain/errors.ts'
import { PLATFORM } from '../../domain/ledger.ts'
import { iso } from '../../domain/types.ts'
import type { Worker } from '../../jobs/worker.ts'
import { sharedBalance } from '../../store/repos/ledger-repo.ts'
import { list, page, type Server } from '../route-kit.ts'
import { StatusListQuery, Strict } from '../schemas.ts'

const admin = { auth: 'admin' as const }

export function adminRoutes(server: Server, app: App, worker: Worker | null) {
  server.get(
    '/v1/admin/disputes',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: 'Disputes, by status',
        querystring: StatusListQuery([
          'awaiting_response',
          'negotiation',
          'arbitration',
          'resolved',
        ] satisfies DisputeStatus[]),
      },
    },
    async (req) => {
      const p = page(req.query)
      const rows = await app.store.db
        .selectFrom('contracts')
        .innerJoin('object_index', 'object_index.contract_id', 'contracts.id')
        .select(['contracts.data'])
        .distinct()
        .where('object_index.id', 'like', 'dsp_%')
        .execute()
      const sorted = rows
        .flatMap((r) => {
          const c = decode<Contract>(r.data)
          return c.disputes.map((d) => presentDispute(c, d))
        })
        .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id < b.id ? 1 : -1))
      // the cursor is placed among all disputes: the one named may have left the status filtered on since
      const at = p.startingAfter ? sorted.findIndex((d) => d.id === p.startingAfter) : -1
      if (p.startingAfter && at < 0) noCursor(p.startingAfter)
      const start = at + 1
      const all = sorted.slice(start).filter((d) => !req.query.status || d.status === req.query.status)
      return list(all.slice(0, p.limit), p.limit < all.length, '/v1/admin/disputes')
    },
  )
  server.get(
    '/v1/admin/verify',
    { config: admin, schema: { tags: ['admin'], summary: 'Verify every ledger invariant' } },
    async () => ({ object: 'verification', ...(await verify(app.store)) }),
  )
  server.get(
    '/v1/admin/revenue',
    { config: admin, schema: { tags: ['admin'], summary: 'Platform revenue per currency' } },
    async () => {
      const rows = await sharedBalance(app.store.db, PLATFORM)
      return list(
        rows.map((r) => ({ object: 'revenue', currency: r.currency, fees: Number(r.balance) })),
        false,
        '/v1/admin/revenue',
      )
    },
  )

  const manualOnly = () => {
    if (!app.clock.manual || !worker)
      throw new DomainError('resource_missing', 'The test clock exists only with TRANCHE_CLOCK=manual.')
  }
  server.get(
    '/v1/test_clock',
    { config: admin, schema: { tags: ['admin'], summary: 'The manual test clock' } },
    async () => {
      manualOnly()
      return { object: 'test_clock', now: iso(app.clock.now()) }
    },
  )
  server.post(
    '/v1/test_clock/advance',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        summary: 'Advance the test clock; due timers run before it answers',
        body: Strict({ seconds: Type.Integer({ minimum: 0, maximum: 10 * 365 * 86_400 }) }),
      },
    },
    async (req) => {
      manualOnly()
      const now = await worker!.advance(req.body.seconds)
      return { object: 'test_clock', now: iso(now) }
    },
  )
}
