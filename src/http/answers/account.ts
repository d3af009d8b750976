/** The answers' other objects: users, sessions, API keys, money, webhooks, trust, the admin's, the test clock. */
import { type TSchema, Type } from 'typebox'
import type { TrustLevel } from '../../domain/planner.ts'
import type { DeliveryStatus, PayoutStatus } from '../../domain/types.ts'
import { PaymentMode } from './escrow.ts'
import { Currency, Every, Id, Literal, Minor, Null, Obj, OneOf, Time } from './kit.ts'

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
export const SessionSchema = Obj(
  {
    object: Literal('session'),
    token: Type.String({ description: 'Authorization: Bearer <token>' }),
    expires_at: Time,
    user: UserSchema,
  },
  'A session: its token authenticates requests until it expires or you log out',
)
export const apiKeyProps = {
  id: Id('key'),
  object: Literal('api_key'),
  name: Type.String(),
  last4: Type.String(),
  created_at: Time,
}
export const ApiKeySchema = Obj(apiKeyProps, 'An API key (its secret is shown once, when it is created)')
export const NewApiKeySchema = Obj(
  {
    ...apiKeyProps,
    secret: Null(Type.String({ description: 'sk_…; null in an idempotent replay, since it is stored only hashed' })),
  },
  'A new API key with its secret, shown this once',
)
export const Deleted = (object: string, prefix: string) =>
  Obj(
    { id: Id(prefix), object: Literal(object), deleted: Type.Literal(true) } as Record<string, TSchema>,
    `The ${object} is deleted`,
  )

export const BalanceSchema = Obj(
  {
    object: Literal('balance'),
    currency: Currency,
    available: Minor,
    pending: Type.Integer({ description: 'released earnings on the 5-day hold (minor units)' }),
  },
  'What can be paid out now, and what is on hold, in one currency',
)
export const PayoutSchema = Obj(
  {
    id: Id('pay'),
    object: Literal('payout'),
    user_id: Id('usr'),
    currency: Currency,
    amount: Minor,
    status: Every<PayoutStatus>()('paid'),
    created_at: Time,
  },
  'Money paid out of the available balance through the payment rail',
)
export const StatementSchema = Obj(
  {
    object: Literal('statement'),
    account: OneOf('available', 'pending'),
    currency: Currency,
    from: Null(Time),
    to: Null(Time),
    opening_balance: Type.Integer({ description: 'the balance at from' }),
    closing_balance: Type.Integer({ description: 'the balance at to (or now), whichever page this is' }),
    data: Type.Array(
      Obj({
        id: Type.String({ description: 'jel_…, the journal line (starting_after takes it)' }),
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
    has_more: Type.Boolean({ description: 'more lines follow: ask again with starting_after the last id' }),
  },
  'The lines of one of my accounts with running balances, oldest first, a page at a time (CSV with format=csv)',
)
export const LedgerLineSchema = Obj({
  id: Type.String({ description: 'jel_…' }),
  object: Literal('ledger_line'),
  entry_id: Type.String(),
  account: OneOf('available', 'pending'),
  currency: Currency,
  amount: Type.Integer({ description: 'signed, minor units' }),
  kind: Type.String(),
  description: Type.String(),
  contract_id: Null(Id('ctr')),
  milestone_id: Null(Id('ms')),
  created_at: Time,
})

export const endpointProps = {
  id: Id('whe'),
  object: Literal('webhook_endpoint'),
  url: Type.String(),
  enabled_events: Type.Array(Type.String({ description: '*, a group (milestone.*) or an event type' })),
  enabled: Type.Boolean(),
  created_at: Time,
  previous_secret_expires_at: Type.Union([Time, Type.Null()], {
    description: 'after a roll of the secret: until when the one before signs too (null: it does not)',
  }),
}
export const WebhookEndpointSchema = Obj(endpointProps, 'Where your events are POSTed, signed')
export const NewWebhookEndpointSchema = Obj(
  {
    ...endpointProps,
    secret: Null(Type.String({ description: 'whsec_…: shown this once (null in an idempotent replay)' })),
  },
  'A webhook endpoint with its (new) signing secret, shown this once',
)
export const WebhookDeliverySchema = Obj(
  {
    id: Id('whd'),
    object: Literal('webhook_delivery'),
    endpoint_id: Id('whe'),
    event_id: Id('evt'),
    status: Every<DeliveryStatus>()('pending', 'delivered', 'failed', 'skipped'),
    attempts: Type.Integer(),
    next_attempt_at: Null(Time),
    last_response_status: Null(Type.Integer()),
    last_error: Null(Type.String()),
    created_at: Time,
    delivered_at: Null(Time),
  },
  'One event sent (or to be sent) to one endpoint',
)

export const PerCurrency = Type.Array(Obj({ currency: Currency, amount: Minor }))
export const ReputationSchema = Obj(
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
export const ModeComparison = Obj({
  payment_mode: OneOf('by_project', 'by_milestone'),
  largest_at_risk: Minor,
  review_cycles: Type.Integer(),
  upfront: Minor,
  reasons: Type.Array(Type.String()),
})
export const PlanSchema = Obj(
  {
    object: Literal('plan'),
    total: Minor,
    currency: Currency,
    payment_mode: PaymentMode,
    trust_level: Every<TrustLevel>()('new', 'building', 'established', 'cautious'),
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
export const VerificationSchema = Obj(
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
export const RevenueSchema = Obj({ object: Literal('revenue'), currency: Currency, fees: Minor })
export const TestClockSchema = Obj(
  { object: Literal('test_clock'), now: Time },
  'The manual clock (TRANCHE_CLOCK=manual)',
)
