/**
 * End-to-end support: the real server as a child process on a fresh SQLite file with the manual clock, Debian's
 * Chromium driven by playwright-core, a few API calls for setup (fetch with Bearer tokens) and screenshots.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core'
import { expect } from 'vitest'
import { buildServerBundle } from '../../support/server-bundle.ts'

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
export const CHROMIUM = '/usr/bin/chromium'
export const HAS_CHROMIUM = existsSync(CHROMIUM)
export const SCREENSHOTS = join(ROOT, 'docs', 'screenshots')
export const ADMIN = { email: 'admin@e2e.test', password: 'admin-password-1' }

if (!HAS_CHROMIUM) {
  console.warn(`e2e: skipped — ${CHROMIUM} is absent (install it with: apt-get install -y chromium)`)
}

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
}

function newestMtime(dir: string): number {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return t
}

/** Builds web/dist when it is missing or older than the web sources (vite build takes a few seconds). */
export function ensureWebBuilt() {
  const index = join(ROOT, 'web', 'dist', 'index.html')
  const sources = Math.max(newestMtime(join(ROOT, 'web', 'src')), statSync(join(ROOT, 'web', 'index.html')).mtimeMs)
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', 'web', '--logLevel', 'error'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  )
  if (r.status !== 0) throw new Error(`web build failed:\n${r.stdout}\n${r.stderr}`)
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

export interface ServerEnv {
  readonly url: string
  /** a call to the API as a user (Bearer token) or anonymously; throws on an error status */
  // biome-ignore lint/suspicious/noExplicitAny: setup reads API JSON of many shapes; the assertions are in the browser
  api<T = any>(method: string, path: string, body?: unknown, token?: string): Promise<T>
  adminToken(): Promise<string>
  /** POST /v1/test_clock/advance as the admin: due timers run before it answers */
  advance(seconds: number): Promise<void>
  stop(): Promise<void>
  log(): string
}

/**
 * Starts `tranche serve` (API, web app and worker) on a free port and a fresh database, as `npm start` runs it: the
 * server's bundle (test/support/server-bundle.ts), which finds the web app's build relative to itself.
 */
export async function startServer(): Promise<ServerEnv> {
  ensureWebBuilt()
  const bundle = buildServerBundle('e2e')
  const dir = mkdtempSync(join(tmpdir(), 'tranche-e2e-'))
  const port = await freePort()
  let output = ''
  const child: ChildProcess = spawn(process.execPath, ['--enable-source-maps', bundle.file, 'serve'], {
    cwd: ROOT,
    detached: true, // its own process group, so stop() ends the server and anything it started
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      TRANCHE_DB: join(dir, 'tranche.db'),
      TRANCHE_CLOCK: 'manual',
      TRANCHE_ADMIN_EMAIL: ADMIN.email,
      TRANCHE_ADMIN_PASSWORD: ADMIN.password,
      TRANCHE_LOG_LEVEL: 'warn',
      DATABASE_URL: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.on('data', (d) => (output += d))
  child.stderr?.on('data', (d) => (output += d))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${output}`)
    try {
      const r = await fetch(`${url}/`)
      if (r.ok && (r.headers.get('content-type') ?? '').includes('text/html')) break
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`server did not serve the web app in 30 s:\n${output}`)
    await new Promise((r) => setTimeout(r, 150))
  }

  async function api(method: string, path: string, body?: unknown, token?: string) {
    const headers: Record<string, string> = {}
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (token) headers.authorization = `Bearer ${token}`
    const r = await fetch(`${url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    const text = await r.text()
    const json = text ? JSON.parse(text) : null
    if (!r.ok) throw new Error(`${method} ${path} → ${r.status} ${text}`)
    return json
  }
  let admin: string | null = null
  const adminToken = async () => (admin ??= (await api('POST', '/v1/sessions', ADMIN)).token as string)
  return {
    url,
    api,
    adminToken,
    async advance(seconds) {
      await api('POST', '/v1/test_clock/advance', { seconds }, await adminToken())
    },
    async stop() {
      if (child.exitCode === null && child.pid) {
        const exited = new Promise((r) => child.once('exit', r))
        try {
          process.kill(-child.pid, 'SIGTERM')
        } catch {
          /* already gone */
        }
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
        if (child.exitCode === null) {
          try {
            process.kill(-child.pid, 'SIGKILL')
          } catch {
            /* already gone */
          }
        }
      }
      rmSync(dir, { recursive: true, force: true })
      bundle.remove()
    },
    log: () => output,
  }
}

export interface Person {
  email: string
  password: string
  name: string
  id: string
  token: string
}

let counter = 0
/** A user made through the API (for the parts of a story that are not under test). */
export async function person(env: ServerEnv, name: string, timeZone = 'Europe/Paris'): Promise<Person> {
  const email = `${name.toLowerCase()}-${Date.now().toString(36)}-${counter++}@e2e.test`
  const password = 'correct-horse-battery'
  const u = await env.api('POST', '/v1/users', { email, password, name, time_zone: timeZone })
  const s = await env.api('POST', '/v1/sessions', { email, password })
  return { email, password, name, id: u.id, token: s.token }
}

/** A contract between two people, made through the API: freelancer offers, client accepts. */
export async function contractVia(
  env: ServerEnv,
  client: Person,
  freelancer: Person,
  terms: { title: string; review_days?: number; milestones: { title: string; amount: number }[] },
) {
  const offer = await env.api(
    'POST',
    '/v1/offers',
    { role: 'freelancer', counterparty_email: client.email, currency: 'USD', payment_mode: 'by_milestone', ...terms },
    freelancer.token,
  )
  const accepted = await env.api('POST', `/v1/offers/${offer.id}/accept`, { revision: offer.revision }, client.token)
  const c = await env.api('GET', `/v1/contracts/${accepted.contract_id}`, undefined, client.token)
  return { id: c.id as string, milestones: (c.milestones as { id: string }[]).map((m) => m.id) }
}

/** Logs a person in through the login page of a fresh browser context. */
export async function logIn(browser: Browser, env: ServerEnv, who: { email: string; password: string }, width = 1280) {
  const context: BrowserContext = await browser.newContext({ viewport: { width, height: 900 }, baseURL: env.url })
  context.setDefaultTimeout(WAIT)
  const page = await context.newPage()
  const problems: string[] = []
  page.on('pageerror', (e) => problems.push(String(e)))
  await page.goto('/login')
  await page.getByLabel('Email').fill(who.email)
  await page.getByLabel('Password').fill(who.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.waitForURL((u) => !u.pathname.startsWith('/login'))
  return { context, page, problems }
}

/** Saves a screenshot of the whole page (the viewport grown to the page's height, so sticky parts stay put). */
export async function screenshot(page: Page, name: string) {
  mkdirSync(SCREENSHOTS, { recursive: true })
  const size = page.viewportSize() ?? { width: 1280, height: 900 }
  const height = (await page.evaluate('document.documentElement.scrollHeight')) as number
  await page.setViewportSize({ width: size.width, height: Math.min(Math.max(height, 600), 5000) })
  await page.waitForTimeout(150)
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) })
  await page.setViewportSize(size)
}

// vitest's expect has no Playwright matchers (playwright-core has no test runner): small waiting assertions.
const WAIT = 15_000
/** Waits until the locator's first match is visible. */
export const visible = (l: Locator) => l.first().waitFor({ state: 'visible', timeout: WAIT })
/** Waits until no match of the locator is visible. */
export const hidden = (l: Locator) => l.first().waitFor({ state: 'hidden', timeout: WAIT })
/** Waits until the locator's first match contains `text`. */
export const hasText = (l: Locator, text: string) =>
  expect.poll(async () => (await l.first().textContent({ timeout: WAIT })) ?? '', { timeout: WAIT }).toContain(text)
/** Waits until the locator matches `n` elements. */
export const hasCount = (l: Locator, n: number) => expect.poll(() => l.count(), { timeout: WAIT }).toBe(n)
