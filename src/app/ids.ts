/** Prefixed random ids (SPEC §10): `ms_` + 20 base-62 characters. */
import { randomBytes, randomFillSync } from 'node:crypto'

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** Random bytes drawn from a pool refilled 4 KiB at a time: one call into the CSPRNG for hundreds of ids. */
const pool = Buffer.alloc(4096)
let used = pool.length

export function newId(prefix: string, length = 20): string {
  if (used + length > pool.length) {
    randomFillSync(pool)
    used = 0
  }
  let out = `${prefix}_`
  for (let i = 0; i < length; i++) out += ALPHABET[pool[used + i]! % 62]
  used += length
  return out
}

/** A secret token: 32 random bytes, URL-safe. */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`
}
