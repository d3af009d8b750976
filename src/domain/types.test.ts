import { describe, expect, it } from 'vitest'
import { deepFreeze, EVENT_GROUPS, eventEnabled } from './types.ts'

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

describe('eventEnabled', () => {
  it('takes *, whole groups and single types', () => {
    expect(EVENT_GROUPS).toEqual([
      'offer.*',
      'contract.*',
      'amendment.*',
      'milestone.*',
      'refund_request.*',
      'dispute.*',
      'payout.*',
      'balance.*',
    ])
    expect(eventEnabled(['*'], 'dispute.opened')).toBe(true)
    expect(eventEnabled(['milestone.*'], 'milestone.auto_released')).toBe(true)
    expect(eventEnabled(['milestone.*'], 'contract.created')).toBe(false)
    expect(eventEnabled(['milestone.released', 'dispute.*'], 'milestone.released')).toBe(true)
    expect(eventEnabled(['milestone.released'], 'milestone.refunded')).toBe(false)
    // a group is the object's name and a dot: `refund_request.*` is not `refund.*`
    expect(eventEnabled(['refund.*'], 'refund_request.created')).toBe(false)
    expect(eventEnabled([], 'offer.created')).toBe(false)
  })
})
