/**
 * The web app (web/dist, built by `npm run web:build`) served by the API server at `/`, with the single-page-app
 * fallback: a GET that is not an API path, a file or a server route answers index.html, so deep links
 * (/contracts/ctr_…) survive a reload. Also, behind options: `GET /v1/demo` (the demo accounts, only when this
 * process seeded them) and the `Tranche-Now` header (the API clock, so countdowns follow a manual test clock).
 */
import { existsSync, statSync } from 'node:fs'
import { join, normalize, relative, resolve, sep } from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { demoAccounts } from '../app/demo.ts'
import { DomainError } from '../domain/errors.ts'
import { errorBody } from './errors.ts'

export interface WebOptions {
  /** Register `GET /v1/demo` (no auth); it answers 404 unless this process ran seedDemo. Default true. */
  readonly demo?: boolean
  /** The API's clock; when given, every answer carries `Tranche-Now: <ISO time>`. */
  readonly now?: () => number
}

/** Paths that are never the web app: the API and the server's own pages. */
const SERVER_PATH = /^\/(v1|docs|openapi\.json|healthz|readyz|metrics)(\/|$|\?)/

const notFound = (url: string, method = 'GET') =>
  errorBody(new DomainError('resource_missing', `Unrecognized request URL: ${method} ${url.split('?')[0]}.`))

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tranche</title></head>
<body style="font-family:system-ui;max-width:40rem;margin:4rem auto;padding:0 1rem">
<h1>Tranche</h1><p>The API is running, but the web app is not built yet.</p>
<p>Run <code>npm run web:build</code> and reload this page. The API reference is at <a href="/docs">/docs</a>.</p>
</body></html>`

export async function registerWeb(server: FastifyInstance, webRoot: string, opts: WebOptions = {}): Promise<void> {
  const now = opts.now
  if (now) {
    server.addHook('onSend', async (_request, reply, payload) => {
      reply.header('tranche-now', new Date(now()).toISOString())
      return payload
    })
  }

  if (opts.demo !== false) {
    server.get('/v1/demo', { schema: { hide: true } }, async (request, reply) => {
      const accounts = demoAccounts()
      if (!accounts) return reply.status(404).send(notFound(request.url))
      return { object: 'demo', accounts }
    })
  }

  const root = resolve(webRoot)
  const index = join(root, 'index.html')
  if (!existsSync(index)) server.log.warn({ webRoot: root }, 'web app not built: run `npm run web:build`')

  await server.register(fastifyStatic, {
    root,
    // No routes of its own (only reply.sendFile): the route below serves files, and the app for everything else,
    // and looks files up at request time, so a rebuilt web/dist is served without a restart.
    serve: false,
    index: false,
    cacheControl: false,
    // Since @fastify/static 10 this gets the Fastify reply (not the raw response), and what it sets wins over the
    // headers of `send`.
    setHeaders(reply, path) {
      // Vite fingerprints everything under assets/; index.html must be revalidated to pick up a new build.
      reply.header('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache')
    },
  })

  const app = async (request: FastifyRequest, reply: FastifyReply) => {
    let path: string
    try {
      path = decodeURIComponent(request.url.split('?')[0] ?? '/')
    } catch {
      return reply.status(404).send(notFound(request.url))
    }
    if (SERVER_PATH.test(path)) return reply.status(404).send(notFound(request.url))
    const file = normalize(join(root, path))
    if (file.startsWith(root + sep) && path !== '/' && existsSync(file) && statSync(file).isFile()) {
      return reply.sendFile(relative(root, file))
    }
    // A missing file (anything with an extension) gets the API's 404, never the app's HTML.
    if (/\.[A-Za-z0-9]+$/.test(path)) return reply.status(404).send(notFound(request.url))
    if (!existsSync(index)) return reply.type('text/html').send(NOT_BUILT)
    return reply.sendFile('index.html')
  }
  server.get('/', { schema: { hide: true } }, app)
  server.get('/*', { schema: { hide: true } }, app)
}
