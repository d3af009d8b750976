/** Offers and negotiation (SPEC §4). */
import { Type } from 'typebox'
import { offerFor } from '../../app/access.ts'
import type { App } from '../../app/app.ts'
import { offerCommand, openOffer } from '../../app/offers.ts'
import { presentOffer } from '../../app/present.ts'
import type { Offer, OfferStatus } from '../../domain/offer.ts'
import type { TermsInput } from '../../domain/terms.ts'
import { listFor } from '../../store/repos/aggregate-repo.ts'
import { actorOf } from '../auth.ts'
import { idempotent } from '../idempotency.ts'
import { withParties, withPartiesOne } from '../parties.ts'
import { list, page, type Server } from '../route-kit.ts'
import { Id, OfferCreate, Reason, StatusListQuery, Strict, Terms } from '../schemas.ts'

type TermsBody = {
  title: string
  description?: string
  currency: string
  payment_mode: 'by_project' | 'by_milestone' | 'by_entry'
  review_days?: number
  revision_limit?: number
  unit_name?: string
  unit_price?: number
  milestones: {
    title: string
    description?: string
    acceptance_criteria?: string
    amount?: number
    due_date?: string | null
    deposit?: boolean
    entries?: number
  }[]
}

export function termsFromBody(b: TermsBody): TermsInput {
  return {
    title: b.title,
    description: b.description ?? '',
    currency: b.currency,
    paymentMode: b.payment_mode,
    reviewDays: b.review_days ?? 14,
    revisionLimit: b.revision_limit ?? 3,
    unitName: b.unit_name ?? null,
    unitPrice: b.unit_price === undefined ? null : BigInt(b.unit_price),
    milestones: b.milestones.map((m) => ({
      title: m.title,
      description: m.description ?? '',
      acceptanceCriteria: m.acceptance_criteria ?? '',
      amount: m.amount === undefined ? null : BigInt(m.amount),
      dueDate: m.due_date ?? null,
      deposit: m.deposit ?? false,
      entries: m.entries ?? null,
    })),
  }
}

const OfferParams = Type.Object({ id: Id('off') })

export function offerRoutes(server: Server, app: App) {
  server.post(
    '/v1/offers',
    {
      config: { auth: 'user' },
      schema: { tags: ['offers'], summary: 'Open an offer to a registered user', body: OfferCreate },
    },
    async (req, reply) => {
      const { role, counterparty_email, ...terms } = req.body
      return idempotent(app, req, reply, 201, (idem) =>
        openOffer(
          app,
          actorOf(req),
          { role, counterpartyEmail: counterparty_email, terms: termsFromBody(terms) },
          idem,
        ),
      )
    },
  )

  server.get(
    '/v1/offers',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['offers'],
        summary: 'My offers',
        description: 'Each with `parties`: the client and the freelancer, each {id, name, email}.',
        querystring: StatusListQuery(['open', 'accepted', 'declined', 'withdrawn', 'expired'] satisfies OfferStatus[]),
      },
    },
    async (req) => {
      const res = await listFor<Offer>(app.store.db, 'offers', req.user!.id, {
        ...page(req.query),
        status: req.query.status ?? null,
      })
      return list(await withParties(app.store.db, res.data.map(presentOffer)), res.hasMore, '/v1/offers')
    },
  )

  server.get(
    '/v1/offers/:id',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['offers'],
        summary: 'An offer with all its revisions',
        description: 'With `parties`: the client and the freelancer, each {id, name, email}.',
        params: OfferParams,
      },
    },
    async (req) =>
      withPartiesOne(app.store.db, presentOffer((await offerFor(app.store.db, req.params.id, actorOf(req))).value)),
  )

  server.post(
    '/v1/offers/:id/counter',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['offers'],
        summary: 'Counter with new terms (a new revision)',
        params: OfferParams,
        body: Terms,
      },
    },
    async (req, reply) =>
      idempotent(app, req, reply, 200, (idem) =>
        offerCommand(app, actorOf(req), req.params.id, { type: 'counter', terms: termsFromBody(req.body) }, idem),
      ),
  )
  server.post(
    '/v1/offers/:id/accept',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['offers'],
        summary: 'Accept the named revision: the contract is created',
        params: OfferParams,
        body: Strict({ revision: Type.Integer({ minimum: 1 }) }),
      },
    },
    async (req, reply) =>
      idempotent(app, req, reply, 200, (idem) =>
        offerCommand(app, actorOf(req), req.params.id, { type: 'accept', revision: req.body.revision }, idem),
      ),
  )
  for (const type of ['decline', 'withdraw'] as const) {
    server.post(
      `/v1/offers/:id/${type}`,
      {
        config: { auth: 'user' },
        schema: {
          tags: ['offers'],
          summary: `${type === 'decline' ? 'Decline' : 'Withdraw'} the offer`,
          params: OfferParams,
          body: Reason,
        },
      },
      async (req, reply) =>
        idempotent(app, req, reply, 200, (idem) => offerCommand(app, actorOf(req), req.params.id, { type }, idem)),
    )
  }
}
