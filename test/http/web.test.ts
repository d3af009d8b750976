/**
 * The web app served by the API server (src/http/web.ts): files of the build with their cache policy, the
 * single-page-app fallback, and the API's 404 for missing files, server paths and paths that leave the build.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerWeb } from '../../src/http/web.ts'

const INDEX = '<!doctype html><title>Tranche test build</title>'
const ASSET = 'console.log("fingerprinted")'

let dir: string
let server: FastifyInstance

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tranche-web-'))
  const dist = join(dir, 'dist')
  mkdirSync(join(dist, 'assets'), { recursive: true })
  writeFileSync(join(dist, 'index.html'), INDEX)
  writeFileSync(join(dist, 'assets', 'index-AbC123.js'), ASSET)
  writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  // beside the build, not in it: must never be served
  writeFileSync(join(dir, 'secret.txt'), 'not public')
  server = Fastify()
  await registerWeb(server, dist, { demo: false })
  await server.ready()
})

afterAll(async () => {
  await server?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const get = (url: string) => server.inject({ method: 'GET', url })

describe('web app', () => {
  it('serves fingerprinted assets as immutable for a year', async () => {
    const res = await get('/assets/index-AbC123.js')
    expect(res.statusCode).toBe(200)
    expect(res.body).toBe(ASSET)
    expect(res.headers['content-type']).toMatch(/javascript/)
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable')
  })

  it('serves other files and index.html to be revalidated', async () => {
    const icon = await get('/favicon.svg')
    expect(icon.statusCode).toBe(200)
    expect(icon.headers['content-type']).toMatch(/^image\/svg\+xml/)
    expect(icon.headers['cache-control']).toBe('no-cache')
    const home = await get('/')
    expect(home.statusCode).toBe(200)
    expect(home.body).toBe(INDEX)
    expect(home.headers['content-type']).toMatch(/^text\/html/)
    expect(home.headers['cache-control']).toBe('no-cache')
  })

  it('answers index.html for deep links (single-page-app fallback)', async () => {
    for (const url of ['/contracts/ctr_deep_link', '/offers?tab=open', '/index.html']) {
      const res = await get(url)
      expect(res.statusCode, url).toBe(200)
      expect(res.body, url).toBe(INDEX)
      expect(res.headers['cache-control'], url).toBe('no-cache')
    }
  })

  it("answers the API's 404 for a missing file and for server paths, never the app", async () => {
    for (const url of ['/assets/gone-123.js', '/missing.png', '/v1/nothing', '/docs/nothing', '/metrics/x']) {
      const res = await get(url)
      expect(res.statusCode, url).toBe(404)
      expect(res.headers['content-type'], url).toMatch(/^application\/json/)
      expect(res.json().error.code, url).toBe('resource_missing')
    }
  })

  it('never serves a file outside the build, however the path is spelled', async () => {
    for (const url of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E%2Fsecret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt',
      '/..%5csecret.txt',
      '/%252e%252e/secret.txt',
      '/%E0%A4%A',
    ]) {
      const res = await get(url)
      expect(res.body, url).not.toContain('not public')
      // a malformed escape is refused by the router (400) before web.ts sees it
      expect(res.statusCode, url).toBe(url === '/%E0%A4%A' ? 400 : 404)
    }
  })
})
