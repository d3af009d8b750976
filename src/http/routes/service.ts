/** Health, readiness and Prometheus metrics. */
import { sql } from 'kysely'
import client from 'prom-client'
import type { App } from '../../app/app.ts'
import type { Worker } from '../../jobs/worker.ts'
import { stuckTimers } from '../../store/repos/timer-repo.ts'
import type { Server } from '../route-kit.ts'

export function serviceRoutes(server: Server, app: App, worker: Worker | null) {
  const registry = new client.Registry()
  client.collectDefaultMetrics({ register: registry })
  const requests = new client.Counter({
    name: 'tranche_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  })
  const duration = new client.Histogram({
    name: 'tranche_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  })
  new client.Gauge({
    name: 'tranche_worker_timers_run_total',
    help: 'Timers run by this process',
    registers: [registry],
    collect() {
      this.set(worker?.stats.timersRun ?? 0)
    },
  })
  new client.Gauge({
    name: 'tranche_webhook_deliveries_failed_attempts_total',
    help: 'Failed webhook delivery attempts by this process',
    registers: [registry],
    collect() {
      this.set(worker?.stats.deliveriesFailed ?? 0)
    },
  })
  new client.Gauge({
    name: 'tranche_timers_stuck',
    help: 'Timers that failed five times or more',
    registers: [registry],
    async collect() {
      this.set((await stuckTimers(app.store.db)).length)
    },
  })
  server.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown'
    requests.inc({ method: req.method, route, status: String(reply.statusCode) })
    duration.observe({ method: req.method, route }, reply.elapsedTime / 1000)
  })

  server.get('/healthz', { schema: { tags: ['service'], summary: 'The process is up' } }, async () => ({
    status: 'ok',
  }))
  server.get('/readyz', { schema: { tags: ['service'], summary: 'The database answers' } }, async (_req, reply) => {
    try {
      await sql`select 1`.execute(app.store.db)
      return { status: 'ready' }
    } catch {
      reply.status(503)
      return { status: 'unavailable' }
    }
  })
  server.get('/metrics', { schema: { tags: ['service'], summary: 'Prometheus metrics' } }, async (_req, reply) => {
    reply.type(registry.contentType)
    return registry.metrics()
  })
}
