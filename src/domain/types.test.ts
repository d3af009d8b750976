import { describe, expect, it } from 'vitest'
import { copyData, deepFreeze } from './types.ts'

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

describe('deepFreeze', () => {
  it('freezes every object and array inside, so a write anywhere throws', () => {
    const v = deepFreeze({ a: 1n, list: [{ b: 'x' }, [2]], nested: { d: { e: 1 } } })
    expect(() => {
      ;(v.list[0] as { b: string }).b = 'y'
    }).toThrow(TypeError)
    expect(() => (v.list[1] as number[]).push(3)).toThrow(TypeError)
    expect(() => {
      v.nested.d.e = 2
    }).toThrow(TypeError)
    expect(v).toEqual({ a: 1n, list: [{ b: 'x' }, [2]], nested: { d: { e: 1 } } })
    // a copy of a frozen value is an ordinary, writable one
    const copy = copyData(v)
    copy.nested.d.e = 3
    expect(copy.nested.d.e).toBe(3)
  })
})
