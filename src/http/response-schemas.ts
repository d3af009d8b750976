/**
 * The answers of every route of the API, for its OpenAPI document (the objects are in `answers/`). Documentation
 * only — answers are serialized as the presenters (`app/present.ts`) build them, and `test/http/response-schemas.test.ts` checks real answers against these
 * schemas, every field named and none missing, so that the document cannot drift from what is sent; a route of
 * `/v1` without an entry in RESPONSES fails it too.
 */
import { type TSchema, Type } from 'typebox'
import {
  ApiKeySchema,
  BalanceSchema,
  Deleted,
  LedgerLineSchema,
  NewApiKeySchema,
  NewWebhookEndpointSchema,
  PayoutSchema,
  PlanSchema,
  ReputationSchema,
  RevenueSchema,
  SessionSchema,
  StatementSchema,
  TestClockSchema,
  UserSchema,
  VerificationSchema,
  WebhookDeliverySchema,
  WebhookEndpointSchema,
} from './answers/account.ts'
import {
  AmendmentSchema,
  ContractSchema,
  ContractWithPartiesSchema,
  DisputeSchema,
  ErrorSchema,
  EventSchema,
  MilestoneSchema,
  OfferSchema,
  OfferWithPartiesSchema,
  RefundRequestSchema,
  TermsSchema,
} from './answers/escrow.ts'
import { List, Literal, Obj } from './answers/kit.ts'

/** `METHOD /path` as the route is registered → its answers by status. */
export const RESPONSES: Record<string, Record<number, TSchema>> = {
  'POST /v1/offers': { 201: OfferSchema },
  'GET /v1/offers': { 200: List(OfferWithPartiesSchema, '/v1/offers', 'A page of my offers, newest first') },
  'GET /v1/offers/:id': { 200: OfferWithPartiesSchema },
  'POST /v1/offers/:id/counter': { 200: OfferSchema },
  'POST /v1/offers/:id/accept': { 200: OfferSchema },
  'POST /v1/offers/:id/decline': { 200: OfferSchema },
  'POST /v1/offers/:id/withdraw': { 200: OfferSchema },
  'GET /v1/contracts': {
    200: List(ContractWithPartiesSchema, '/v1/contracts', 'A page of my contracts, newest first'),
  },
  'GET /v1/contracts/:id': { 200: ContractWithPartiesSchema },
  'POST /v1/contracts/:id/fund': { 200: ContractSchema },
  'POST /v1/contracts/:id/end': { 200: ContractSchema },
  'POST /v1/contracts/:id/amendments': { 201: AmendmentSchema },
  'GET /v1/amendments/:id': { 200: AmendmentSchema },
  'POST /v1/amendments/:id/accept': { 200: AmendmentSchema },
  'POST /v1/amendments/:id/reject': { 200: AmendmentSchema },
  'POST /v1/amendments/:id/withdraw': { 200: AmendmentSchema },
  'GET /v1/milestones/:id': { 200: MilestoneSchema },
  ...Object.fromEntries(
    ['fund', 'submit', 'request_changes', 'approve', 'request_refund', 'refund'].map((c) => [
      `POST /v1/milestones/:id/${c}`,
      { 200: MilestoneSchema },
    ]),
  ),
  'GET /v1/refund_requests/:id': { 200: RefundRequestSchema },
  'POST /v1/refund_requests/:id/accept': { 200: RefundRequestSchema },
  'POST /v1/refund_requests/:id/decline': { 200: RefundRequestSchema },
  'POST /v1/milestones/:id/disputes': { 201: DisputeSchema },
  'GET /v1/disputes/:id': { 200: DisputeSchema },
  'POST /v1/disputes/:id/proposals': { 201: DisputeSchema },
  'POST /v1/disputes/:id/proposals/:pid/accept': { 200: DisputeSchema },
  'POST /v1/disputes/:id/escalate': { 200: DisputeSchema },
  'POST /v1/disputes/:id/decide': { 200: DisputeSchema },
  'GET /v1/events': { 200: List(EventSchema, '/v1/events', 'A page of my events, newest first') },
  'GET /v1/events/:id': { 200: EventSchema },
  'POST /v1/users': { 201: UserSchema },
  'POST /v1/sessions': { 201: SessionSchema },
  'DELETE /v1/sessions/current': {
    200: Obj({ object: Literal('session'), deleted: Type.Literal(true) }, 'The session is ended'),
  },
  'GET /v1/me': { 200: UserSchema },
  'PATCH /v1/me': { 200: UserSchema },
  'POST /v1/api_keys': { 201: NewApiKeySchema },
  'GET /v1/api_keys': { 200: List(ApiKeySchema, '/v1/api_keys', 'A page of my API keys, newest first') },
  'DELETE /v1/api_keys/:id': { 200: Deleted('api_key', 'key') },
  'GET /v1/balances': { 200: List(BalanceSchema, '/v1/balances', 'My balances, one per currency') },
  'POST /v1/payouts': { 201: PayoutSchema },
  'GET /v1/payouts': { 200: List(PayoutSchema, '/v1/payouts', 'A page of my payouts, newest first') },
  'GET /v1/payouts/:id': { 200: PayoutSchema },
  'GET /v1/statements': { 200: StatementSchema },
  'GET /v1/ledger/entries': {
    200: List(LedgerLineSchema, '/v1/ledger/entries', 'A page of the journal lines on my accounts, newest first'),
  },
  'POST /v1/webhook_endpoints': { 201: NewWebhookEndpointSchema },
  'GET /v1/webhook_endpoints': {
    200: List(WebhookEndpointSchema, '/v1/webhook_endpoints', 'A page of my webhook endpoints, newest first'),
  },
  'GET /v1/webhook_endpoints/:id': { 200: WebhookEndpointSchema },
  'PATCH /v1/webhook_endpoints/:id': { 200: WebhookEndpointSchema },
  'POST /v1/webhook_endpoints/:id/roll_secret': { 200: NewWebhookEndpointSchema },
  'DELETE /v1/webhook_endpoints/:id': { 200: Deleted('webhook_endpoint', 'whe') },
  'GET /v1/webhook_endpoints/:id/deliveries': {
    200: Obj(
      {
        object: Literal('list'),
        data: Type.Array(WebhookDeliverySchema),
        has_more: Type.Boolean(),
        url: Type.String(),
      },
      'A page of the endpoint’s delivery log, newest first',
    ),
  },
  'POST /v1/webhook_deliveries/:id/retry': { 202: WebhookDeliverySchema },
  'GET /v1/users/:id/reputation': { 200: ReputationSchema },
  'POST /v1/plans': { 200: PlanSchema },
  'GET /v1/admin/disputes': { 200: List(DisputeSchema, '/v1/admin/disputes', 'A page of disputes, for the admin') },
  'GET /v1/admin/verify': { 200: VerificationSchema },
  'GET /v1/admin/revenue': { 200: List(RevenueSchema, '/v1/admin/revenue', 'The platform’s fees, per currency') },
  'GET /v1/test_clock': { 200: TestClockSchema },
  'POST /v1/test_clock/advance': { 200: TestClockSchema },
}

/** The objects named in the document's `components.schemas`; the answers refer to them instead of repeating them. */
const NAMED: Record<string, TSchema> = {
  Offer: OfferSchema,
  OfferWithParties: OfferWithPartiesSchema,
  Terms: TermsSchema,
  Contract: ContractSchema,
  ContractWithParties: ContractWithPartiesSchema,
  Milestone: MilestoneSchema,
  RefundRequest: RefundRequestSchema,
  Dispute: DisputeSchema,
  Amendment: AmendmentSchema,
  Event: EventSchema,
  Error: ErrorSchema,
  User: UserSchema,
  WebhookDelivery: WebhookDeliverySchema,
  Payout: PayoutSchema,
}
const NAME_OF = new Map<unknown, string>(Object.entries(NAMED).map(([name, s]) => [s, name]))

/** A plain JSON copy of `schema` for the document, each named object in it (but `keep`) as a `$ref`. */
function forDocument(schema: unknown, keep?: unknown): unknown {
  const name = schema === keep ? undefined : NAME_OF.get(schema)
  if (name) return { $ref: `#/components/schemas/${name}` }
  if (Array.isArray(schema)) return schema.map((x) => forDocument(x))
  if (schema === null || typeof schema !== 'object') return schema
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, forDocument(v)]))
}

/** `components.schemas` of the document: every named object, its own named parts as references. */
export const documentSchemas = () =>
  Object.fromEntries(Object.entries(NAMED).map(([name, s]) => [name, forDocument(s, s)]))

/**
 * The answers of a route (`GET /v1/contracts/:id`) as the document shows them, with the error body for its 4xx
 * answers and named objects as references; null outside the API.
 */
export function documentedAnswers(method: string, url: string): Record<string, unknown> | null {
  if (!url.startsWith('/v1/')) return null
  const answers: Record<string, TSchema> = { ...(RESPONSES[`${method} ${url}`] ?? {}), '4xx': ErrorSchema }
  const described = (v: TSchema) => ({
    ...(forDocument(v) as object),
    description: (v as { description?: string }).description ?? 'OK',
  })
  return Object.fromEntries(Object.entries(answers).map(([status, v]) => [status, described(v)]))
}
