import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import helmet, { type HelmetOptions } from 'helmet'
import { DomainError } from '../domain/errors.ts'
import { errorBody } from './errors.ts'

/** The web app is a same-origin React build: scripts, styles, fonts and API calls all come from this origin. */
export const APP_CSP = {
  'default-src': ["'self'"],
  'base-uri': ["'self'"],
  'connect-src': ["'self'"],
  'font-src': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'img-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'"],
  // No upgrade-insecure-requests: a server reached over plain http (a LAN address) must keep working.
  'upgrade-insecure-requests': null,
}

/** Swagger UI (/docs) styles its widgets inline and draws icons as data: images; still no foreign origin. */
export const DOCS_CSP = {
  ...APP_CSP,
  'font-src': ["'self'", 'data:'],
  'style-src': ["'self'", "'unsafe-inline'"],
}

const HELMET: HelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: APP_CSP },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  crossOriginEmbedderPolicy: false,
}

/**
 * The headers helmet sets for `options`, computed once: they depend on nothing in the request, and building them
 * (parsing the CSP directives) on every request, as helmet's middleware does, was a visible part of a cheap
 * request's time.
 */
export function helmetHeaders(options: HelmetOptions): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {}
  const res = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = String(value)
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()]
    },
  }
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error
  })
  return Object.freeze(headers)
}

export interface RouteEntry {
  readonly method: string
  readonly url: string
  readonly auth: string
}

const tables = new WeakMap<object, RouteEntry[]>()

/** Every route registered on `server` after registerSecurity (HEAD twins left out), in registration order. */
export function routesOf(server: FastifyInstance): RouteEntry[] {
  return [...(tables.get(server) ?? [])]
}

/** Registers the hooks; call it first in buildServer, before any route or other plugin. */
export async function registerSecurity(server: FastifyInstance): Promise<void> {
  const table: RouteEntry[] = []
  tables.set(server, table)
  const appHeaders = helmetHeaders(HELMET)
  const docsHeaders = helmetHeaders({ ...HELMET, contentSecurityPolicy: { useDefaults: false, directives: DOCS_CSP } })
  server.addHook('onRoute', (route) => {
    const url = route.url ?? route.path
    if (url.startsWith('/docs'))
      route.config = { ...(route.config ?? {}), docs: true } as NonNullable<typeof route.config>
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue
      const auth = (route.config as { auth?: string } | undefined)?.auth ?? 'none'
      table.push({ method, url, auth })
    }
  })

  // every answer, 404s and errors included
  server.addHook('onRequest', (request, reply, done) => {
    reply.headers((request.routeOptions.config as { docs?: boolean }).docs ? docsHeaders : appHeaders)
    done()
  })

  server.addHook('onSend', async (request, reply, payload) => {
    if (request.url.startsWith('/v1/') && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
    return payload
  })

  server.addHook('preValidation', async (request) => {
    for (const [part, value] of [
      ['', request.body],
      ['query ', request.query],
      ['path ', request.params],
    ] as const) {
      const bad = illFormedText(value)
      if (bad !== null) {
        const error = new DomainError(
          'parameter_invalid',
          `Invalid ${part}parameter ${bad || 'body'}: text must be valid Unicode without NUL characters.`,
          bad || undefined,
        )
        // Marked as a validation failure, so that a 404 or 403 still outranks it (SPEC §5, check-order.ts).
        throw Object.assign(error, { validation: [] })
      }
    }
  })
}

// A lone (unpaired) UTF-16 surrogate or U+0000: neither survives a round trip through PostgreSQL's or SQLite's text.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what this looks for
const ILL_FORMED = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/**
 * The path (`milestones[0].title`, '' for the value itself) of the first string or key in `value` that is not
 * well-formed text, or null. Iterative, so a deeply nested body cannot overflow the stack.
 */
export function illFormedText(value: unknown): string | null {
  const stack: [unknown, string][] = [[value, '']]
  while (stack.length) {
    const [v, path] = stack.pop()!
    if (typeof v === 'string') {
      if (ILL_FORMED.test(v)) return path
    } else if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) stack.push([x, `${path}[${i}]`])
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        const p = path ? `${path}.${k}` : k
        if (ILL_FORMED.test(k)) return p
        stack.push([x, p])
      }
    }
  }
  return null
}

/**
 * Errors the router raises before any hook runs (Fastify's `frameworkErrors`): a URL that is not valid
 * percent-encoding, or a path parameter longer than the router takes. They get the API's error shape too; an id too
 * long to route is an id that does not exist.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const path = request.url.split('?')[0] ?? ''
  const err =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new DomainError('resource_missing', `No such object: the id in ${path.slice(0, 100)}… is too long.`)
      : new DomainError('parameter_invalid', 'The request URL is not valid percent-encoded UTF-8.')
  reply
    .status(err.status)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(errorBody(err)))
}
