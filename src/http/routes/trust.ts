/** Reputation and the milestone planner (SPEC §8). */
import { Type } from 'typebox'
import type { App } from '../../app/app.ts'
import { plan, reputation } from '../../app/trust.ts'
import type { Server } from '../route-kit.ts'
import { Amount, Currency, Id, Strict } from '../schemas.ts'

export function trustRoutes(server: Server, app: App) {
  server.get(
    '/v1/users/:id/reputation',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['trust'],
        summary: "A user's payment history as client and freelancer",
        params: Type.Object({ id: Id('usr') }),
      },
    },
    async (req) => reputation(app, req.params.id),
  )
  server.post(
    '/v1/plans',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['trust'],
        summary: 'Plan a milestone schedule that starts small and grows with trust',
        body: Strict({
          total: Amount,
          currency: Currency,
          payment_mode: Type.Union([
            Type.Literal('by_project'),
            Type.Literal('by_milestone'),
            Type.Literal('by_entry'),
          ]),
          counterparty_id: Type.Optional(Id('usr')),
          upfront_bps: Type.Optional(Type.Integer({ minimum: 0, maximum: 5000 })),
          entries: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
          unit_price: Type.Optional(Amount),
        }),
      },
    },
    async (req) => {
      const b = req.body
      const entries =
        b.entries !== undefined || b.unit_price !== undefined
          ? { count: b.entries ?? null, unitPrice: b.unit_price !== undefined ? BigInt(b.unit_price) : null }
          : null
      return plan(app, {
        total: BigInt(b.total),
        currency: b.currency,
        paymentMode: b.payment_mode,
        counterpartyId: b.counterparty_id ?? null,
        upfrontBps: b.upfront_bps ?? null,
        entries,
      })
    },
  )
}
