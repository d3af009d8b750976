import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decode, encode, encodeAggregate } from '../../src/app/json-codec.ts'
import { deepFreeze } from '../../src/domain/types.ts'

/** Any JSON-shaped value with bigints among its leaves. */
const leaf = fc.oneof(fc.bigInt(), fc.string(), fc.integer(), fc.boolean(), fc.constant(null))
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('tree')),
    fc.dictionary(fc.string(), tie('tree'), { noNullPrototype: true }),
  ),
}))

describe('json codec', () => {
  it('keeps bigints exact, beyond 2^53 and negative', () => {
    const v = { a: 9007199254740993n, b: [-5n, 0n, { c: 123456789012345678901234567890n }], d: null, e: 'x' }
    expect(decode(encode(v))).toEqual(v)
  })

  it('leaves user text that looks like the bigint form alone', () => {
    const v = { message: '{"$big":"1"}', $big: 'not alone', n: 1n }
    const back = decode<typeof v>(encode(v))
    expect(back).toEqual(v)
    expect(typeof back.$big).toBe('string')
  })

  it('round-trips any JSON-shaped value with bigints', () => {
    fc.assert(
      fc.property(tree, (v) => {
        expect(decode(encode(v))).toEqual(v)
      }),
    )
  })

  it('encodes an aggregate to the same text as encode, frozen or not, its lists reused or changed', () => {
    const aggregate = fc.dictionary(fc.string(), fc.oneof(tree, fc.array(tree)), { noNullPrototype: true })
    fc.assert(
      fc.property(aggregate, fc.boolean(), (v, freeze) => {
        if (freeze) deepFreeze(v)
        expect(encodeAggregate(v)).toBe(encode(v))
        // again: the frozen elements' texts come from the cache now
        expect(encodeAggregate(v)).toBe(encode(v))
        // a new version sharing the old elements, with one element replaced and one added
        const lists = Object.keys(v).filter((k) => Array.isArray(v[k]))
        const next: Record<string, unknown> = { ...v }
        for (const k of lists) {
          const old = v[k] as unknown[]
          next[k] = [...old.slice(1), { changed: 1n, was: old[0] ?? null }, 'added']
        }
        expect(encodeAggregate(next)).toBe(encode(next))
        expect(decode(encodeAggregate(next))).toEqual(next)
      }),
    )
  })

  it('leaves out undefined fields and writes undefined list elements as null, as JSON.stringify does', () => {
    const v = { a: undefined, b: [undefined, 1n, { c: undefined }], d: 'x' }
    expect(encodeAggregate(v)).toBe('{"b":[null,{"$big":"1"},{}],"d":"x"}')
    expect(encodeAggregate(v)).toBe(encode(v))
  })
})
