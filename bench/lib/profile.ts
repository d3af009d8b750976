/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self time per function (where the CPU actually was) and
 * per package or source area, as percentages of all samples.
 */
import { readFileSync } from 'node:fs'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

export interface ProfileRow {
  readonly name: string
  readonly where: string
  readonly selfMs: number
  readonly pct: number
}

/** node_modules/<pkg>, src/<area>, node:internal, or (program/gc/idle) */
function areaOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)'
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (nm) return nm[1]!
  const src = /\/(src|bench|test)\/([^/]+)/.exec(url)
  if (src) return `${src[1]}/${src[2]}`
  if (url.startsWith('node:')) return 'node:internal'
  return url
}

function shortUrl(url: string): string {
  return url
    .replace(/^file:\/\//, '')
    .replace(/^.*node_modules\//, '')
    .replace(/^.*\/(src|bench|test)\//, '$1/')
}

/** `window`: only samples taken between these monotonic-clock times (µs), e.g. a benchmark's measured window. */
export function summarizeProfile(file: string, top = 25, window?: [number, number]) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  let t = p.startTime
  let first = Number.POSITIVE_INFINITY
  let last = 0
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0
    t += dt
    if (window && (t < window[0] || t > window[1])) continue
    first = Math.min(first, t)
    last = Math.max(last, t)
    const id = p.samples[i]!
    self.set(id, (self.get(id) ?? 0) + dt)
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0) || 1
  const fns = new Map<string, { name: string; where: string; us: number }>()
  const areas = new Map<string, number>()
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame
    const name = f.functionName || '(anonymous)'
    const where = f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : ''
    const key = `${name}@${where}`
    const row = fns.get(key) ?? { name, where, us: 0 }
    row.us += us
    fns.set(key, row)
    const area = areaOf(f.url, name)
    areas.set(area, (areas.get(area) ?? 0) + us)
  }
  const idle = [...fns.values()].filter((r) => r.name === '(idle)').reduce((s, r) => s + r.us, 0)
  const rows = (list: { name: string; where: string; us: number }[]): ProfileRow[] =>
    list
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((r) => ({ name: r.name, where: r.where, selfMs: r.us / 1000, pct: (100 * r.us) / total }))
  return {
    file,
    seconds: last > first ? (last - first) / 1e6 : 0,
    window: window ?? null,
    busyPct: (100 * (total - idle)) / total,
    functions: rows([...fns.values()]),
    areas: rows([...areas].map(([name, us]) => ({ name, where: '', us }))),
  }
}

export function printProfile(s: ReturnType<typeof summarizeProfile>) {
  console.log(`\nCPU profile ${s.file}: ${s.seconds.toFixed(1)} s sampled, ${s.busyPct.toFixed(0)}% not idle`)
  console.log('  self time by function:')
  for (const r of s.functions)
    console.log(`    ${r.pct.toFixed(1).padStart(5)}%  ${r.selfMs.toFixed(0).padStart(7)} ms  ${r.name}  ${r.where}`)
  console.log('  self time by package / source area:')
  for (const r of s.areas)
    console.log(`    ${r.pct.toFixed(1).padStart(5)}%  ${r.selfMs.toFixed(0).padStart(7)} ms  ${r.name}`)
}
