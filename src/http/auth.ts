/**
 * Authentication, written once: `Authorization: Bearer <token>` (session token or API key) or the web app's
 * HttpOnly cookie (`__Host-` names over https: `cookieNames`), which needs the CSRF header on writes: the header
 * must equal the CSRF cookie (double submit) and the token bound to the session (`csrfTokenFor`), so a token planted
 * from another session is refused.
 * Runs before validation, so a request without credentials gets 401 whatever its body.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { authenticate, type UserRow } from '../app/accounts.ts'
import type { App } from '../app/app.ts'
import { DomainError } from '../domain/errors.ts'
import type { Actor } from '../domain/types.ts'
import { num } from '../store/schema.ts'

export const SESSION_COOKIE = 'tranche_session'
export const CSRF_COOKIE = 'tranche_csrf'
/** The prefix that only the host itself may set, over TLS (RFC 6265bis): no sibling subdomain can plant such a cookie. */
const HOST_PREFIX = '__Host-'

/**
 * The cookie names of a request: over https `__Host-tranche_session` and `__Host-tranche_csrf`, which a browser takes
 * only from this host, Secure, with `Path=/` and no `Domain` — so a site on a sibling subdomain cannot log a browser
 * into another account (login CSRF) — and only those are read; over plain http, where `__Host-` cookies cannot
 * exist, the plain names.
 */
export function cookieNames(request: FastifyRequest): { session: string; csrf: string; secure: string } {
  return request.protocol === 'https'
    ? { session: HOST_PREFIX + SESSION_COOKIE, csrf: HOST_PREFIX + CSRF_COOKIE, secure: '; Secure' }
    : { session: SESSION_COOKIE, csrf: CSRF_COOKIE, secure: '' }
}

export type AuthLevel = 'none' | 'user' | 'admin'

declare module 'fastify' {
  interface FastifyRequest {
    user: UserRow | null
    token: string | null
  }
  interface FastifyContextConfig {
    auth?: AuthLevel
  }
}

/** Cookies by name; a value that is not valid percent-encoding is kept as sent (it then matches nothing). */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null)
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=')
    if (i <= 0) continue
    const value = part.slice(i + 1).trim()
    try {
      out[part.slice(0, i).trim()] = decodeURIComponent(value)
    } catch {
      out[part.slice(0, i).trim()] = value
    }
  }
  return out
}

/** Constant-time equality of two strings of any length or alphabet (digests have equal byte lengths). */
const digest = (s: string) => createHash('sha256').update(s).digest()
const same = (a: string, b: string) => timingSafeEqual(digest(a), digest(b))

/**
 * The CSRF token of a session: an HMAC keyed by the session token itself, so it needs no server secret or stored
 * state (every server of a cluster computes the same one), differs for every session, and does not reveal the
 * session token, which only the HttpOnly cookie carries.
 */
export function csrfTokenFor(sessionToken: string): string {
  return `csrf_${createHmac('sha256', sessionToken).update('tranche csrf token v1').digest('base64url')}`
}

const CSRF_ATTRIBUTES = 'Path=/; SameSite=Lax; Max-Age=2592000'

/** The session a response starts: the value of a non-empty session cookie it sets; '' when it ends one. */
function sessionSetBy(request: FastifyRequest, reply: FastifyReply): string | null {
  const name = cookieNames(request).session
  const header = reply.getHeader('set-cookie')
  for (const cookie of Array.isArray(header) ? header : typeof header === 'string' ? [header] : []) {
    if (cookie.startsWith(`${name}=`))
      return cookie
        .slice(name.length + 1)
        .split(';')[0]!
        .trim()
  }
  return null
}

/** Sets the CSRF cookie to `value`, replacing one the route may have set. */
function setCsrfCookie(request: FastifyRequest, reply: FastifyReply, value: string) {
  const { csrf, secure } = cookieNames(request)
  const header = reply.getHeader('set-cookie')
  const others = (Array.isArray(header) ? header : typeof header === 'string' ? [header] : []).filter(
    (c) => !c.startsWith(`${csrf}=`),
  )
  reply.removeHeader('set-cookie')
  reply.header('set-cookie', [...others, `${csrf}=${value}; ${CSRF_ATTRIBUTES}${secure}`])
}

export function registerAuth(server: FastifyInstance, app: App) {
  server.decorateRequest('user', null)
  server.decorateRequest('token', null)
  // Cookie sessions whose CSRF cookie is missing or not the one bound to them (a session started before tokens
  // were bound, or a planted cookie) get the right one with the answer, so the web app's next write carries it.
  const reissue = new WeakMap<FastifyRequest, string>()
  server.addHook('onRequest', async (request) => {
    const level: AuthLevel = request.routeOptions.config?.auth ?? 'none'
    const header = request.headers.authorization
    let token: string | null = null
    let bound: string | null = null
    let csrfCookie: string | undefined
    if (header?.startsWith('Bearer ')) token = header.slice(7).trim()
    else {
      const cookies = parseCookies(request.headers.cookie)
      const names = cookieNames(request)
      if (cookies[names.session]) {
        token = cookies[names.session]!
        bound = csrfTokenFor(token)
        csrfCookie = cookies[names.csrf]
        const writes = !['GET', 'HEAD', 'OPTIONS'].includes(request.method)
        const csrf = request.headers['x-csrf-token']
        if (
          writes &&
          level !== 'none' &&
          (typeof csrf !== 'string' || !csrfCookie || !same(csrf, csrfCookie) || !same(csrf, bound))
        ) {
          throw new DomainError('csrf_invalid', 'Cookie-authenticated writes need the X-CSRF-Token header.')
        }
      }
    }
    const viaCookie = bound !== null
    const user = token ? await authenticate(app, token) : null
    request.user = user
    request.token = user ? token : null
    if (user && bound !== null && csrfCookie !== bound) reissue.set(request, bound)
    if (level === 'none') return
    if (!user) {
      throw new DomainError(
        token ? 'authentication_required' : 'authentication_required',
        token
          ? viaCookie
            ? 'Your session has ended; log in again.'
            : 'The token is not valid.'
          : 'Authenticate with Authorization: Bearer <token>.',
      )
    }
    if (level === 'admin' && num(user.is_admin) !== 1)
      throw new DomainError('admin_only', 'Only the platform admin may call this.')
  })
  // A response that starts a cookie session (login) carries the CSRF token bound to that session; one that ends it
  // (logout) is left alone.
  server.addHook('onSend', (request, reply, payload, done) => {
    const started = sessionSetBy(request, reply)
    const csrf = started === null ? reissue.get(request) : started ? csrfTokenFor(started) : undefined
    if (csrf) setCsrfCookie(request, reply, csrf)
    done(null, payload)
  })
}

/** The actor a request speaks for. */
export function actorOf(request: FastifyRequest): Actor & { kind: 'user' | 'admin'; id: string } {
  const u = request.user
  if (!u) throw new DomainError('authentication_required', 'Authenticate with Authorization: Bearer <token>.')
  return { kind: num(u.is_admin) === 1 ? 'admin' : 'user', id: u.id }
}
