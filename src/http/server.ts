/**
 * The HTTP shell: Fastify + TypeBox. Handlers are thin — parse, call one use case, shape the answer; auth,
 * idempotency and error mapping are written once (auth.ts, idempotency.ts, errors.ts).
 */

import type { Socket } from 'node:net'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyInstance } from 'fastify'
import type { App } from '../app/app.ts'
import { ManualClock } from '../app/clock.ts'
import { DomainError } from '../domain/errors.ts'
import type { Worker } from '../jobs/worker.ts'
import { registerAuth } from './auth.ts'
import { outranking } from './check-order.ts'
import { errorBody, sendError } from './errors.ts'
import { openapiInfo } from './openapi-info.ts'
import { documentedAnswers, documentSchemas } from './response-schemas.ts'
import { adminRoutes } from './routes/admin.ts'
import { contractRoutes } from './routes/contracts.ts'
import { eventRoutes } from './routes/events.ts'
import { moneyRoutes } from './routes/money.ts'
import { offerRoutes } from './routes/offers.ts'
import { serviceRoutes } from './routes/service.ts'
import { trustRoutes } from './routes/trust.ts'
import { userRoutes } from './routes/users.ts'
import { frameworkErrors, registerSecurity } from './security.ts'
import { registerWeb } from './web.ts'

export interface ServerOptions {
  readonly logger?: boolean | object
  readonly worker: Worker | null
  readonly webRoot?: string | null
}

/**
 * What Node's HTTP parser refuses before Fastify sees a request (no leading slash, raw bytes in the path, an unknown
 * method, conflicting lengths, headers over 16 KB) is answered in the API's error shape too, and the connection
 * closed: after a malformed request the stream cannot be trusted.
 */
function clientErrorHandler(error: Error & { code?: string }, socket: Socket) {
  if (socket.destroyed || !socket.writable) return
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW'
  const body = JSON.stringify(
    errorBody(
      new DomainError(
        'parameter_invalid',
        tooLarge ? 'The request headers are larger than 16 KB.' : 'The request is not valid HTTP.',
      ),
    ),
  )
  socket.end(
    `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\n\r\n${body}`,
  )
}

export async function buildServer(app: App, opts: ServerOptions): Promise<FastifyInstance> {
  const server = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: 1024 * 1024,
    // Behind a proxy, trust exactly one hop: the address it appended to X-Forwarded-For, not what the client sent.
    trustProxy: app.config.trustProxy ? (_address: string, hop: number) => hop < 1 : false,
    genReqId: () => `req_${Math.random().toString(36).slice(2, 12)}`,
    frameworkErrors,
    clientErrorHandler,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>()

  // First: helmet headers, text checks and the route table must see every route registered after it.
  await registerSecurity(server)
  await server.register(swagger, {
    openapi: openapiInfo(),
    // answers are documented beside the routes (response-schemas.ts), not validated or serialized by Fastify
    transform: ({ schema, url, route }) => {
      const method = Array.isArray(route.method) ? route.method[0] : route.method
      const response = documentedAnswers(String(method), route.url ?? url)
      return { schema: response ? { ...schema, response } : schema, url }
    },
    transformObject: (doc) => {
      const openapi = 'openapiObject' in doc ? doc.openapiObject : {}
      const schemas = { ...openapi.components?.schemas, ...(documentSchemas() as object) }
      return { ...openapi, components: { ...openapi.components, schemas } } as typeof openapi
    },
  })
  await server.register(swaggerUi, { routePrefix: '/docs' })

  server.setErrorHandler(async (error, request, reply) => {
    const first = (error as { validation?: unknown }).validation ? await outranking(app, request) : null
    return sendError(reply, request, first ?? (error as Error))
  })
  server.setNotFoundHandler((request, reply) => {
    reply
      .status(404)
      .send(
        errorBody(
          new DomainError(
            'resource_missing',
            `Unrecognized request URL: ${request.method} ${request.url.split('?')[0]}.`,
          ),
        ),
      )
  })
  // Closing (SIGTERM): the server stops listening and closes the connections idle at that moment; a keep-alive
  // connection whose request is in flight would stay open once answered, until its keep-alive timeout (72 s),
  // holding up the shutdown past any supervisor's grace period. Each is closed as soon as it is idle.
  server.addHook('preClose', (done) => {
    const sweep = setInterval(() => server.server.closeIdleConnections(), 50)
    server.server.once('close', () => clearInterval(sweep))
    done()
  })
  // A POST without a body is an empty object, so that `{}`-shaped commands need no body at all.
  server.addHook('preValidation', async (request) => {
    if (request.body === undefined || request.body === null) request.body = {}
  })
  // The manual test clock lives in the database: every request reads it first, so a clock advanced through one
  // server is the time of every server on the database (one indexed read; only with TRANCHE_CLOCK=manual).
  const clock = app.clock
  if (clock instanceof ManualClock) server.addHook('onRequest', async () => void (await clock.refresh()))
  registerAuth(server, app)

  serviceRoutes(server, app, opts.worker)
  userRoutes(server, app)
  offerRoutes(server, app)
  contractRoutes(server, app)
  moneyRoutes(server, app)
  eventRoutes(server, app)
  trustRoutes(server, app)
  adminRoutes(server, app, opts.worker)
  server.get('/openapi.json', { schema: { hide: true } }, async () => server.swagger())
  if (opts.webRoot) await registerWeb(server, opts.webRoot, { now: () => app.clock.now() })
  return server
}
