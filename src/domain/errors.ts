/**
 * The one error type of Tranche: a stable `code` from a closed, documented set (SPEC §10).
 * The table below maps each code to its Stripe-style `type`, its HTTP status and what it means; the API docs and the
 * OpenAPI description are generated from it.
 */

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'payment_error'
  | 'permission_error'
  | 'not_found_error'
  | 'conflict_error'
  | 'rate_limit_error'
  | 'api_error'

export const ERROR_TYPE_STATUS: Readonly<Record<ErrorType, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  payment_error: 402,
  permission_error: 403,
  not_found_error: 404,
  conflict_error: 409,
  rate_limit_error: 429,
  api_error: 500,
}

export const ERROR_CODES = {
  parameter_invalid: {
    type: 'invalid_request_error',
    doc: 'A field has the wrong type, format or range; `param` names it.',
  },
  parameter_missing: { type: 'invalid_request_error', doc: 'A required field is absent; `param` names it.' },
  parameter_unknown: { type: 'invalid_request_error', doc: 'The request has a field the endpoint does not accept.' },
  amount_invalid: {
    type: 'invalid_request_error',
    doc: 'An amount is not an integer in 1..10^12 minor units, below the minimum, or above what is held.',
  },
  currency_unsupported: {
    type: 'invalid_request_error',
    doc: 'The currency is not an upper-case ISO 4217 code Tranche supports.',
  },
  terms_invalid: {
    type: 'invalid_request_error',
    doc: 'Offer terms break a rule of SPEC §4 (deposit, by_project, by_entry).',
  },
  counterparty_unknown: {
    type: 'invalid_request_error',
    doc: 'No registered user has the counterparty email, or it is your own.',
  },
  payload_too_large: { type: 'invalid_request_error', doc: 'The request body is larger than 1 MiB (HTTP 413).' },
  json_invalid: { type: 'invalid_request_error', doc: 'The request body is not valid JSON.' },
  authentication_required: { type: 'authentication_error', doc: 'No valid session token or API key was given.' },
  invalid_credentials: { type: 'authentication_error', doc: 'The email and password do not match.' },
  card_declined: { type: 'payment_error', doc: 'The payment method was declined; nothing changed.' },
  actor_not_allowed: {
    type: 'permission_error',
    doc: 'You are a party, but this command belongs to the other role (or the admin).',
  },
  admin_only: { type: 'permission_error', doc: 'Only the platform admin may call this.' },
  csrf_invalid: { type: 'permission_error', doc: 'A cookie-authenticated write lacks a valid X-CSRF-Token header.' },
  resource_missing: { type: 'not_found_error', doc: 'No such object, or you are not a party to it.' },
  email_taken: { type: 'conflict_error', doc: 'A user with this email (in any case) exists.' },
  invalid_state_transition: {
    type: 'conflict_error',
    doc: 'The command is not allowed in the current state; the message names it.',
  },
  offer_revision_stale: { type: 'conflict_error', doc: 'The offer has a newer revision than the one named.' },
  revision_limit_reached: {
    type: 'conflict_error',
    doc: 'The milestone used all its revisions: approve it or open a dispute.',
  },
  milestone_frozen: { type: 'conflict_error', doc: 'An amendment touches a milestone that is no longer pending.' },
  milestones_awaiting_action: {
    type: 'conflict_error',
    doc: 'The contract cannot end while a milestone is submitted or disputed.',
  },
  insufficient_funds: { type: 'conflict_error', doc: 'The available balance is smaller than the amount.' },
  idempotency_key_reused: { type: 'conflict_error', doc: 'The Idempotency-Key was used with another request body.' },
  idempotency_key_in_use: { type: 'conflict_error', doc: 'A request with this Idempotency-Key is still in flight.' },
  rate_limited: { type: 'rate_limit_error', doc: 'Too many failed attempts; wait before trying again.' },
  internal_error: { type: 'api_error', doc: 'Something went wrong on our side; the request id is in the message.' },
} as const satisfies Record<string, { type: ErrorType; doc: string }>

export type ErrorCode = keyof typeof ERROR_CODES

export class DomainError extends Error {
  readonly code: ErrorCode
  readonly param: string | undefined

  constructor(code: ErrorCode, message: string, param?: string) {
    super(message)
    this.name = 'DomainError'
    this.code = code
    this.param = param
  }

  get type(): ErrorType {
    return ERROR_CODES[this.code].type
  }

  get status(): number {
    return this.code === 'payload_too_large' ? 413 : ERROR_TYPE_STATUS[this.type]
  }
}

export const fail = (code: ErrorCode, message: string, param?: string): never => {
  throw new DomainError(code, message, param)
}

export const invalid = (param: string, message: string): never => fail('parameter_invalid', message, param)

/** A list's `starting_after` that names nothing the caller may list: 404, not a silent first page. */
export const noCursor = (id: string): never =>
  fail('resource_missing', `No such object to start after: ${id}.`, 'starting_after')

export const badState = (what: string, state: string, command: string): never =>
  fail('invalid_state_transition', `Cannot ${command.replaceAll('_', ' ')}: the ${what} is ${state}.`)
