/** The pieces the answer schemas are made of: strict objects, nullables, literals, times and amounts. */
import { type TSchema, Type } from 'typebox'

export const Obj = <T extends Record<string, TSchema>>(props: T, description?: string) =>
  Type.Object(props, { additionalProperties: false, ...(description ? { description } : {}) })
export const Null = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
export const Literal = <T extends string>(v: T) => Type.Literal(v)
export const OneOf = (...values: string[]) => Type.Union(values.map((v) => Type.Literal(v)))
export const Time = Type.String({ format: 'date-time', description: 'ISO 8601, UTC' })
export const Day = Type.String({ description: 'YYYY-MM-DD' })
export const Minor = Type.Integer({ description: 'minor units of the currency' })
export const Id = (prefix: string) => Type.String({ description: `${prefix}_…` })

export const List = (item: TSchema, url: string, description: string) =>
  Obj({ object: Literal('list'), data: Type.Array(item), has_more: Type.Boolean(), url: Literal(url) }, description)
