/**
 * Authentication, written once: `Authorization: Bearer <token>` (session token or API key) or the web app's
 * HttpOnly cookie, which needs the CSRF header on writes (double submit). Runs before validation, so a request
 * without credentials gets 401 whatever its body.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { authenticate, type UserRow } from '../app/accounts.ts'
import type { App } from '../app/app.ts'
import { DomainError } from '../domain/errors.ts'
import type { Actor } from '../domain/types.ts'
import { num } from '../store/schema.ts'

export const SESSION_COOKIE = 'tranche_session'
export const CSRF_COOKIE = 'tranche_csrf'

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

export function registerAuth(server: FastifyInstance, app: App) {
  server.decorateRequest('user', null)
  server.decorateRequest('token', null)
  server.addHook('onRequest', async (request) => {
    const level: AuthLevel = request.routeOptions.config?.auth ?? 'none'
    const header = request.headers.authorization
    let token: string | null = null
    let viaCookie = false
    if (header?.startsWith('Bearer ')) token = header.slice(7).trim()
    else {
      const cookies = parseCookies(request.headers.cookie)
      if (cookies[SESSION_COOKIE]) {
        token = cookies[SESSION_COOKIE]
        viaCookie = true
        const writes = !['GET', 'HEAD', 'OPTIONS'].includes(request.method)
        const csrf = request.headers['x-csrf-token']
        if (
          writes &&
          level !== 'none' &&
          (typeof csrf !== 'string' || !cookies[CSRF_COOKIE] || !same(csrf, cookies[CSRF_COOKIE]))
        ) {
          throw new DomainError('csrf_invalid', 'Cookie-authenticated writes need the X-CSRF-Token header.')
        }
      }
    }
    const user = token ? await authenticate(app, token) : null
    request.user = user
    request.token = user ? token : null
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
}

/** The actor a request speaks for. */
export function actorOf(request: FastifyRequest): Actor & { kind: 'user' | 'admin'; id: string } {
  const u = request.user
  if (!u) throw new DomainError('authentication_required', 'Authenticate with Authorization: Bearer <token>.')
  return { kind: num(u.is_admin) === 1 ? 'admin' : 'user', id: u.id }
}
