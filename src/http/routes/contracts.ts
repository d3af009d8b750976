/** Contracts, amendments, milestones and refund requests (SPEC §5–6, §10); disputes are in disputes.ts. */
import { type Static, type TSchema, Type } from 'typebox'
import { contractFor } from '../../app/access.ts'
import type { App } from '../../app/app.ts'
import { contractCommand, milestoneCommand } from '../../app/contracts.ts'
import { presentAmendment, presentContract, presentMilestone, presentRefundRequest } from '../../app/present.ts'
import type { Contract, ContractStatus } from '../../domain/contract-model.ts'
import { fail } from '../../domain/errors.ts'
import { listFor } from '../../store/repos/aggregate-repo.ts'
import { actorOf } from '../auth.ts'
import { idempotent } from '../idempotency.ts'
import { withParties, withPartiesOne } from '../parties.ts'
import { big, list, opt, page, type Server } from '../route-kit.ts'
import { Amount, Id, IsoDate, Link, MilestoneLine, Reason, StatusListQuery, Strict, Text, Title } from '../schemas.ts'
import { disputeRoutes } from './disputes.ts'

const P = (prefix: string) => Type.Object({ id: Id(prefix) })
const PaymentMethod = Type.Optional(Type.String({ minLength: 3, maxLength: 100 }))
const auth = { auth: 'user' as const }

const milestoneOf = (c: Contract, id: string) => presentMilestone(c, c.milestones.find((m) => m.id === id)!)
const refundRequestOf = (c: Contract, id: string) => presentRefundRequest(c, c.refundRequests.find((r) => r.id === id)!)

const EditItem = Strict({
  id: Type.Optional(Id('ms')),
  milestone_id: Type.Optional(Id('ms')),
  title: Type.Optional(Title),
  description: Type.Optional(Text),
  acceptance_criteria: Type.Optional(Text),
  amount: Type.Optional(Amount),
  entries: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  due_date: Type.Optional(Type.Union([IsoDate, Type.Null()])),
})
const RemoveItem = Type.Union([
  Id('ms'),
  Strict({ id: Type.Optional(Id('ms')), milestone_id: Type.Optional(Id('ms')) }),
])

export function contractRoutes(server: Server, app: App) {
  server.get(
    '/v1/contracts',
    {
      config: auth,
      schema: {
        tags: ['contracts'],
        summary: 'My contracts (all, for the admin)',
        description: 'Each with `parties`: the client and the freelancer, each {id, name, email}.',
        querystring: StatusListQuery(['active', 'completed', 'ended'] satisfies ContractStatus[]),
      },
    },
    async (req) => {
      const actor = actorOf(req)
      const res = await listFor<Contract>(app.store.db, 'contracts', actor.kind === 'admin' ? null : actor.id, {
        ...page(req.query),
        status: req.query.status ?? null,
      })
      return list(await withParties(app.store.db, res.data.map(presentContract)), res.hasMore, '/v1/contracts')
    },
  )
  server.get(
    '/v1/contracts/:id',
    {
      config: auth,
      schema: {
        tags: ['contracts'],
        summary: 'A contract with milestones, totals and exposure',
        description: 'With `parties`: the client and the freelancer, each {id, name, email}.',
        params: P('ctr'),
      },
    },
    async (req) => {
      const { value } = await contractFor(app.store.db, req.params.id, actorOf(req), 'contract')
      return withPartiesOne(app.store.db, presentContract(value))
    },
  )
  server.post(
    '/v1/contracts/:id/fund',
    {
      config: auth,
      schema: {
        tags: ['contracts'],
        summary: 'Fund several milestones in one atomic call',
        params: P('ctr'),
        body: Strict({
          milestone_ids: Type.Array(Id('ms'), { minItems: 1, maxItems: 100 }),
          payment_method: PaymentMethod,
        }),
      },
    },
    async (req, reply) =>
      idempotent(
        app,
        req,
        reply,
        200,
        (idem) =>
          milestoneCommand(
            app,
            actorOf(req),
            { type: 'fund', milestoneIds: req.body.milestone_ids },
            { idem, paymentMethod: req.body.payment_method, contractId: req.params.id },
          ),
        presentContract,
      ),
  )
  server.post(
    '/v1/contracts/:id/end',
    {
      config: auth,
      schema: { tags: ['contracts'], summary: 'End the contract early', params: P('ctr'), body: Reason },
    },
    async (req, reply) =>
      idempotent(
        app,
        req,
        reply,
        200,
        (idem) =>
          contractCommand(app, actorOf(req), req.params.id, { type: 'end', reason: req.body.reason ?? null }, idem),
        presentContract,
      ),
  )
  server.post(
    '/v1/contracts/:id/amendments',
    {
      config: auth,
      schema: {
        tags: ['amendments'],
        summary: 'Propose an amendment: add milestones, edit or remove pending ones',
        params: P('ctr'),
        body: Strict({
          add: Type.Optional(Type.Array(MilestoneLine, { maxItems: 100 })),
          edit: Type.Optional(Type.Array(EditItem, { maxItems: 100 })),
          remove: Type.Optional(Type.Array(RemoveItem, { maxItems: 100 })),
          message: Type.Optional(Text),
        }),
      },
    },
    async (req, reply) => {
      const b = req.body
      const edit = (b.edit ?? []).map((e, i) => {
        const milestoneId =
          e.id ?? e.milestone_id ?? fail('parameter_missing', 'Each edit names its milestone (id).', `edit[${i}].id`)
        return {
          milestoneId,
          ...(e.title !== undefined ? { title: e.title } : {}),
          ...(e.description !== undefined ? { description: e.description } : {}),
          ...(e.acceptance_criteria !== undefined ? { acceptanceCriteria: e.acceptance_criteria } : {}),
          ...(e.amount !== undefined ? { amount: big(e.amount) } : {}),
          ...(e.entries !== undefined ? { entries: e.entries } : {}),
          ...(e.due_date !== undefined ? { dueDate: e.due_date } : {}),
        }
      })
      const remove = (b.remove ?? []).map((r, i) =>
        typeof r === 'string'
          ? r
          : (r.id ?? r.milestone_id ?? fail('parameter_missing', 'Each removal names its milestone.', `remove[${i}]`)),
      )
      const add = (b.add ?? []).map((m) => ({
        title: m.title,
        description: m.description ?? '',
        acceptanceCriteria: m.acceptance_criteria ?? '',
        amount: m.amount === undefined ? null : big(m.amount),
        dueDate: m.due_date ?? null,
        deposit: m.deposit ?? false,
        entries: m.entries ?? null,
      }))
      return idempotent(
        app,
        req,
        reply,
        201,
        (idem) =>
          contractCommand(
            app,
            actorOf(req),
            req.params.id,
            { type: 'propose_amendment', add, edit, remove, minimumMajor: app.config.minimumMilestoneMajor },
            idem,
          ),
        (c) => presentAmendment(c, c.amendments[c.amendments.length - 1]!.id),
      )
    },
  )
  for (const verb of ['accept', 'reject', 'withdraw'] as const) {
    server.post(
      `/v1/amendments/:id/${verb}`,
      {
        config: auth,
        schema: {
          tags: ['amendments'],
          summary: `${verb[0]!.toUpperCase()}${verb.slice(1)} an amendment`,
          params: P('amd'),
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
            contractCommand(
              app,
              actorOf(req),
              req.params.id,
              { type: `${verb}_amendment`, amendmentId: req.params.id },
              idem,
            ),
          (c) => presentAmendment(c, req.params.id),
        ),
    )
  }
  server.get(
    '/v1/amendments/:id',
    { config: auth, schema: { tags: ['amendments'], summary: 'An amendment', params: P('amd') } },
    async (req) =>
      presentAmendment(
        (await contractFor(app.store.db, req.params.id, actorOf(req), 'amendment')).value,
        req.params.id,
      ),
  )

  milestoneRoutes(server, app)
  disputeRoutes(server, app)
}

function milestoneRoutes(server: Server, app: App) {
  const M = P('ms')
  server.get(
    '/v1/milestones/:id',
    { config: auth, schema: { tags: ['milestones'], summary: 'A milestone', params: M } },
    async (req) =>
      milestoneOf((await contractFor(app.store.db, req.params.id, actorOf(req), 'milestone')).value, req.params.id),
  )
  const route = <B extends TSchema>(
    name: string,
    summary: string,
    body: B,
    toCommand: (id: string, b: Static<B>) => Parameters<typeof milestoneCommand>[2],
    paymentMethod?: (b: Static<B>) => string | undefined,
  ) =>
    server.post(
      `/v1/milestones/:id/${name}`,
      { config: auth, schema: { tags: ['milestones'], summary, params: M, body } },
      async (req, reply) =>
        idempotent(
          app,
          req,
          reply,
          200,
          (idem) =>
            milestoneCommand(app, actorOf(req), toCommand(req.params.id, req.body as Static<B>), {
              idem,
              paymentMethod: paymentMethod?.(req.body as Static<B>),
            }),
          (c) => milestoneOf(c, req.params.id),
        ),
    )

  route(
    'fund',
    'Fund the milestone into escrow (credit first, then the payment method)',
    Strict({ payment_method: PaymentMethod }),
    (id) => ({ type: 'fund', milestoneIds: [id] }),
    (b) => b.payment_method,
  )
  route(
    'submit',
    'Submit the work: the review window starts',
    Strict({
      message: Type.String({ minLength: 1, maxLength: 10_000 }),
      links: Type.Optional(Type.Array(Link, { maxItems: 50 })),
      entries: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 10_000 }), { maxItems: 10_000 })),
    }),
    (id, b) => ({ type: 'submit', milestoneId: id, message: b.message, links: b.links ?? [], entries: opt(b.entries) }),
  )
  route(
    'request_changes',
    'Ask for changes (uses one revision)',
    Strict({ message: Type.String({ minLength: 1, maxLength: 10_000 }) }),
    (id, b) => ({
      type: 'request_changes',
      milestoneId: id,
      message: b.message,
    }),
  )
  route(
    'approve',
    'Release all, part, or more (a bonus)',
    Strict({
      amount: Type.Optional(Amount),
      accepted_entries: Type.Optional(
        Type.Array(Type.Integer({ minimum: 1, maximum: 10_000 }), { minItems: 1, maxItems: 10_000 }),
      ),
      bonus: Type.Optional(Amount),
      rest: Type.Optional(Type.Union([Type.Literal('refund'), Type.Literal('rework')])),
      message: Type.Optional(Text),
      payment_method: PaymentMethod,
    }),
    (id, b) => ({
      type: 'approve',
      milestoneId: id,
      amount: b.amount === undefined ? null : big(b.amount),
      acceptedEntries: opt(b.accepted_entries),
      bonus: b.bonus === undefined ? null : big(b.bonus),
      rest: b.rest ?? 'refund',
      message: opt(b.message),
    }),
    (b) => b.payment_method,
  )
  route(
    'request_refund',
    'Ask for the escrow back (the freelancer has 7 days)',
    Strict({ reason: Type.String({ minLength: 1, maxLength: 10_000 }) }),
    (id, b) => ({
      type: 'request_refund',
      milestoneId: id,
      reason: b.reason,
    }),
  )
  route('refund', 'Refund the remaining escrow to the client', Reason, (id, b) => ({
    type: 'refund',
    milestoneId: id,
    reason: opt(b.reason),
  }))

  const R = P('rfr')
  server.get(
    '/v1/refund_requests/:id',
    { config: auth, schema: { tags: ['refunds'], summary: 'A refund request', params: R } },
    async (req) =>
      refundRequestOf(
        (await contractFor(app.store.db, req.params.id, actorOf(req), 'refund request')).value,
        req.params.id,
      ),
  )
  for (const verb of ['accept', 'decline'] as const) {
    server.post(
      `/v1/refund_requests/:id/${verb}`,
      {
        config: auth,
        schema: {
          tags: ['refunds'],
          summary: verb === 'accept' ? 'Accept: the rest goes back to the client' : 'Decline: a dispute opens',
          params: R,
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
            milestoneCommand(
              app,
              actorOf(req),
              verb === 'accept'
                ? { type: 'accept_refund', refundRequestId: req.params.id, reason: opt(req.body.reason) }
                : { type: 'decline_refund', refundRequestId: req.params.id, reason: opt(req.body.reason) },
              { idem },
            ),
          (c) => refundRequestOf(c, req.params.id),
        ),
    )
  }
}
