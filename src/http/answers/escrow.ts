/** The answers' escrow objects: offer, contract, milestone, refund request, dispute, amendment, event; the error. */
import { Type } from 'typebox'
import {
  type Amendment,
  type ContractStatus,
  type Dispute,
  type DisputeStatus,
  MILESTONE_STATES,
  type Proposal,
  type RefundRequest,
  type RefundRequestStatus,
  type Role,
} from '../../domain/contract-model.ts'
import { ERROR_CODES, ERROR_TYPE_STATUS } from '../../domain/errors.ts'
import type { OfferStatus } from '../../domain/offer.ts'
import type { PaymentMode as TermsPaymentMode } from '../../domain/terms.ts'
import { EVENT_TYPES } from '../../domain/types.ts'
import { Currency, Day, Every, Id, Literal, Minor, Null, Obj, OneOf, Time } from './kit.ts'

export const Party = Obj({ id: Id('usr'), name: Type.String(), email: Type.String() })
export const Parties = Obj(
  { client: Party, freelancer: Party },
  'The client and the freelancer as their profiles read now (reads only; commands and events carry the ids)',
)

export const PaymentMode = Every<TermsPaymentMode>()('by_project', 'by_milestone', 'by_entry')

export const TermsSchema = Obj({
  title: Type.String(),
  description: Type.String(),
  currency: Currency,
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

export const offerProps = {
  id: Id('off'),
  object: Literal('offer'),
  status: Every<OfferStatus>()('open', 'accepted', 'declined', 'withdrawn', 'expired'),
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
    currency: Currency,
    due_date: Null(Day),
    deposit: Type.Boolean(),
    entries: Null(Type.Integer({ description: 'by_entry: the units of work it covers' })),
    accepted_entries: Type.Array(Type.Integer()),
    state: OneOf(...MILESTONE_STATES),
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

/** What a refund request and a dispute say of the milestone they are about (`milestone_title` for people). */
const aboutMilestone = { contract_id: Id('ctr'), milestone_id: Id('ms'), milestone_title: Null(Type.String()) }

export const RefundRequestSchema = Obj(
  {
    id: Id('rfr'),
    object: Literal('refund_request'),
    ...aboutMilestone,
    amount: Minor,
    currency: Currency,
    reason: Type.String(),
    source: Every<RefundRequest['source']>()('client', 'partial_approve', 'contract_end', 'dormancy'),
    status: Every<RefundRequestStatus>()('open', 'accepted', 'declined', 'expired'),
    expires_at: Time,
    created_at: Time,
  },
  'A request to refund the rest of a milestone’s escrow; the freelancer has 7 days, silence refunds',
)

export const DisputeSchema = Obj(
  {
    id: Id('dsp'),
    object: Literal('dispute'),
    ...aboutMilestone,
    opened_by: Id('usr'),
    opener_role: Every<Role>()('client', 'freelancer'),
    reason: Type.String(),
    status: Every<DisputeStatus>()('awaiting_response', 'negotiation', 'arbitration', 'resolved'),
    currency: Currency,
    escrow_amount: Minor,
    proposals: Type.Array(
      Obj({
        id: Id('prp'),
        by: Id('usr'),
        by_role: Every<Proposal['byRole']>()('client', 'freelancer', 'admin'),
        release_amount: Minor,
        message: Type.String(),
        status: Every<Proposal['status']>()('open', 'accepted', 'superseded'),
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
        by: Every<NonNullable<Dispute['resolution']>['by']>()('agreement', 'default', 'arbitration'),
        note: Null(Type.String()),
        resolved_at: Time,
      }),
    ),
    created_at: Time,
  },
  'A dispute over a milestone’s escrow: agreement, a default for the silent side, or the admin’s decision',
)

export const AmendedLine = Obj({
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
    status: Every<Amendment['status']>()('proposed', 'accepted', 'rejected', 'withdrawn'),
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

export const contractProps = {
  id: Id('ctr'),
  object: Literal('contract'),
  status: Every<ContractStatus>()('active', 'completed', 'ended'),
  offer_id: Id('off'),
  client_id: Id('usr'),
  freelancer_id: Id('usr'),
  title: Type.String(),
  description: Type.String(),
  currency: Currency,
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
      currency: Currency,
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
      type: OneOf(...Object.keys(ERROR_TYPE_STATUS)),
      code: Type.Unsafe<string>({
        type: 'string',
        enum: Object.keys(ERROR_CODES),
        description: 'stable; what each means is in the table in the description of this API',
      }),
      message: Type.String({ description: 'for people; match on code' }),
      param: Type.Optional(Type.String({ description: 'the field at fault: milestones[0].amount' })),
    }),
  },
  'An error: its code says what went wrong (the table of codes is in the description of this API)',
)
