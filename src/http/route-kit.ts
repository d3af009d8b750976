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

export const big = (x: number) => BigInt(x)
export const opt = <T>(x: T | undefined): T | null => (x === undefined ? null : x)
