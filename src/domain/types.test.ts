import { describe, expect, it } from 'vitest'
import { copyData } from './types.ts'

describe('copyData', () => {
  it('copies plain data deeply: changing the copy leaves the original alone', () => {
    const original = { a: 1n, list: [{ b: 'x', c: null }, [2, 3n]], nested: { d: true, e: 9007199254740993n } }
    const copy = copyData(original)
    expect(copy).toEqual(original)
    expect(copy).not.toBe(original)
    expect(copy.list[0]).not.toBe(original.list[0])
    ;(copy.list[0] as { b: string }).b = 'changed'
    ;(copy.list[1] as unknown[]).push(4)
    copy.nested.e = 0n
    expect(original).toEqual({ a: 1n, list: [{ b: 'x', c: null }, [2, 3n]], nested: { d: true, e: 9007199254740993n } })
  })
})
