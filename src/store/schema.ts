/**
 * The tables, as Kysely sees them. Integers that hold money or times (ms) are `bigint` columns; on SQLite every
 * integer reads back as `bigint` (safe integers), on PostgreSQL int8 reads back as `bigint` and int4 as `number`,
 * so readers convert with `num()` / `big()` below.
 */
import type { Generated } from 'kysely'
import type { DeliveryStatus, PayoutStatus } from '../domain/types.ts'

type Int = bigint | number
type Big = bigint | number | string

export interface UsersTable {
  id: string
  email: string
  email_lower: string
  name: string
  time_zone: string
  password_hash: string
  is_admin: Int
  created_at: Big
}
export interface SessionsTable {
  token_hash: string
  user_id: string
  created_at: Big
  expires_at: Big
}
export interface ApiKeysTable {
  id: string
  user_id: string
  name: string
  secret_hash: string
  last4: string
  created_at: Big
  deleted_at: Big | null
}
export interface OffersTable {
  id: string
  client_id: string
  freelancer_id: string
  status: string
  data: string
  version: Int
  created_at: Big
}
export interface ContractsTable {
  id: string
  client_id: string
  freelancer_id: string
  status: string
  data: string
  version: Int
  created_at: Big
}
export interface ObjectIndexTable {
  id: string
  contract_id: string
}
export interface AccountsTable {
  account: string
  currency: string
  balance: Big
  user_id: string | null
}
export interface JournalEntriesTable {
  seq: Generated<Big>
  id: string
  kind: string
  currency: string
  memo: string
  contract_id: string | null
  milestone_id: string | null
  created_at: Big
}
export interface JournalLinesTable {
  seq: Generated<Big>
  entry_id: string
  account: string
  currency: string
  amount: Big
  created_at: Big
}
export interface AuditLogTable {
  seq: Generated<Big>
  id: string
  at: Big
  actor: string
  action: string
  target: string
  record: string
  prev_hash: string
  hash: string
}
export interface AuditHeadTable {
  id: Int
  hash: string
  count: Big
}
export interface EventsTable {
  seq: Generated<Big>
  id: string
  type: string
  object_id: string
  contract_id: string | null
  data: string
  created_at: Big
}
export interface EventRecipientsTable {
  user_id: string
  event_seq: Big
}
export interface TimersTable {
  key: string
  kind: string
  run_at: Big
  payload: string
  attempts: Int
  lease_until: Big | null
  lease_owner: string | null
  last_error: string | null
  created_at: Big
}
export interface IdempotencyKeysTable {
  user_id: string
  key: string
  request_hash: string
  status: string
  response_status: Int | null
  response_body: string | null
  created_at: Big
}
export interface WebhookEndpointsTable {
  id: string
  user_id: string
  url: string
  secret: string
  enabled_events: string
  enabled: Int
  created_at: Big
  deleted_at: Big | null
  /** the secret before the last roll, still signing beside the new one until `previous_secret_until` (ms) */
  previous_secret: string | null
  previous_secret_until: Big | null
}
export interface WebhookDeliveriesTable {
  id: string
  endpoint_id: string
  user_id: string
  event_id: string
  event_seq: Big
  status: DeliveryStatus
  attempts: Int
  next_attempt_at: Big | null
  lease_until: Big | null
  last_status: Int | null
  last_error: string | null
  created_at: Big
  delivered_at: Big | null
}
export interface PayoutsTable {
  id: string
  user_id: string
  currency: string
  amount: Big
  status: PayoutStatus
  created_at: Big
}
export interface ClockTable {
  id: Int
  now: Big
}

export interface DB {
  users: UsersTable
  sessions: SessionsTable
  api_keys: ApiKeysTable
  offers: OffersTable
  contracts: ContractsTable
  object_index: ObjectIndexTable
  accounts: AccountsTable
  journal_entries: JournalEntriesTable
  journal_lines: JournalLinesTable
  audit_log: AuditLogTable
  audit_head: AuditHeadTable
  events: EventsTable
  event_recipients: EventRecipientsTable
  timers: TimersTable
  idempotency_keys: IdempotencyKeysTable
  webhook_endpoints: WebhookEndpointsTable
  webhook_deliveries: WebhookDeliveriesTable
  payouts: PayoutsTable
  clock: ClockTable
}

export const num = (x: Int | Big | null | undefined): number => (x === null || x === undefined ? 0 : Number(x))
export const big = (x: Int | Big | null | undefined): bigint => (x === null || x === undefined ? 0n : BigInt(x))
