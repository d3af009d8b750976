/**
 * Response types of the API, derived from the server's own presenters (type-only imports: nothing of the server is
 * bundled). The OpenAPI document describes the answers too (`http/response-schemas.ts`, tested against real
 * answers); the presenters stay the source, and these types follow them without a regeneration step.
 */

import type { createApiKey, listApiKeys, login, presentUser } from '../../../src/app/accounts.ts'
import type { DemoAccount } from '../../../src/app/demo.ts'
import type { balances, myLedgerEntries, presentPayout, statement } from '../../../src/app/money.ts'
import type {
  presentAmendment,
  presentContract,
  presentDispute,
  presentMilestone,
  presentOffer,
  presentRefundRequest,
} from '../../../src/app/present.ts'
import type { plan, reputation } from '../../../src/app/trust.ts'
import type { VerifyReport } from '../../../src/app/verify.ts'
import type { createEndpoint, listEndpoints, presentDelivery } from '../../../src/app/webhooks.ts'
import type { MilestoneState, Role } from '../../../src/domain/contract-model.ts'
import type { WithParties } from '../../../src/http/parties.ts'
import type { list } from '../../../src/http/route-kit.ts'

export type { MilestoneState, Role }
export type List<T> = ReturnType<typeof list<T>>

export type User = ReturnType<typeof presentUser>
export type Session = Awaited<ReturnType<typeof login>>
/** An offer as a command answers it (POST …/counter, /accept …). */
export type OfferCore = ReturnType<typeof presentOffer>
/** An offer as GET answers it: with the parties' names (src/http/parties.ts). */
export type Offer = WithParties<OfferCore>
export type OfferTerms = Offer['terms']
/** A contract as a command answers it (POST …/fund, /end). */
export type ContractCore = ReturnType<typeof presentContract>
/** A contract as GET answers it: with the parties' names. */
export type Contract = WithParties<ContractCore>
export type { Parties, Party } from '../../../src/http/parties.ts'
export type Milestone = ReturnType<typeof presentMilestone>
export type RefundRequest = ReturnType<typeof presentRefundRequest>
export type Dispute = ReturnType<typeof presentDispute>
export type Amendment = ReturnType<typeof presentAmendment>
export type Balance = Awaited<ReturnType<typeof balances>>[number]
export type Payout = ReturnType<typeof presentPayout>
export type Statement = Awaited<ReturnType<typeof statement>>
export type LedgerLines = Awaited<ReturnType<typeof myLedgerEntries>>
export type Plan = Awaited<ReturnType<typeof plan>>
export type Reputation = Awaited<ReturnType<typeof reputation>>
export type ApiKey = Awaited<ReturnType<typeof listApiKeys>>['data'][number]
export type NewApiKey = Awaited<ReturnType<typeof createApiKey>>
export type WebhookEndpoint = Awaited<ReturnType<typeof listEndpoints>>['data'][number]
export type NewWebhookEndpoint = Awaited<ReturnType<typeof createEndpoint>>
export type WebhookDelivery = ReturnType<typeof presentDelivery>
export type Verification = { object: 'verification' } & VerifyReport
export type { DemoAccount }

// The shapes below are built inline in their route handlers (no presenter to derive them from).
/** An event as stored in the outbox (app.ts Tx.events): `data.object` is the presented object. */
export interface TrancheEvent {
  id: string
  object: 'event'
  type: string
  created_at: string
  data: { object: Record<string, unknown> & { id?: string; object?: string; contract_id?: string } }
}
/** GET /v1/admin/revenue rows (routes/admin.ts). */
export interface Revenue {
  object: 'revenue'
  currency: string
  fees: number
}
/** GET/POST /v1/test_clock (routes/admin.ts). */
export interface TestClock {
  object: 'test_clock'
  now: string
}
export interface Deleted {
  id: string
  deleted: true
}
