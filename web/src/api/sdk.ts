/**
 * One typed function per API call. Request bodies, paths and queries are checked against the OpenAPI schema by
 * openapi-fetch; every write takes the Idempotency-Key of the user action that caused it.
 */
import { client, idem, unwrap } from './client'
import type { paths } from './schema'
import type {
  Amendment,
  ApiKey,
  Balance,
  Contract,
  ContractCore,
  Deleted,
  DemoAccount,
  Dispute,
  LedgerLines,
  List,
  Milestone,
  NewApiKey,
  NewWebhookEndpoint,
  Offer,
  OfferCore,
  Payout,
  Plan,
  RefundRequest,
  Reputation,
  Revenue,
  Session,
  Statement,
  TestClock,
  TrancheEvent,
  User,
  Verification,
  WebhookDelivery,
  WebhookEndpoint,
} from './types'

/** The JSON body a POST of `P` accepts, from the OpenAPI schema. */
export type Body<P extends keyof paths> = paths[P] extends {
  post: { requestBody?: { content: { 'application/json': infer B } } }
}
  ? B
  : never
export type OfferBody = Body<'/v1/offers'>
export type TermsBody = Body<'/v1/offers/{id}/counter'>
export type MilestoneLineBody = TermsBody['milestones'][number]
export type ApproveBody = Body<'/v1/milestones/{id}/approve'>
export type AmendmentBody = Body<'/v1/contracts/{id}/amendments'>
export type PlanBody = Body<'/v1/plans'>
export type ProfileBody = paths['/v1/me']['patch']['requestBody']['content']['application/json']

const id = (x: string) => ({ params: { path: { id: x } } })
/** The query a list takes (each list its own filters: the server refuses the others). */
type QueryOf<P extends keyof paths> = paths[P] extends { get: { parameters: { query?: infer Q } } }
  ? NonNullable<Q>
  : never

export const api = {
  // users and sessions
  signUp: (body: Body<'/v1/users'>) => unwrap<User>(client.POST('/v1/users', { body })),
  logIn: (body: Body<'/v1/sessions'>) => unwrap<Session>(client.POST('/v1/sessions', { body })),
  logOut: () => unwrap<unknown>(client.DELETE('/v1/sessions/current')),
  me: () => unwrap<User>(client.GET('/v1/me')),
  updateMe: (body: ProfileBody) => unwrap<User>(client.PATCH('/v1/me', { body })),
  demo: async (): Promise<DemoAccount[] | null> => {
    const res = await fetch('/v1/demo')
    return res.ok ? ((await res.json()) as { accounts: DemoAccount[] }).accounts : null
  },

  // offers
  offers: (query: QueryOf<'/v1/offers'> = {}) => unwrap<List<Offer>>(client.GET('/v1/offers', { params: { query } })),
  offer: (offerId: string) => unwrap<Offer>(client.GET('/v1/offers/{id}', id(offerId))),
  openOffer: (body: OfferBody, key: string) => unwrap<OfferCore>(client.POST('/v1/offers', { body, ...idem(key) })),
  counter: (offerId: string, body: TermsBody, key: string) =>
    unwrap<OfferCore>(client.POST('/v1/offers/{id}/counter', { ...id(offerId), body, ...idem(key) })),
  acceptOffer: (offerId: string, revision: number, key: string) =>
    unwrap<OfferCore>(client.POST('/v1/offers/{id}/accept', { ...id(offerId), body: { revision }, ...idem(key) })),
  declineOffer: (offerId: string, key: string) =>
    unwrap<OfferCore>(client.POST('/v1/offers/{id}/decline', { ...id(offerId), body: {}, ...idem(key) })),
  withdrawOffer: (offerId: string, key: string) =>
    unwrap<OfferCore>(client.POST('/v1/offers/{id}/withdraw', { ...id(offerId), body: {}, ...idem(key) })),
  plan: (body: PlanBody) => unwrap<Plan>(client.POST('/v1/plans', { body })),

  // contracts and milestones
  contracts: (query: QueryOf<'/v1/contracts'> = {}) =>
    unwrap<List<Contract>>(client.GET('/v1/contracts', { params: { query } })),
  contract: (contractId: string) => unwrap<Contract>(client.GET('/v1/contracts/{id}', id(contractId))),
  fundMany: (contractId: string, milestone_ids: string[], payment_method: string | undefined, key: string) =>
    unwrap<ContractCore>(
      client.POST('/v1/contracts/{id}/fund', {
        ...id(contractId),
        body: payment_method ? { milestone_ids, payment_method } : { milestone_ids },
        ...idem(key),
      }),
    ),
  endContract: (contractId: string, reason: string, key: string) =>
    unwrap<ContractCore>(
      client.POST('/v1/contracts/{id}/end', { ...id(contractId), body: reason ? { reason } : {}, ...idem(key) }),
    ),
  proposeAmendment: (contractId: string, body: AmendmentBody, key: string) =>
    unwrap<Amendment>(client.POST('/v1/contracts/{id}/amendments', { ...id(contractId), body, ...idem(key) })),
  amendment: (verb: 'accept' | 'reject' | 'withdraw', amendmentId: string, key: string) => {
    const init = { ...id(amendmentId), body: {}, ...idem(key) }
    return unwrap<Amendment>(
      verb === 'accept'
        ? client.POST('/v1/amendments/{id}/accept', init)
        : verb === 'reject'
          ? client.POST('/v1/amendments/{id}/reject', init)
          : client.POST('/v1/amendments/{id}/withdraw', init),
    )
  },
  fund: (milestoneId: string, payment_method: string | undefined, key: string) =>
    unwrap<Milestone>(
      client.POST('/v1/milestones/{id}/fund', {
        ...id(milestoneId),
        body: payment_method ? { payment_method } : {},
        ...idem(key),
      }),
    ),
  submit: (milestoneId: string, body: Body<'/v1/milestones/{id}/submit'>, key: string) =>
    unwrap<Milestone>(client.POST('/v1/milestones/{id}/submit', { ...id(milestoneId), body, ...idem(key) })),
  requestChanges: (milestoneId: string, message: string, key: string) =>
    unwrap<Milestone>(
      client.POST('/v1/milestones/{id}/request_changes', { ...id(milestoneId), body: { message }, ...idem(key) }),
    ),
  approve: (milestoneId: string, body: ApproveBody, key: string) =>
    unwrap<Milestone>(client.POST('/v1/milestones/{id}/approve', { ...id(milestoneId), body, ...idem(key) })),
  requestRefund: (milestoneId: string, reason: string, key: string) =>
    unwrap<Milestone>(
      client.POST('/v1/milestones/{id}/request_refund', { ...id(milestoneId), body: { reason }, ...idem(key) }),
    ),
  refund: (milestoneId: string, reason: string, key: string) =>
    unwrap<Milestone>(
      client.POST('/v1/milestones/{id}/refund', { ...id(milestoneId), body: reason ? { reason } : {}, ...idem(key) }),
    ),
  refundRequest: (verb: 'accept' | 'decline', requestId: string, reason: string, key: string) => {
    const init = { ...id(requestId), body: reason ? { reason } : {}, ...idem(key) }
    return unwrap<RefundRequest>(
      verb === 'accept'
        ? client.POST('/v1/refund_requests/{id}/accept', init)
        : client.POST('/v1/refund_requests/{id}/decline', init),
    )
  },

  // disputes
  openDispute: (milestoneId: string, body: Body<'/v1/milestones/{id}/disputes'>, key: string) =>
    unwrap<Dispute>(client.POST('/v1/milestones/{id}/disputes', { ...id(milestoneId), body, ...idem(key) })),
  propose: (disputeId: string, body: Body<'/v1/disputes/{id}/proposals'>, key: string) =>
    unwrap<Dispute>(client.POST('/v1/disputes/{id}/proposals', { ...id(disputeId), body, ...idem(key) })),
  acceptProposal: (disputeId: string, proposalId: string, key: string) =>
    unwrap<Dispute>(
      client.POST('/v1/disputes/{id}/proposals/{pid}/accept', {
        params: { path: { id: disputeId, pid: proposalId } },
        body: {},
        ...idem(key),
      }),
    ),
  escalate: (disputeId: string, key: string) =>
    unwrap<Dispute>(client.POST('/v1/disputes/{id}/escalate', { ...id(disputeId), body: {}, ...idem(key) })),
  decide: (disputeId: string, body: Body<'/v1/disputes/{id}/decide'>, key: string) =>
    unwrap<Dispute>(client.POST('/v1/disputes/{id}/decide', { ...id(disputeId), body, ...idem(key) })),

  // money
  balances: () => unwrap<List<Balance>>(client.GET('/v1/balances')),
  payouts: (query: QueryOf<'/v1/payouts'> = {}) =>
    unwrap<List<Payout>>(client.GET('/v1/payouts', { params: { query } })),
  payout: (body: Body<'/v1/payouts'>, key: string) =>
    unwrap<Payout>(client.POST('/v1/payouts', { body, ...idem(key) })),
  statement: (query: {
    currency: string
    from?: string
    to?: string
    account?: 'available' | 'pending'
    limit?: string
    starting_after?: string
  }) => unwrap<Statement>(client.GET('/v1/statements', { params: { query } })),
  ledger: (query: QueryOf<'/v1/ledger/entries'> = {}) =>
    unwrap<LedgerLines>(client.GET('/v1/ledger/entries', { params: { query } })),

  // trust
  reputation: (userId: string) => unwrap<Reputation>(client.GET('/v1/users/{id}/reputation', id(userId))),

  // events, webhooks, API keys
  events: (query: QueryOf<'/v1/events'> = {}) =>
    unwrap<List<TrancheEvent>>(client.GET('/v1/events', { params: { query } })),
  apiKeys: () => unwrap<List<ApiKey>>(client.GET('/v1/api_keys', { params: { query: { limit: '100' } } })),
  createApiKey: (name: string, key: string) =>
    unwrap<NewApiKey>(client.POST('/v1/api_keys', { body: { name }, ...idem(key) })),
  deleteApiKey: (keyId: string) => unwrap<Deleted>(client.DELETE('/v1/api_keys/{id}', id(keyId))),
  webhooks: () =>
    unwrap<List<WebhookEndpoint>>(client.GET('/v1/webhook_endpoints', { params: { query: { limit: '100' } } })),
  createWebhook: (body: Body<'/v1/webhook_endpoints'>, key: string) =>
    unwrap<NewWebhookEndpoint>(client.POST('/v1/webhook_endpoints', { body, ...idem(key) })),
  updateWebhook: (endpointId: string, body: { enabled?: boolean }) =>
    unwrap<WebhookEndpoint>(client.PATCH('/v1/webhook_endpoints/{id}', { ...id(endpointId), body })),
  rollWebhookSecret: (endpointId: string, key: string) =>
    unwrap<NewWebhookEndpoint>(
      client.POST('/v1/webhook_endpoints/{id}/roll_secret', { ...id(endpointId), body: {}, ...idem(key) }),
    ),
  deleteWebhook: (endpointId: string) => unwrap<Deleted>(client.DELETE('/v1/webhook_endpoints/{id}', id(endpointId))),
  deliveries: (endpointId: string) =>
    unwrap<List<WebhookDelivery>>(client.GET('/v1/webhook_endpoints/{id}/deliveries', id(endpointId))),
  retryDelivery: (deliveryId: string, key: string) =>
    unwrap<WebhookDelivery>(
      client.POST('/v1/webhook_deliveries/{id}/retry', { ...id(deliveryId), body: {}, ...idem(key) }),
    ),

  // admin
  adminDisputes: (status?: QueryOf<'/v1/admin/disputes'>['status']) =>
    unwrap<List<Dispute>>(
      client.GET('/v1/admin/disputes', { params: { query: status ? { status, limit: '100' } : { limit: '100' } } }),
    ),
  verify: () => unwrap<Verification>(client.GET('/v1/admin/verify')),
  revenue: () => unwrap<List<Revenue>>(client.GET('/v1/admin/revenue')),
  testClock: () => unwrap<TestClock>(client.GET('/v1/test_clock')),
  advanceClock: (seconds: number, key: string) =>
    unwrap<TestClock>(client.POST('/v1/test_clock/advance', { body: { seconds }, ...idem(key) })),
}
