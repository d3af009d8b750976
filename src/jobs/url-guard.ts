/**
 * Webhook URLs must be http(s), and — unless TRANCHE_WEBHOOK_ALLOW_PRIVATE is set — must not resolve to loopback,
 * private, link-local or otherwise internal addresses. Checked at registration and again at every delivery.
 */
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'

export function isPrivateAddress(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number]
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127) ||
      a >= 224
    )
  }
  const v = ip.toLowerCase()
  if (v.startsWith('::ffff:')) return isPrivateAddress(v.slice(7))
  return v === '::' || v === '::1' || v.startsWith('fc') || v.startsWith('fd') || v.startsWith('fe80')
}

/** Returns a reason the URL is refused, or null when it may be used. */
export async function refuseUrl(url: string, allowPrivate: boolean): Promise<string | null> {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return 'is not a URL'
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must use http or https'
  if (u.username || u.password) return 'must not carry credentials'
  if (allowPrivate) return null
  const host = u.hostname.replace(/^\[|\]$/g, '')
  try {
    const addrs = isIP(host) ? [{ address: host }] : await lookup(host, { all: true })
    if (addrs.some((a) => isPrivateAddress(a.address))) return 'points to a private or loopback address'
  } catch {
    return 'does not resolve'
  }
  return null
}
