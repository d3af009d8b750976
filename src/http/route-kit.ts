/** Small shared pieces of the route files. */
import type {} from '@fastify/swagger'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify'
import { DomainError } from '../domain/errors.ts'
import { isCalendarDate } from '../domain/terms.ts'

export type Server = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>

export function page(q: { limit?: string | undefined; starting_after?: string | undefined }) {
  const limit = q.limit === undefined ? 20 : Number(q.limit)
  return { limit, startingAfter: q.starting_after ?? null }
}

export const list = <T>(data: T[], hasMore: boolean, url: string) => ({
  object: 'list' as const,
  data,
  has_more: hasMore,
  url,
})

/** Parses an ISO date or timestamp query value into ms. */
export function timeParam(v: string | undefined, name: string, endOfDay = false): number | null {
  if (v === undefined || v === '') return null
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(v)
  const ms = Date.parse(dateOnly ? `${v}T00:00:00Z` : v)
  // Date.parse takes 2024-02-30 for March 1st: the day must be one of the calendar
  const day = /^\d{4}-\d{2}-\d{2}/.exec(v)?.[0]
  if (Number.isNaN(ms) || (day !== undefined && !isCalendarDate(day)))
    throw new DomainError('parameter_invalid', `${name} must be an ISO date or timestamp.`, name)
  return dateOnly && endOfDay ? ms + 86_400_000 : ms
}

export const big = (x: number) => BigInt(x)
export const opt = <T>(x: T | undefined): T | null => (x === undefined ? null : x)
