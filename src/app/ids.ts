/**
 * Prefixed ids (SPEC §10): `ms_` + 20 base-62 characters — 8 for the time of creation (milliseconds since the
 * epoch, in order) and 12 random ones (71 bits). Ids made later sort after earlier ones, so every index keyed by an
 * id (events, journal entries, audit records, the object index) grows at its right edge, where its pages are in the
 * cache, instead of at a random page of an ever larger tree.
 */
import { randomBytes, randomFillSync } from 'node:crypto'

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** Random bytes drawn from a pool refilled 4 KiB at a time: one call into the CSPRNG for hundreds of ids. */
const pool = Buffer.alloc(4096)
let used = pool.length

const TIME_CHARS = 8 // 62^8 ms: until the year 8900

/** `length` < 20: all random (short ids that no index is keyed by). */
export function newId(prefix: string, length = 20, now = Date.now()): string {
  const timeChars = length >= 20 ? TIME_CHARS : 0
  const random = length - timeChars
  if (used + random > pool.length) {
    randomFillSync(pool)
    used = 0
  }
  let time = ''
  for (let t = Math.floor(now), i = 0; i < timeChars; i++, t = Math.floor(t / 62)) time = ALPHABET[t % 62] + time
  let out = `${prefix}_${time}`
  for (let i = 0; i < random; i++) out += ALPHABET[pool[used + i]! % 62]
  used += random
  return out
}

/** A secret token: 32 random bytes, URL-safe. */
export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`
}
