/**
 * Runs the real server (the same runtime, routes and worker as `tranche serve`) with the web app registered, for
 * as long as src/http/server.ts does not register it itself. Usage: `tsx test/e2e/support/serve-web.ts [--demo]`,
 * configured by the usual environment (PORT, TRANCHE_DB, TRANCHE_CLOCK …).
 */
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../../src/app/config.ts'
import { seedDemo } from '../../../src/app/demo.ts'
import { buildServer } from '../../../src/http/server.ts'
import { registerWeb } from '../../../src/http/web.ts'
import { createRuntime, makeLogger, REDACT } from '../../../src/main.ts'

const webRoot = fileURLToPath(new URL('../../../web/dist', import.meta.url))
const config = loadConfig()
const log = makeLogger(config)
const rt = await createRuntime(config, { log })
const server = await buildServer(rt.app, {
  logger: { level: config.logLevel, redact: { paths: REDACT, censor: '[redacted]' } },
  worker: rt.worker,
  webRoot,
})
// Once server.ts wires registerWeb itself, GET /* exists already and this launcher adds nothing.
if (!server.hasRoute({ method: 'GET', url: '/*' }))
  await registerWeb(server, webRoot, { now: () => rt.app.clock.now() })
if (config.worker === 'inline') rt.worker.start()
await server.listen({ port: config.port, host: config.host })
if (process.argv.includes('--demo')) await seedDemo(rt.app)
log.info(`Tranche (with web app) listening on http://localhost:${config.port}`)
const stop = async () => {
  await server.close()
  await rt.close()
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())
