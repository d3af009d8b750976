/** Events and webhook endpoints (SPEC §9). */
import { Type } from 'typebox'
import type { App } from '../../app/app.ts'
import {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listDeliveries,
  listEndpoints,
  retryDelivery,
  rollSecret,
  updateEndpoint,
} from '../../app/webhooks.ts'
import { fail } from '../../domain/errors.ts'
import { EVENT_GROUPS, EVENT_TYPES } from '../../domain/types.ts'
import { getEvent, listEvents } from '../../store/repos/event-repo.ts'
import { idempotent } from '../idempotency.ts'
import { list, page, type Server } from '../route-kit.ts'
import { EventListQuery, Id, ListQuery, Strict } from '../schemas.ts'

const auth = { auth: 'user' as const }
const EnabledEvents = Type.Array(
  Type.Unsafe<string>({ type: 'string', enum: ['*', ...EVENT_GROUPS, ...EVENT_TYPES] }),
  {
    minItems: 1,
    maxItems: 100,
    description: '`*`, whole groups (`milestone.*`) or single event types',
  },
)
const WebhookUrl = Type.String({ minLength: 8, maxLength: 2000 })

export function eventRoutes(server: Server, app: App) {
  server.get(
    '/v1/events',
    {
      config: auth,
      schema: {
        tags: ['events'],
        summary: 'My events, newest first (type and contract_id filter)',
        querystring: EventListQuery,
      },
    },
    async (req) => {
      const res = await listEvents(app.store.db, req.user!.id, {
        ...page(req.query),
        type: req.query.type ?? null,
        contractId: req.query.contract_id ?? null,
      })
      return list(
        res.data.map((e) => JSON.parse(e.body)),
        res.hasMore,
        '/v1/events',
      )
    },
  )
  server.get(
    '/v1/events/:id',
    {
      config: auth,
      schema: {
        tags: ['events'],
        summary: 'One of my events, exactly as it was sent (to check a webhook delivery against)',
        params: Type.Object({ id: Id('evt') }),
      },
    },
    async (req, reply) => {
      const body = await getEvent(app.store.db, req.user!.id, req.params.id)
      if (body === null) return fail('resource_missing', `No such event: ${req.params.id}.`)
      return reply.type('application/json; charset=utf-8').send(body)
    },
  )
  server.post(
    '/v1/webhook_endpoints',
    {
      config: auth,
      schema: {
        tags: ['webhooks'],
        summary: 'Register a webhook endpoint (the signing secret is shown once)',
        body: Strict({
          url: WebhookUrl,
          enabled_events: EnabledEvents,
        }),
      },
    },
    async (req, reply) => {
      return idempotent(app, req, reply, 201, (idem) =>
        createEndpoint(app, req.user!.id, { url: req.body.url, enabledEvents: req.body.enabled_events }, idem),
      )
    },
  )
  server.get(
    '/v1/webhook_endpoints',
    { config: auth, schema: { tags: ['webhooks'], summary: 'My webhook endpoints', querystring: ListQuery } },
    async (req) => {
      const endpoints = await listEndpoints(app, req.user!.id, page(req.query))
      return list(endpoints.data, endpoints.hasMore, '/v1/webhook_endpoints')
    },
  )
  server.get(
    '/v1/webhook_endpoints/:id',
    {
      config: auth,
      schema: { tags: ['webhooks'], summary: 'One of my endpoints', params: Type.Object({ id: Id('whe') }) },
    },
    async (req) => getEndpoint(app, req.user!.id, req.params.id),
  )
  server.patch(
    '/v1/webhook_endpoints/:id',
    {
      config: auth,
      schema: {
        tags: ['webhooks'],
        summary: 'Change an endpoint: its URL, its events, or disable it (and enable it again)',
        params: Type.Object({ id: Id('whe') }),
        body: Strict({
          url: Type.Optional(WebhookUrl),
          enabled_events: Type.Optional(EnabledEvents),
          enabled: Type.Optional(Type.Boolean()),
        }),
      },
    },
    async (req) =>
      updateEndpoint(app, req.user!.id, req.params.id, {
        ...(req.body.url !== undefined ? { url: req.body.url } : {}),
        ...(req.body.enabled_events !== undefined ? { enabledEvents: req.body.enabled_events } : {}),
        ...(req.body.enabled !== undefined ? { enabled: req.body.enabled } : {}),
      }),
  )
  server.post(
    '/v1/webhook_endpoints/:id/roll_secret',
    {
      config: auth,
      schema: {
        tags: ['webhooks'],
        summary: 'A new signing secret (shown once); the old one keeps signing beside it for a while',
        description:
          'While the old secret is kept (`keep_hours`, default 24, 0 to stop it at once), every delivery carries ' +
          'one `v1` signature per secret, so a receiver that checks any of them keeps working while it switches.',
        params: Type.Object({ id: Id('whe') }),
        body: Strict({ keep_hours: Type.Optional(Type.Integer({ minimum: 0, maximum: 72 })) }),
      },
    },
    async (req, reply) =>
      idempotent(app, req, reply, 200, (idem) =>
        rollSecret(app, req.user!.id, req.params.id, req.body.keep_hours ?? 24, idem),
      ),
  )
  server.delete(
    '/v1/webhook_endpoints/:id',
    {
      config: auth,
      schema: { tags: ['webhooks'], summary: 'Delete an endpoint', params: Type.Object({ id: Id('whe') }) },
    },
    async (req) => deleteEndpoint(app, req.user!.id, req.params.id),
  )
  server.get(
    '/v1/webhook_endpoints/:id/deliveries',
    {
      config: auth,
      schema: {
        tags: ['webhooks'],
        summary: 'The delivery log of an endpoint',
        params: Type.Object({ id: Id('whe') }),
        querystring: ListQuery,
      },
    },
    async (req) => {
      const res = await listDeliveries(app, req.user!.id, req.params.id, page(req.query))
      return list(res.data, res.hasMore, `/v1/webhook_endpoints/${req.params.id}/deliveries`)
    },
  )
  server.post(
    '/v1/webhook_deliveries/:id/retry',
    {
      config: auth,
      schema: {
        tags: ['webhooks'],
        summary: 'Send a delivery again now',
        params: Type.Object({ id: Id('whd') }),
        body: Strict({}),
      },
    },
    async (req, reply) => {
      return idempotent(app, req, reply, 202, (idem) => retryDelivery(app, req.user!.id, req.params.id, idem))
    },
  )
}
