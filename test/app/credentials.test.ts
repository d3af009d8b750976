/** The credentials remembered for a moment (app/credentials.ts): how long, what is forgotten, what is never kept. */
import { describe, expect, it } from 'vitest'
import type { UserRow } from '../../src/app/accounts.ts'
import { type Credential, CredentialCache } from '../../src/app/credentials.ts'

const user = (id: string, name = 'Ada'): UserRow => ({
  id,
  email: `${id}@example.test`,
  name,
  time_zone: 'UTC',
  is_admin: 0,
  created_at: 0,
})

/** A cache on a clock the test moves, and a store whose answers the test sets; counts the reads. */
function setup(ttlMs = 1_000, max = 10_000) {
  let now = 0
  const stored = new Map<string, Credential>()
  let reads = 0
  const cache = new CredentialCache(ttlMs, max, () => now)
  const find = (key: string) =>
    cache.find(key, async () => {
      reads++
      return stored.get(key) ?? null
    })
  return {
    cache,
    stored,
    find,
    reads: () => reads,
    advance: (ms: number) => {
      now += ms
    },
  }
}

describe('CredentialCache', () => {
  it('reads a credential once, then answers from memory until ttlMs has passed', async () => {
    const t = setup()
    t.stored.set('h1', { user: user('usr_1'), expiresAt: null })
    expect((await t.find('h1'))?.user.id).toBe('usr_1')
    t.advance(999)
    await t.find('h1')
    expect(t.reads()).toBe(1)
    // changed by another process: seen once the second is over
    t.stored.set('h1', { user: user('usr_1', 'Ada Lovelace'), expiresAt: null })
    t.advance(1)
    expect((await t.find('h1'))?.user.name).toBe('Ada Lovelace')
    expect(t.reads()).toBe(2)
  })

  it('never remembers a credential that matches nothing', async () => {
    const t = setup()
    expect(await t.find('guess')).toBeNull()
    expect(await t.find('guess')).toBeNull()
    expect(t.reads()).toBe(2)
    // and one that stopped matching is dropped, not kept as it was
    t.stored.set('h1', { user: user('usr_1'), expiresAt: null })
    await t.find('h1')
    t.stored.delete('h1')
    t.advance(1_000)
    expect(await t.find('h1')).toBeNull()
    expect(await t.find('h1')).toBeNull()
    expect(t.reads()).toBe(2 + 1 + 2)
  })

  it('forgets at once what this process changed: one credential, or every one of a user', async () => {
    const t = setup()
    t.stored.set('s1', { user: user('usr_1'), expiresAt: 5_000 })
    t.stored.set('k1', { user: user('usr_1'), expiresAt: null })
    t.stored.set('s2', { user: user('usr_2'), expiresAt: 5_000 })
    for (const k of ['s1', 'k1', 's2']) await t.find(k)
    t.stored.delete('s1')
    t.cache.forget('s1') // a logout
    expect(await t.find('s1')).toBeNull()
    t.stored.set('k1', { user: user('usr_1', 'Renamed'), expiresAt: null })
    t.cache.forgetUser('usr_1') // a profile change
    expect((await t.find('k1'))?.user.name).toBe('Renamed')
    await t.find('s2') // another user's stays remembered
    expect(t.reads()).toBe(3 + 2)
  })

  it('does not keep a read that was under way when this process changed something', async () => {
    let release!: () => void
    const cache = new CredentialCache(1_000, 10_000, () => 0)
    const old = { user: user('usr_1'), expiresAt: null }
    // the read starts (and sees the credential), then the key is deleted here, then the read ends
    const slow = cache.find('k1', () => new Promise<Credential>((r) => (release = () => r(old))))
    cache.forgetUser('usr_1')
    release()
    expect(await slow).toBe(old) // that request was already on its way
    let reads = 0
    const next = await cache.find('k1', async () => {
      reads++
      return null
    })
    expect([next, reads]).toEqual([null, 1]) // the next one is not answered from the stale read
  })

  it('keeps at most `max` credentials, forgetting the oldest first', async () => {
    const t = setup(1_000, 2)
    for (const k of ['a', 'b', 'c']) t.stored.set(k, { user: user(`usr_${k}`), expiresAt: null })
    for (const k of ['a', 'b', 'c']) await t.find(k)
    await t.find('c')
    await t.find('b')
    expect(t.reads()).toBe(3)
    await t.find('a')
    expect(t.reads()).toBe(4)
  })
})
