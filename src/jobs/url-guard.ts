/**
 * Webhook URLs must be http(s), and — unless TRANCHE_WEBHOOK_ALLOW_PRIVATE is set — must not resolve to loopback,
 * private, link-local or otherwise internal addresses. Checked at registration and again at every delivery, where
 * the connection goes to exactly the addresses that were checked (`checkedLookup`).
 */
import { lookup } from 'node:dns/promises'
import type { LookupFunction } from 'node:net'
import { BlockList, isIP } from 'node:net'

/** All addresses of a host name (the system resolver; tests give their own). */
export type ResolveHost = (host: string) => Promise<readonly { address: string; family: number }[]>
export const systemResolve: ResolveHost = (host) => lookup(host, { all: true, verbatim: true })

/**
 * Addresses a webhook must never reach (unless TRANCHE_WEBHOOK_ALLOW_PRIVATE): IANA special-purpose ranges. Node's
 * BlockList matches IPv4-mapped IPv6 (::ffff:127.0.0.1) against the IPv4 rules (so ::ffff:0:0/96 must not be listed:
 * it would match every IPv4 address); IPv6 forms that embed an IPv4 address (IPv4-compatible, IPv4-translated,
 * NAT64, 6to4, Teredo) are refused whole.
 */
const INTERNAL = (() => {
  const b = new BlockList()
  for (const [net, bits] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.88.99.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ] as const)
    b.addSubnet(net, bits, 'ipv4')
  for (const [net, bits] of [
    ['::', 96], // unspecified, loopback and IPv4-compatible
    ['::ffff:0:0:0', 96], // IPv4-translated
    ['64:ff9b::', 96], // NAT64
    ['64:ff9b:1::', 48],
    ['100::', 64], // discard
    ['2001::', 32], // Teredo
    ['2001:db8::', 32], // documentation
    ['2002::', 16], // 6to4
    ['fc00::', 7], // unique local
    ['fe80::', 10], // link-local
    ['fec0::', 10], // site-local (deprecated)
    ['ff00::', 8], // multicast
  ] as const)
    b.addSubnet(net, bits, 'ipv6')
  return b
})()

export function isInternalAddress(ip: string): boolean {
  const v = isIP(ip)
  if (v === 0) return true
  return INTERNAL.check(ip, v === 4 ? 'ipv4' : 'ipv6')
}

/** Returns a reason the URL is refused, or null when it may be used. */
export async function refuseUrl(
  url: string,
  allowPrivate: boolean,
  resolve: ResolveHost = systemResolve,
): Promise<string | null> {
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
    const addrs = isIP(host) ? [{ address: host }] : await resolve(host)
    if (addrs.length === 0 || addrs.some((a) => isInternalAddress(a.address)))
      return 'points to a private or loopback address'
  } catch {
    return 'does not resolve'
  }
  return null
}

/**
 * The `lookup` of a webhook delivery's connection: resolves the host once, refuses the connection when any of its
 * addresses is internal, and hands the connection exactly the addresses it checked. A name that answers a public
 * address to the check before sending and a private one when the connection is made (DNS rebinding) therefore
 * cannot reach inside. (An IP literal is not looked up; `refuseUrl` has checked it.)
 */
export function checkedLookup(resolve: ResolveHost = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (all) => {
        const fit = options.family ? all.filter((a) => a.family === options.family) : all
        const inside = all.find((a) => isInternalAddress(a.address))
        const error = inside
          ? Object.assign(new Error(`${hostname} points to a private or loopback address (${inside.address})`), {
              code: 'EADDRINTERNAL',
            })
          : fit.length === 0
            ? Object.assign(new Error(`${hostname} does not resolve`), { code: 'ENOTFOUND' })
            : null
        if (error) callback(error, '', 0)
        else if (options.all) (callback as (e: null, a: typeof fit) => void)(null, fit)
        else callback(null, fit[0]!.address, fit[0]!.family)
      },
      (e: NodeJS.ErrnoException) => callback(e, '', 0),
    )
  }
}
