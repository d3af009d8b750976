/**
 * The answers of every route of the API, for its OpenAPI document: the escrow objects (offer, contract, milestone,
 * refund request, dispute, amendment, event), the user, money, webhook, trust and admin objects, and the error body. Documentation only — answers are serialized as the presenters
 * (`app/present.ts`) build them, and `test/http/response-schemas.test.ts` checks real answers against these
 * schemas, every field named and none missing, so that the document cannot drift from what is sent; a route of
 * `/v1` without an entry in RESPONSES fails it too.
 */
import { type TSchema, Type } from 'typebox'
import { EVENT_TYPES } from '../domain/types.ts'

const Obj = <T extends Record<string, TSchema>>(props: T, description?: string) =>
  Type.Object(props, { additionalProperties: false, ...(description ? { description } : {}) })
const Null = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const Literal = <T extends string>(v: T) => Type.Literal(v)
const OneOf = (...values: string[]) => Type.Union(values.map((v) => Type.Literal(v)))
const Time = Type.String({ format: 'date-time', description: 'ISO 8601, UTC' })
const Day = Type.String({ description: 'YYYY-MM-DD' })
const Minor = Type.Integer({ description: 'minor units of the currency' })
const Id = (prefix: string) => Type.String({ description: `${prefix}_…` })

const Party = Obj({ id: Id('usr'), name: Type.String(), email: Type.String() })
const Parties = Obj(
  { client: Party, freelancer: Party },
  'The client and the freelancer as their profiles read now (reads only; commands and events carry the ids)',
)

const PaymentMode = OneOf('by_project', 'by_milestone', 'by_entry')

export const TermsSchema = Obj({
  title: Type.String(),
  description: Type.String(),
  currency: Type.String(),
  payment_mode: PaymentMode,
  review_days: Type.Integer(),
  revision_limit: Type.Integer(),
  unit_name: Null(Type.String()),
  unit_price: Null(Minor),
  milestones: Type.Array(
    Obj({
      title: Type.String(),
      description: Type.String(),
      acceptance_criteria: Type.String(),
      amount: Minor,
      due_date: Null(Day),
      deposit: Type.Boolean(),
      entries: Null(Type.Integer()),
    }),
  ),
  total: Minor,
})

const offerProps = {
  id: Id('off'),
  object: Literal('offer'),
  status: OneOf('open', 'accepted', 'declined', 'withdrawn', 'expired'),
  revision: Type.Integer({ description: 'the current revision, which its author has agreed to' }),
  author_id: Id('usr'),
  client_id: Id('usr'),
  freelancer_id: Id('usr'),
  terms: TermsSchema,
  revisions: Type.Array(Obj({ revision: Type.Integer(), author_id: Id('usr'), terms: TermsSchema, created_at: Time })),
  contract_id: Null(Id('ctr')),
  expires_at: Time,
  created_at: Time,
  updated_at: Time,
}
export const OfferSchema = Obj(offerProps, 'An offer: terms under negotiation, every revision kept')
export const OfferWithPartiesSchema = Obj({ ...offerProps, parties: Parties }, 'An offer with its parties')

export const MilestoneSchema = Obj(
  {
    id: Id('ms'),
    object: Literal('milestone'),
    contract_id: Id('ctr'),
    position: Type.Integer(),
    title: Type.String(),
    description: Type.String(),
    acceptance_criteria: Type.String(),
    amount: Minor,
    currency: Type.String(),
    due_date: Null(Day),
    deposit: Type.Boolean(),
    entries: Null(Type.Integer({ description: 'by_entry: the units of work it covers' })),
    accepted_entries: Type.Array(Type.Integer()),
    state: OneOf(
      'pending',
      'funded',
      'submitted',
      'changes_requested',
      'refund_requested',
      'disputed',
      'released',
      'refunded',
      'cancelled',
    ),
    escrow_amount: Type.Integer({ description: 'principal held in escrow (minor units)' }),
    escrow_fee_amount: Type.Integer({ description: 'client fee held with it (minor units)' }),
    released_amount: Minor,
    refunded_amount: Minor,
    bonus_amount: Minor,
    revisions_used: Type.Integer(),
    revisions_left: Type.Integer(),
    review_deadline: Null(Time),
    submission: Null(
      Obj({
        message: Type.String(),
        links: Type.Array(Type.String()),
        entries: Null(Type.Array(Type.Integer())),
        submitted_at: Time,
      }),
    ),
    change_request: Null(Obj({ message: Type.String(), requested_at: Time })),
    approval: Null(Obj({ message: Type.String(), approved_at: Time })),
    funded_at: Null(Time),
    refund_request_id: Null(Id('rfr')),
    dispute_id: Null(Id('dsp')),
  },
  'A milestone: a stage of the work, funded into escrow and released on its own',
)

export const RefundRequestSchema = Obj(
  {
    id: Id('rfr'),
    object: Literal('refund_request'),
    contract_id: Id('ctr'),
    milestone_id: Id('ms'),
    milestone_title: Null(Type.String()),
    amount: Minor,
    currency: Type.String(),
    reason: Type.String(),
    source: OneOf('client', 'partial_approve', 'contract_end', 'dormancy'),
    status: OneOf('open', 'accepted', 'declined', 'expired'),
    expires_at: Time,
    created_at: Time,
  },
  'A request to refund the rest of a milestone’s escrow; the freelancer has 7 days, silence refunds',
)

export const DisputeSchema = Obj(
  {
    id: Id('dsp'),
    object: Literal('dispute'),
    contract_id: Id('ctr'),
    milestone_id: Id('ms'),
    milestone_title: Null(Type.String()),
    opened_by: Id('usr'),
    opener_role: OneOf('client', 'freelancer'),
    reason: Type.String(),
    status: OneOf('awaiting_response', 'negotiation', 'arbitration', 'resolved'),
    currency: Type.String(),
    escrow_amount: Minor,
    proposals: Type.Array(
      Obj({
        id: Id('prp'),
        by: Id('usr'),
        by_role: OneOf('client', 'freelancer', 'admin'),
        release_amount: Minor,
        message: Type.String(),
        status: OneOf('open', 'accepted', 'superseded'),
        accepted_by: Type.Array(Id('usr')),
        created_at: Time,
      }),
    ),
    response_deadline: Time,
    negotiation_deadline: Null(Time),
    resolution: Null(
      Obj({
        release_amount: Minor,
        refund_amount: Minor,
        by: OneOf('agreement', 'default', 'arbitration'),
        note: Null(Type.String()),
        resolved_at: Time,
      }),
    ),
    created_at: Time,
  },
  'A dispute over a milestone’s escrow: agreement, a default for the silent side, or the admin’s decision',
)

const AmendedLine = Obj({
  title: Type.String(),
  description: Type.String(),
  acceptance_criteria: Type.String(),
  amount: Minor,
  due_date: Null(Day),
  entries: Null(Type.Integer()),
})
export const AmendmentSchema = Obj(
  {
    id: Id('amd'),
    object: Literal('amendment'),
    contract_id: Id('ctr'),
    proposed_by: Id('usr'),
    status: OneOf('proposed', 'accepted', 'rejected', 'withdrawn'),
    add: Type.Array(AmendedLine),
    edit: Type.Array(
      Type.Object(
        {
          milestone_id: Id('ms'),
          title: Type.Optional(Type.String()),
          description: Type.Optional(Type.String()),
          acceptance_criteria: Type.Optional(Type.String()),
          amount: Type.Optional(Minor),
          entries: Type.Optional(Null(Type.Integer())),
          due_date: Type.Optional(Null(Day)),
        },
        { additionalProperties: false, description: 'only the fields the edit changes' },
      ),
    ),
    remove: Type.Array(Id('ms')),
    created_at: Time,
    decided_at: Null(Time),
  },
  'A change of a contract’s plan proposed by one party, accepted or rejected by the other',
)

const contractProps = {
  id: Id('ctr'),
  object: Literal('contract'),
  status: OneOf('active', 'completed', 'ended'),
  offer_id: Id('off'),
  client_id: Id('usr'),
  freelancer_id: Id('usr'),
  title: Type.String(),
  description: Type.String(),
  currency: Type.String(),
  payment_mode: PaymentMode,
  review_days: Type.Integer(),
  revision_limit: Type.Integer(),
  client_fee_bps: Type.Integer(),
  service_fee_bps: Type.Integer(),
  unit_name: Null(Type.String()),
  unit_price: Null(Minor),
  milestones: Type.Array(MilestoneSchema),
  refund_requests: Type.Array(RefundRequestSchema),
  disputes: Type.Array(DisputeSchema),
  amendments: Type.Array(AmendmentSchema),
  totals: Obj({
    amount: Minor,
    funded: Minor,
    in_escrow: Minor,
    released: Minor,
    refunded: Minor,
    bonus: Minor,
  }),
  exposure: Obj(
    {
      currency: Type.String(),
      freelancer: Obj({
        submitted_awaiting_release: Minor,
        unfunded_pending: Minor,
        unfunded_milestones: Type.Integer(),
        protected_in_escrow: Minor,
      }),
      client: Obj({ escrow_awaiting_review: Minor, in_escrow: Minor, next_auto_release_at: Null(Time) }),
    },
    'What is at risk now, for each side',
  ),
  created_at: Time,
  ended_at: Null(Time),
}
export const ContractSchema = Obj(contractProps, 'A contract with its milestones, totals and exposure')
export const ContractWithPartiesSchema = Obj(
  { ...contractProps, parties: Parties },
  'A contract with its milestones, totals, exposure and parties',
)

export const EventSchema = Obj(
  {
    id: Id('evt'),
    object: Literal('event'),
    type: OneOf(...EVENT_TYPES),
    created_at: Time,
    data: Obj({
      object: Type.Record(Type.String(), Type.Unknown(), {
        description: 'the object the event is about, as it was (an offer, contract, milestone, refund request…)',
      }),
    }),
  },
  'Something that happened; sent to webhook endpoints as it is here',
)

export const ErrorSchema = Obj(
  {
    error: Obj({
      type: OneOf(
        'invalid_request_error',
        'authentication_error',
        'payment_error',
        'permission_error',
        'not_found_error',
        'conflict_error',
        'rate_limit_error',
        'api_error',
      ),
      code: Type.String({ description: 'stable; the table of codes is in the document’s description' }),
      message: Type.String({ description: 'for people; match on code' }),
      param: Type.Optional(Type.String({ description: 'the field at fault: milestones[0].amount' })),
    }),
  },
  'An error: its code says what went wrong (the table of codes is in the description of this API)',
)

export const UserSchema = Obj(
  {
    id: Id('usr'),
    object: Literal('user'),
    email: Type.String(),
    name: Type.String(),
    time_zone: Type.String({ description: 'IANA name; deadlines are shown in it' }),
    is_admin: Type.Boolean(),
    created_at: Time,
  },
  'A user: client on some contracts, freelancer on others',
)
const SessionSchema = Obj(
  {
    object: Literal('session'),
    token: Type.String({ description: 'Authorization: Bearer <token>' }),
    expires_at: Time,
    user: UserSchema,
  },
  'A session: its token authenticates requests until it expires or you log out',
)
const apiKeyProps = {
  id: Id('key'),
  object: Literal('api_key'),
  name: Type.String(),
  last4: Type.String(),
  created_at: Time,
}
const ApiKeySchema = Obj(apiKeyProps, 'An API key (its secret is shown once, when it is created)')
const NewApiKeySchema = Obj(
  {
    ...apiKeyProps,
    secret: Null(Type.String({ description: 'sk_…; null in an idempotent replay, since it is stored only hashed' })),
  },
  'A new API key with its secret, shown this once',
)
const Deleted = (object: string, prefix: string) =>
  Obj(
    { id: Id(prefix), object: Literal(object), deleted: Type.Literal(true) } as Record<string, TSchema>,
    `The ${object} is deleted`,
  )

const BalanceSchema = Obj(
  {
    object: Literal('balance'),
    currency: Type.String(),
    available: Minor,
    pending: Type.Integer({ description: 'released earnings on the 5-day hold (minor units)' }),
  },
  'What can be paid out now, and what is on hold, in one currency',
)
const PayoutSchema = Obj(
  {
    id: Id('pay'),
    object: Literal('payout'),
    user_id: Id('usr'),
    currency: Type.String(),
    amount: Minor,
    status: Type.String(),
    created_at: Time,
  },
  'Money paid out of the available balance through the payment rail',
)
const StatementSchema = Obj(
  {
    object: Literal('statement'),
    account: OneOf('available', 'pending'),
    currency: Type.String(),
    from: Null(Time),
    to: Null(Time),
    opening_balance: Type.Integer(),
    closing_balance: Type.Integer(),
    data: Type.Array(
      Obj({
        entry_id: Type.String(),
        date: Time,
        kind: Type.String(),
        description: Type.String(),
        contract_id: Null(Id('ctr')),
        milestone_id: Null(Id('ms')),
        amount: Type.Integer({ description: 'signed, minor units' }),
        balance: Type.Integer({ description: 'the running balance after this line' }),
      }),
    ),
    has_more: Type.Literal(false),
  },
  'The lines of one of my accounts with running balances, oldest first (CSV with format=csv)',
)
const LedgerLineSchema = Obj({
  id: Type.String({ description: 'jel_…' }),
  object: Literal('ledger_line'),
  entry_id: Type.String(),
  account: OneOf('available', 'pending'),
  currency: Type.String(),
  amount: Type.Integer({ description: 'signed, minor units' }),
  kind: Type.String(),
  description: Type.String(),
  contract_id: Null(Id('ctr')),
  milestone_id: Null(Id('ms')),
  created_at: Time,
})

const endpointProps = {
  id: Id('whe'),
  object: Literal('webhook_endpoint'),
  url: Type.String(),
  enabled_events: Type.Array(Type.String({ description: '*, a group (milestone.*) or an event type' })),
  enabled: Type.Boolean(),
  created_at: Time,
}
const WebhookEndpointSchema = Obj(endpointProps, 'Where your events are POSTed, signed')
const NewWebhookEndpointSchema = Obj(
  {
    ...endpointProps,
    secret: Null(Type.String({ description: 'whsec_…: shown this once (null in an idempotent replay)' })),
  },
  'A new webhook endpoint with its signing secret, shown this once',
)
const WebhookDeliverySchema = Obj(
  {
    id: Id('whd'),
    object: Literal('webhook_delivery'),
    endpoint_id: Id('whe'),
    event_id: Id('evt'),
    status: OneOf('pending', 'delivered', 'failed'),
    attempts: Type.Integer(),
    next_attempt_at: Null(Time),
    last_response_status: Null(Type.Integer()),
    last_error: Null(Type.String()),
    created_at: Time,
    delivered_at: Null(Time),
  },
  'One event sent (or to be sent) to one endpoint',
)

const PerCurrency = Type.Array(Obj({ currency: Type.String(), amount: Minor }))
const ReputationSchema = Obj(
  {
    object: Literal('reputation'),
    user_id: Id('usr'),
    has_history: Type.Boolean(),
    summary: Type.String(),
    as_client: Null(
      Obj({
        milestones_funded: Type.Integer(),
        amount_funded: PerCurrency,
        released_on_review: Type.Integer(),
        auto_released: Type.Integer({ description: 'released only because the client stayed silent' }),
        median_hours_to_release: Null(Type.Number()),
        refund_requests: Type.Integer(),
        disputes: Obj({
          opened: Type.Integer(),
          lost: Type.Integer(),
          won: Type.Integer(),
          by_agreement: Type.Integer(),
          by_default: Type.Integer(),
          by_arbitration: Type.Integer(),
        }),
      }),
    ),
    as_freelancer: Null(
      Obj({
        milestones_released: Type.Integer(),
        submitted_before_due_share: Null(Type.Number()),
        disputes: Obj({ opened: Type.Integer(), lost: Type.Integer(), won: Type.Integer() }),
        amount_earned: PerCurrency,
      }),
    ),
  },
  'A user’s payment history on Tranche, as client and as freelancer',
)
const ModeComparison = Obj({
  payment_mode: OneOf('by_project', 'by_milestone'),
  largest_at_risk: Minor,
  review_cycles: Type.Integer(),
  upfront: Minor,
  reasons: Type.Array(Type.String()),
})
const PlanSchema = Obj(
  {
    object: Literal('plan'),
    total: Minor,
    currency: Type.String(),
    payment_mode: PaymentMode,
    trust_level: OneOf('new', 'building', 'established', 'cautious'),
    thresholds: Type.Array(Obj({ level: Type.String(), rule: Type.String() })),
    milestones: Type.Array(
      Type.Object(
        { title: Type.String(), amount: Minor, deposit: Type.Boolean(), entries: Type.Optional(Type.Integer()) },
        { additionalProperties: false },
      ),
    ),
    deposit_advice: Type.String(),
    comparison: Obj({
      recommended: OneOf('by_project', 'by_milestone'),
      reasons: Type.Array(Type.String()),
      by_project: ModeComparison,
      by_milestone: ModeComparison,
    }),
    reasons: Type.Array(Type.String()),
  },
  'A milestone schedule that starts small with a new client, and by project against by milestone',
)
const VerificationSchema = Obj(
  {
    object: Literal('verification'),
    ok: Type.Boolean(),
    problems: Type.Array(Type.String()),
    checked: Obj({
      entries: Type.Integer(),
      lines: Type.Integer(),
      accounts: Type.Integer(),
      milestones: Type.Integer(),
      audit_records: Type.Integer(),
    }),
  },
  'Every ledger invariant checked',
)
const RevenueSchema = Obj({ object: Literal('revenue'), currency: Type.String(), fees: Minor })
const TestClockSchema = Obj({ object: Literal('test_clock'), now: Time }, 'The manual clock (TRANCHE_CLOCK=manual)')

const List = (item: TSchema, url: string, description: string) =>
  Obj({ object: Literal('list'), data: Type.Array(item), has_more: Type.Boolean(), url: Literal(url) }, description)

/** The documented answers of a route (`GET /v1/contracts/:id`), with the error body for its 4xx answers. */
export function documentedResponses(method: string, url: string): Record<string, TSchema> | null {
  if (!url.startsWith('/v1/')) return null
  return { ...(RESPONSES[`${method} ${url}`] ?? {}), '4xx': ErrorSchema }
}

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

/** The answers of a route as the document shows them (named objects as references), or null for none. */
export function documentedAnswers(method: string, url: string): Record<string, unknown> | null {
  const answers = documentedResponses(method, url)
  if (!answers) return null
  const described = (v: TSchema) => ({
    ...(forDocument(v) as object),
    description: (v as { description?: string }).description ?? 'OK',
  })
  return Object.fromEntries(Object.entries(answers).map(([status, v]) => [status, described(v)]))
}
