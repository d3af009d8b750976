/**
 * Server processes for the benchmark, run as deployed: `npm start` runs the bundle that `npm run build` writes
 * (`node dist/tranche.mjs serve`, no TypeScript loader), so a server is that bundle, built once per run; the bare
 * Fastify baseline is plain JavaScript, also run by `node`. A CPU-profiled server runs from source under tsx
 * instead, so that its profile names the source files. Each starts in its own process group, is ready when /readyz
 * answers 200, and is stopped with SIGTERM to that group (SIGKILL after a grace period). The process that serves is
 * the deepest descendant whose command line names the file it runs; its RSS comes from /proc/<pid>/status.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { request } from 'undici'
import { ROOT } from './settings.ts'

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      s.close(() => resolve(port))
    })
  })
}

/** Every server process this run started and has not stopped yet (stopped on Ctrl-C too). */
export const live = new Set<Proc>()

export interface Proc {
  readonly child: ChildProcess
  readonly port: number
  readonly origin: string
  /** the pid of the node process that serves (found after start) */
  serverPid: number
  output(): string
  stop(): Promise<void>
}

/** Environment variables of Tranche that must not leak from the caller's shell into a benchmark server. */
const CLEAN = [
  'DATABASE_URL',
  'TRANCHE_DB',
  'TRANCHE_CLOCK',
  'TRANCHE_GROUP_COMMIT',
  'TRANCHE_WORKER',
  'TRANCHE_ADMIN_EMAIL',
  'TRANCHE_ADMIN_PASSWORD',
  'TRANCHE_LOG_LEVEL',
  'PORT',
  'HOST',
  'NODE_OPTIONS',
]

/** Tranche's bundle, as `npm start` builds it (`npm run build`): built once per benchmark run. */
const TRANCHE_BUNDLE = 'dist/tranche.mjs'
let trancheBuilt = false

/** The JavaScript file an entry runs as: Tranche's build for `src/cli/main.ts`; a `.mjs` entry runs as it is. */
function runnable(entry: string): string {
  if (entry !== 'src/cli/main.ts') return entry
  if (!trancheBuilt) {
    const r = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stderr}${r.stdout}`)
    trancheBuilt = true
  }
  return TRANCHE_BUNDLE
}

export async function startProcess(
  entry: string,
  args: string[],
  env: Record<string, string>,
  opts: { readyPath?: string; timeoutMs?: number; cpuProfileDir?: string } = {},
): Promise<Proc> {
  const port = await freePort()
  const base: Record<string, string | undefined> = { ...process.env }
  for (const k of CLEAN) delete base[k]
  // --cpu-prof is not allowed in NODE_OPTIONS on Node 20, so a profiled server is node itself with tsx as loader
  const file = opts.cpuProfileDir ? entry : runnable(entry)
  const argv = opts.cpuProfileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfileDir}`, '--import', 'tsx', entry, ...args]
    : [file, ...args]
  const child = spawn('node', argv, {
    cwd: ROOT,
    env: { ...base, HOST: '127.0.0.1', PORT: String(port), ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const origin = `http://127.0.0.1:${port}`
  const proc: Proc = {
    child,
    port,
    origin,
    serverPid: 0,
    output: () => out,
    async stop() {
      live.delete(proc)
      if (child.exitCode !== null || child.signalCode !== null) return
      try {
        process.kill(-child.pid!, 'SIGTERM')
      } catch {
        return
      }
      const t = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL')
        } catch {}
      }, 15_000)
      await exited
      clearTimeout(t)
      // a descendant may outlive the process started by a moment; wait for the serving process too
      const deadline = Date.now() + 15_000
      while (proc.serverPid && alive(proc.serverPid) && Date.now() < deadline) await sleep(50)
    },
  }
  live.add(proc)
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000)
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode}:\n${out}`)
    try {
      const res = await request(`${origin}${opts.readyPath ?? '/readyz'}`, { headersTimeout: 2_000 })
      await res.body.text()
      if (res.statusCode === 200) break
    } catch {}
    if (Date.now() > deadline) {
      await proc.stop()
      throw new Error(`${entry} did not become ready in time:\n${out}`)
    }
    await sleep(100)
  }
  proc.serverPid = findServing(child.pid!, file)
  return proc
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function alive(pid: number) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = []
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim()
      if (text) out.push(...text.split(/\s+/).map(Number))
    }
  } catch {}
  return out
}

/** The deepest descendant of `root` whose command line names `marker` (the node process running the entry). */
export function findServing(root: number, marker: string): number {
  let best = { pid: root, depth: -1 }
  const walk = (pid: number, depth: number) => {
    let cmd = ''
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
    } catch {}
    if (cmd.includes(marker) && depth > best.depth) best = { pid, depth }
    for (const c of childrenOf(pid)) walk(c, depth + 1)
  }
  walk(root, 0)
  return best.pid
}

/** VmRSS and VmHWM (peak) of a process, in MB. */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN)
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 }
}

/** CPU time (user + system) a process has used so far, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // after the command: state(0) ppid … utime(11) stime(12), in clock ticks (100 per second on Linux)
  return (Number(fields[11]) + Number(fields[12])) / 100
}

/** Starts `tranche serve` with the benchmark's environment (CPU-profiled into `cpuProfileDir` when given). */
export function startTranche(env: Record<string, string>, extra: { cpuProfileDir?: string } = {}) {
  return startProcess(
    'src/cli/main.ts',
    ['serve'],
    { TRANCHE_LOG_LEVEL: 'silent', TRANCHE_CLOCK: 'system', ...env },
    extra.cpuProfileDir ? { cpuProfileDir: extra.cpuProfileDir } : {},
  )
}

/** Runs a benchmark phase in its own process; the phase prints one line `BENCH_RESULT <json>` at the end. */
export async function runChild<T>(entry: string, env: Record<string, string> = {}): Promise<T> {
  const child = spawn('npx', ['tsx', entry], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  let pending = ''
  child.stdout.on('data', (b: Buffer) => {
    const s = b.toString()
    out += s
    // progress lines (indented) are shown as they come
    const lines = (pending + s).split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) if (line.startsWith('  ')) process.stdout.write(`${line}\n`)
  })
  child.stderr.on('data', (b: Buffer) => {
    err = (err + b.toString()).slice(-20_000)
  })
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
  const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '))
  if (code !== 0 || !line) throw new Error(`${entry} failed (exit ${code}):\n${err.slice(-4000)}\n${out.slice(-2000)}`)
  return JSON.parse(line.slice('BENCH_RESULT '.length)) as T
}
