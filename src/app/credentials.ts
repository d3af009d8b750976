/**
 * Who is behind a session token or an API key, remembered for a moment. Every request starts by finding out who
 * sent it, and a client sends many requests with the same credential; reading it once a second instead of once a
 * request saves a statement (and a trip through the store) on nearly every request.
 *
 * What this server changes itself — a logout, a deleted API key, a profile — it forgets at once, and a read that was
 * already under way when it forgot is not kept (the generation below). What another process changes (a second
 * server on PostgreSQL, the CLI) is seen within `ttlMs`. A credential that matches nothing is never remembered, so
 * guessing cannot fill the memory, and a session's expiry is checked on every use.
 */
import type { UserRow } from './accounts.ts'

export interface Credential {
  readonly user: UserRow
  /** when a session ends (ms); null for an API key */
  readonly expiresAt: number | null
}

export class CredentialCache {
  private readonly entries = new Map<string, { readonly credential: Credential; readonly readAt: number }>()
  /** moves on every change this process makes, so that a read begun before it is not kept */
  private generation = 0

  constructor(
    private readonly ttlMs = 1_000,
    private readonly max = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The credential under `key` (a hash of the secret), read with `read` unless it was read less than ttlMs ago. */
  async find(key: string, read: () => Promise<Credential | null>): Promise<Credential | null> {
    const readAt = this.now()
    const hit = this.entries.get(key)
    if (hit && readAt - hit.readAt < this.ttlMs) return hit.credential
    const generation = this.generation
    const credential = await read()
    this.entries.delete(key)
    if (credential && generation === this.generation) {
      this.entries.set(key, { credential, readAt })
      if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!)
    }
    return credential
  }

  /** After a change to what `key` names (a logout). */
  forget(key: string) {
    this.generation++
    this.entries.delete(key)
  }

  /** After a change to a user or to one of their credentials (a profile, a deleted API key). */
  forgetUser(userId: string) {
    this.generation++
    for (const [key, e] of this.entries) if (e.credential.user.id === userId) this.entries.delete(key)
  }
}
