import { describe, expect, it } from 'vitest'
import { newId } from '../../src/app/ids.ts'

describe('newId', () => {
  it('is the prefix and 20 base-62 characters', () => {
    for (let i = 0; i < 100; i++) expect(newId('ms')).toMatch(/^ms_[0-9A-Za-z]{20}$/)
  })

  it('sorts by time of creation: a later id is greater, whatever its random part', () => {
    const ids = [0, 1, 61, 62, 1_000, 1_795_000_000_000, 1_795_000_000_001, 1_795_000_060_000, 2 ** 45].map((t) =>
      newId('evt', 20, t),
    )
    expect([...ids].sort()).toEqual(ids)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('has 12 random characters: ids made in the same millisecond differ', () => {
    const same = Array.from({ length: 10_000 }, () => newId('je', 20, 1_795_000_000_000))
    expect(new Set(same).size).toBe(same.length)
    expect(new Set(same.map((id) => id.slice(0, 11))).size).toBe(1) // 'je_' + the 8 time characters
  })

  it('keeps short ids all random', () => {
    const a = newId('wrk', 8, 5)
    const b = newId('wrk', 8, 5)
    expect(a).toMatch(/^wrk_[0-9A-Za-z]{8}$/)
    expect(a).not.toBe(b)
  })
})
