/**
 * Request schemas (TypeBox): one definition gives validation, the handler's types and the OpenAPI document.
 * Every object is strict (unknown fields → 400 parameter_unknown); amounts are integers 1..10^12 (SPEC §3).
 */
import { type TSchema, Type } from 'typebox'
import { EVENT_GROUPS, EVENT_TYPES } from '../domain/types.ts'

export const MAX_TITLE = 200
export const MAX_TEXT = 10_000

export const Strict = <T extends Record<string, TSchema>>(props: T, opts: object = {}) =>
  Type.Object(props, { additionalProperties: false, ...opts })

export const Amount = Type.Integer({
  minimum: 1,
  maximum: 1_000_000_000_000,
  description: 'Minor units (cents), 1..10^12',
})
export const Amount0 = Type.Integer({ minimum: 0, maximum: 1_000_000_000_000, description: 'Minor units, 0..10^12' })
/**
 * What a pattern asks for, in words: a value that does not match gets this in its error (`http/errors.ts`) instead
 * of the regular expression.
 */
const PATTERN_HINTS = new Map<string, string>()
const matching = (pattern: string, hint: string, opts: object = {}) => {
  PATTERN_HINTS.set(pattern, hint)
  return Type.String({ pattern, ...opts })
}
export const patternHint = (pattern: unknown) => (typeof pattern === 'string' ? PATTERN_HINTS.get(pattern) : undefined)

export const Currency = matching('^[A-Z]{3}$', 'must be an ISO 4217 code in upper case, like USD', {
  description: 'ISO 4217 code, upper case (USD, JPY, KWD…)',
})
export const Title = Type.String({ minLength: 1, maxLength: MAX_TITLE })
export const Text = Type.String({ maxLength: MAX_TEXT })
export const Id = (prefix: string) =>
  matching(`^${prefix}_[A-Za-z0-9]{1,64}$`, `must be an id that starts with ${prefix}_`, { maxLength: 80 })
export const IsoDate = matching('^\\d{4}-\\d{2}-\\d{2}$', 'must be a date written YYYY-MM-DD', {
  description: 'YYYY-MM-DD',
})
export const Link = Type.String({ minLength: 1, maxLength: 2000 })

export const MilestoneLine = Strict({
  title: Title,
  description: Type.Optional(Text),
  acceptance_criteria: Type.Optional(Text),
  amount: Type.Optional(Amount),
  due_date: Type.Optional(Type.Union([IsoDate, Type.Null()])),
  deposit: Type.Optional(Type.Boolean()),
  entries: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
})

export const termsProps = {
  title: Title,
  description: Type.Optional(Text),
  currency: Currency,
  payment_mode: Type.Union([Type.Literal('by_project'), Type.Literal('by_milestone'), Type.Literal('by_entry')]),
  review_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 })),
  revision_limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
  unit_name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  unit_price: Type.Optional(Amount),
  milestones: Type.Array(MilestoneLine, { minItems: 1, maxItems: 100 }),
}

export const OfferCreate = Strict({
  role: Type.Union([Type.Literal('client'), Type.Literal('freelancer')]),
  counterparty_email: Type.String({ minLength: 3, maxLength: 320 }),
  ...termsProps,
})
export const Terms = Strict(termsProps)

export const Empty = Strict({})
export const Reason = Strict({ reason: Type.Optional(Text) })
/**
 * The query of a list: its page, and only the filters that list applies — a filter it would ignore is refused
 * (400 `parameter_unknown`) rather than answered with everything as if it had been applied.
 */
const pageProps = {
  limit: Type.Optional(
    matching('^(100|[1-9][0-9]?)$', 'must be a whole number from 1 to 100', { description: '1..100 (default 20)' }),
  ),
  starting_after: Type.Optional(Type.String({ maxLength: 100 })),
}
export const ListQuery = Strict(pageProps)
/** A list filtered by the status of its objects: one of `statuses` (another is a mistake, not an empty list). */
export const StatusListQuery = (statuses: readonly string[]) =>
  Strict({ ...pageProps, status: Type.Optional(Type.Unsafe<string>({ type: 'string', enum: [...statuses] })) })
export const EventListQuery = Strict({
  ...pageProps,
  type: Type.Optional(
    matching(
      `^(${[...EVENT_TYPES, ...EVENT_GROUPS].join('|').replaceAll('.', '\\.').replaceAll('*', '\\*')})$`,
      'must be an event type, like milestone.funded, or a family of them, like milestone.*',
      { maxLength: 80 },
    ),
  ),
  contract_id: Type.Optional(Type.String({ maxLength: 100 })),
})
/** A statement: its account, currency and bounds, and (JSON only) its page; lines are many, so pages are long. */
export const StatementQuery = Strict({
  currency: Currency,
  from: Type.Optional(Type.String({ maxLength: 40 })),
  to: Type.Optional(Type.String({ maxLength: 40 })),
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
  account: Type.Optional(Type.Union([Type.Literal('available'), Type.Literal('pending')])),
  limit: Type.Optional(
    matching('^(1000|[1-9][0-9]{0,2})$', 'must be a whole number from 1 to 1000', {
      description: 'lines a page: 1..1000 (default 1000)',
    }),
  ),
  starting_after: Type.Optional(
    matching('^jel_[0-9]{1,15}$', 'must be the id of a statement line, like jel_42', {
      description: 'the id of the last line of the page before',
    }),
  ),
})
/** A query that takes no parameters at all. */
export const NoQuery = Strict({})

export type Json = Record<string, unknown>
