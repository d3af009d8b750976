/** Disputes on milestones: opening, proposals, acceptance, escalation and the admin's decision (SPEC §6, §10). */
import { Type } from 'typebox'
import { contractFor } from '../../app/access.ts'
import type { App } from '../../app/app.ts'
import { disputeCommand } from '../../app/contracts.ts'
import { presentDispute } from '../../app/present.ts'
import type { Contract } from '../../domain/contract-model.ts'
import { actorOf } from '../auth.ts'
import { idempotent } from '../idempotency.ts'
import { big, type Server } from '../route-kit.ts'
import { Amount0, Id, Reason, Strict, Text } from '../schemas.ts'

const P = (prefix: string) => Type.Object({ id: Id(prefix) })
const auth = { auth: 'user' as const }
const disputeOf = (c: Contract, id: string) => presentDispute(c, c.disputes.find((d) => d.id === id)!)

export function disputeRoutes(server: Server, app: App) {
  const D = P('dsp')
  server.post(
    '/v1/milestones/:id/disputes',
    {
      config: auth,
      schema: {
        tags: ['disputes'],
        summary: 'Open a dispute, proposing a release amount',
        params: P('ms'),
        body: Strict({ reason: Type.String({ minLength: 1, maxLength: 10_000 }), release_amount: Amount0 }),
      },
    },
    async (req, reply) =>
      idempotent(
        app,
        req,
        reply,
        201,
        (idem) =>
          disputeCommand(
            app,
            actorOf(req),
            {
              type: 'open_dispute',
              milestoneId: req.params.id,
              reason: req.body.reason,
              releaseAmount: big(req.body.release_amount),
            },
            idem,
          ),
        (c) => disputeOf(c, c.milestones.find((m) => m.id === req.params.id)!.disputeId!),
      ),
  )
  server.get(
    '/v1/disputes/:id',
    { config: auth, schema: { tags: ['disputes'], summary: 'A dispute with its proposals', params: D } },
    async (req) =>
      disputeOf((await contractFor(app.store.db, req.params.id, actorOf(req), 'dispute')).value, req.params.id),
  )
  server.post(
    '/v1/disputes/:id/proposals',
    {
      config: auth,
      schema: {
        tags: ['disputes'],
        summary: 'Propose a release amount',
        params: D,
        body: Strict({ release_amount: Amount0, message: Type.Optional(Text) }),
      },
    },
    async (req, reply) =>
      idempotent(
        app,
        req,
        reply,
        201,
        (idem) =>
          disputeCommand(
            app,
            actorOf(req),
            {
              type: 'propose',
              disputeId: req.params.id,
              releaseAmount: big(req.body.release_amount),
              message: req.body.message ?? '',
            },
            idem,
          ),
        (c) => disputeOf(c, req.params.id),
      ),
  )
  server.post(
    '/v1/disputes/:id/proposals/:pid/accept',
    {
      config: auth,
      schema: {
        tags: ['disputes'],
        summary: "Accept the other side's (or the admin's) proposal",
        params: Type.Object({ id: Id('dsp'), pid: Id('prp') }),
        body: Reason,
      },
    },
    async (req, reply) =>
      idempotent(
        app,
        req,
        reply,
        200,
        (idem) =>
          disputeCommand(
            app,
            actorOf(req),
            { type: 'accept_proposal', disputeId: req.params.id, proposalId: req.params.pid },
            idem,
          ),
        (c) => disputeOf(c, req.params.id),
      ),
  )
  server.post(
    '/v1/disputes/:id/escalate',
    { config: auth, schema: { tags: ['disputes'], summary: 'Ask the admin to decide', params: D, body: Reason } },
    async (req, reply) =>
      idempotent(
        app,
        req,
        reply,
        200,
        (idem) => disputeCommand(app, actorOf(req), { type: 'escalate', disputeId: req.params.id }, idem),
        (c) => disputeOf(c, req.params.id),
      ),
  )
  server.post(
    '/v1/disputes/:id/decide',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['disputes'],
        summary: 'Admin: decide a dispute in arbitration',
        params: D,
        body: Strict({ release_amount: Amount0, note: Type.String({ minLength: 1, maxLength: 10_000 }) }),
      },
    },
    async (req, reply) =>
      idempotent(
        app,
        req,
        reply,
        200,
        (idem) =>
          disputeCommand(
            app,
            actorOf(req),
            {
              type: 'decide',
              disputeId: req.params.id,
              releaseAmount: big(req.body.release_amount),
              note: req.body.note,
            },
            idem,
          ),
        (c) => disputeOf(c, req.params.id),
      ),
  )
}
