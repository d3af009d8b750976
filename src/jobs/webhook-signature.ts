/** `Tranche-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (SPEC §9). */
import { createHmac, timingSafeEqual } from 'node:crypto'

export function sign(secret: string, body: string, unixSeconds: number, ...alsoSecrets: string[]): string {
  const mac = (s: string) => createHmac('sha256', s).update(`${unixSeconds}.${body}`).digest('hex')
  // while a rolled secret is still valid, one v1 per secret: a receiver accepts the header if any of them matches
  return [`t=${unixSeconds}`, ...[secret, ...alsoSecrets].map((s) => `v1=${mac(s)}`)].join(',')
}

/** What a receiver does: recompute the HMAC over the raw body and compare in constant time; refuse old stamps. */
export function verifySignature(
  secret: string,
  body: string,
  header: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const parts = header.split(',').map((p) => p.trim())
  const t = Number(parts.find((p) => p.startsWith('t='))?.slice(2))
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'))
  return parts
    .filter((p) => p.startsWith('v1='))
    .some((p) => {
      const got = Buffer.from(p.slice(3))
      return got.length === expected.length && timingSafeEqual(got, expected)
    })
}

/** Retry schedule after the n-th failed attempt (n ≥ 1): 1 min, 5 min, 30 min, 2 h, 5 h, then every 10 h. */
export function backoffMs(failedAttempts: number): number {
  const minutes = [1, 5, 30, 120, 300][failedAttempts - 1] ?? 600
  return minutes * 60_000
}

/** Deliveries are retried for up to 3 days after the event. */
export const GIVE_UP_AFTER_MS = 3 * 86_400_000
