import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decode, encode } from '../../src/app/json-codec.ts'

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
    const leaf = fc.oneof(fc.bigInt(), fc.string(), fc.integer(), fc.boolean(), fc.constant(null))
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('tree')),
        fc.dictionary(fc.string(), tie('tree'), { noNullPrototype: true }),
      ),
    }))
    fc.assert(
      fc.property(tree, (v) => {
        expect(decode(encode(v))).toEqual(v)
      }),
    )
  })
})
