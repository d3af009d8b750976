import { describe, expect, it } from 'vitest'
import { deepFreeze } from './types.ts'

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
  })
})
