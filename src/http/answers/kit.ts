/** The pieces the answer schemas are made of: strict objects, nullables, literals, times and amounts. */
import { type TSchema, Type } from 'typebox'

export const Obj = <T extends Record<string, TSchema>>(props: T, description?: string) =>
  Type.Object(props, { additionalProperties: false, ...(description ? { description } : {}) })
export const Null = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
export const Literal = <T extends string>(v: T) => Type.Literal(v)
export const OneOf = (...values: string[]) => Type.Union(values.map((v) => Type.Literal(v)))
/**
 * Every value of a string union of the domain (`Every<OfferStatus>()('open', …)`), checked when it compiles: a value
 * the domain adds, or one it does not have, is a type error here, so the document cannot fall behind the domain.
 */
export const Every =
  <U extends string>() =>
  <const A extends readonly U[]>(...values: A & ([U] extends [A[number]] ? unknown : never)) =>
    OneOf(...values)
export const Time = Type.String({
  format: 'date-time',
  description: 'ISO 8601, UTC',
  examples: ['2026-11-26T21:30:07.500Z'],
})
export const Day = Type.String({ description: 'YYYY-MM-DD', examples: ['2026-12-15'] })
export const Minor = Type.Integer({ description: 'minor units of the currency', examples: [50000] })
export const Currency = Type.String({ description: 'ISO 4217, upper case', examples: ['USD'] })
/** Ids are their prefix and 20 letters or digits (time-ordered). */
export const Id = (prefix: string) =>
  Type.String({ description: `${prefix}_…`, examples: [`${prefix}_0Vc7KFKFcfT4nhWYQzCy`] })

export const List = (item: TSchema, url: string, description: string) =>
  Obj({ object: Literal('list'), data: Type.Array(item), has_more: Type.Boolean(), url: Literal(url) }, description)
