/** Error mapping, written once: DomainError → Stripe-style body; schema failures → the field they name. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { DomainError, ERROR_CODES, type ErrorCode } from '../domain/errors.ts'
import { patternHint } from './schemas.ts'

interface AjvError {
  keyword: string
  instancePath: string
  params: Record<string, unknown>
  message?: string
}

/** "/milestones/0/amount" → "milestones[0].amount" */
function paramOf(path: string, extra?: unknown): string {
  const parts = path.split('/').filter(Boolean)
  if (typeof extra === 'string') parts.push(extra)
  return parts.reduce((s, p) => (/^\d+$/.test(p) ? `${s}[${p}]` : s ? `${s}.${p}` : p), '')
}

/** Where a request's value was: "Invalid query parameter limit", "Invalid path parameter id", "Invalid parameter …". */
const PLACE: Record<string, string> = { body: '', querystring: 'query ', params: 'path ', headers: 'header ' }

export function fromValidation(errors: AjvError[], context: string): DomainError {
  const e =
    errors.find((x) => x.keyword === 'additionalProperties') ??
    errors.find((x) => x.keyword === 'required') ??
    errors[0]!
  const where = PLACE[context] ?? `${context} `
  if (e.keyword === 'additionalProperties') {
    const param = paramOf(e.instancePath, e.params.additionalProperty)
    return new DomainError('parameter_unknown', `Unknown ${where}parameter: ${param}.`, param)
  }
  if (e.keyword === 'required') {
    const param = paramOf(e.instancePath, e.params.missingProperty)
    return new DomainError('parameter_missing', `Missing required ${where}parameter: ${param}.`, param)
  }
  if (context === 'body' && e.instancePath === '' && e.keyword === 'type')
    return new DomainError(
      'parameter_invalid',
      'The request body must be a JSON object (Content-Type: application/json).',
    )
  const param = paramOf(e.instancePath) || context
  const leaf = param.split('.').pop() ?? ''
  let code: ErrorCode = 'parameter_invalid'
  if (/amount|price|bonus|^total$/.test(leaf)) code = 'amount_invalid'
  else if (leaf === 'currency') code = 'currency_unsupported'
  const detail =
    code === 'amount_invalid' && e.keyword === 'type' ? 'must be a whole number of minor units' : detailOf(e, errors)
  return new DomainError(code, `Invalid ${where}parameter ${param}: ${detail}.`, param)
}

/** The failed rule in words, naming the values allowed where the schema lists them. */
function detailOf(e: AjvError, errors: AjvError[]): string {
  switch (e.keyword) {
    case 'pattern':
      return patternHint(e.params.pattern) ?? 'has the wrong format'
    case 'enum':
      return oneOf(e.params.allowedValues as unknown[])
    case 'const': {
      // a union of literals fails each of its branches: name them all
      const allowed = errors
        .filter((x) => x.keyword === 'const' && x.instancePath === e.instancePath)
        .map((x) => x.params.allowedValue)
      return oneOf(allowed)
    }
    case 'type':
      return e.params.type === 'integer' ? 'must be a whole number' : `must be of type ${String(e.params.type)}`
    case 'minLength':
      return e.params.limit === 1 ? 'must not be empty' : `must have at least ${e.params.limit} characters`
    case 'maxLength':
      return `must have at most ${e.params.limit} characters`
    case 'minItems':
      return `must have at least ${e.params.limit} item${e.params.limit === 1 ? '' : 's'}`
    case 'maxItems':
      return `must have at most ${e.params.limit} items`
    case 'minimum':
      return `must be at least ${e.params.limit}`
    case 'maximum':
      return `must be at most ${e.params.limit}`
    default:
      return e.message ?? 'is invalid'
  }
}

const oneOf = (values: unknown[]) =>
  values.length === 1 ? `must be ${String(values[0])}` : `must be one of: ${values.map(String).join(', ')}`

export function errorBody(err: DomainError, requestId?: string) {
  const message = err.code === 'internal_error' && requestId ? `${err.message} (request ${requestId})` : err.message
  return {
    error: { type: ERROR_CODES[err.code].type, code: err.code, message, ...(err.param ? { param: err.param } : {}) },
  }
}

export function toDomainError(error: FastifyError | DomainError | Error): DomainError | null {
  if (error instanceof DomainError) return error
  const fe = error as FastifyError & { validation?: AjvError[]; validationContext?: string }
  if (fe.validation) return fromValidation(fe.validation, fe.validationContext ?? 'body')
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new DomainError('payload_too_large', 'The request body is larger than 1 MiB.')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new DomainError('parameter_invalid', 'Send JSON with Content-Type: application/json.')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new DomainError('json_invalid', 'The request body is not valid JSON.')
  }
  if (error instanceof SyntaxError || (fe.statusCode === 400 && /JSON/i.test(fe.message))) {
    return new DomainError('json_invalid', 'The request body is not valid JSON.')
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new DomainError('parameter_invalid', fe.message)
  }
  return null
}

export function sendError(reply: FastifyReply, request: FastifyRequest, error: Error) {
  const de = toDomainError(error)
  if (de) return reply.status(de.status).send(errorBody(de))
  request.log.error({ err: error }, 'unhandled error')
  return reply
    .status(500)
    .send(errorBody(new DomainError('internal_error', 'Something went wrong on our side.'), request.id))
}
