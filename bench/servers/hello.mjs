/** Baseline B: a bare Fastify server with one "hello" route, no database, no logging. */
import Fastify from 'fastify'

const server = Fastify({ logger: false })
server.get('/hello', async () => ({ hello: 'world' }))
server.get('/readyz', async () => ({ status: 'ready' }))
await server.listen({ port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1' })
const stop = async () => {
  await server.close()
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())
