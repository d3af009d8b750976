/**
 * Is the machine quiet, and did it stay quiet? From /proc: other people's test runs, compilers and servers that
 * use CPU now, and — over the whole run — the CPU time used by processes that are not this benchmark's.
 */
import { readdirSync, readFileSync } from 'node:fs'

const TICKS = 100 // USER_HZ on Linux

function stat(pid: number | 'self'): string[] | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // fields after "(comm)": state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
    return s.slice(s.lastIndexOf(')') + 2).split(' ')
  } catch {
    return null
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()
  } catch {
    return ''
  }
}

const pids = () =>
  readdirSync('/proc')
    .map(Number)
    .filter((n) => n > 0)

/** This process, its ancestors (npm, the shell) and its descendants (servers, phases). */
function ours(): Set<number> {
  const mine = new Set<number>()
  for (let pid = process.pid; pid > 1; ) {
    mine.add(pid)
    const f = stat(pid)
    if (!f) break
    pid = Number(f[1])
  }
  const parent = new Map<number, number>()
  for (const pid of pids()) {
    const f = stat(pid)
    if (f) parent.set(pid, Number(f[1]))
  }
  let grew = true
  while (grew) {
    grew = false
    for (const [pid, ppid] of parent)
      if (!mine.has(pid) && mine.has(ppid) && ppid !== 1) {
        mine.add(pid)
        grew = true
      }
  }
  return mine
}

const OTHERS = /vitest|tsx|tsc |playwright|chromium|esbuild|vite|node |npm /

/** Other people's node/test/build processes and the share of a core each used over `ms`. */
export async function othersNow(ms = 2_000): Promise<{ pid: number; cpuPct: number; cmd: string }[]> {
  const mine = ours()
  const cpu = (pid: number) => {
    const f = stat(pid)
    return f ? Number(f[11]) + Number(f[12]) : 0
  }
  const before = new Map(pids().map((p) => [p, cpu(p)]))
  await new Promise((r) => setTimeout(r, ms))
  const out: { pid: number; cpuPct: number; cmd: string }[] = []
  for (const [pid, t0] of before) {
    if (mine.has(pid)) continue
    const cmd = cmdline(pid)
    if (!OTHERS.test(cmd)) continue
    out.push({ pid, cpuPct: (100 * (cpu(pid) - t0)) / TICKS / (ms / 1000), cmd: cmd.slice(0, 120) })
  }
  return out.sort((a, b) => b.cpuPct - a.cpuPct)
}

function uptimeTicks(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * TICKS
}

/**
 * Watches, every 2 s until stopped, the CPU used by every user-space process that is not this benchmark (its
 * process tree) — PostgreSQL counted apart, since it serves the benchmark (and maybe others too). A process's time
 * counts from the watch's start, or from its own start when it starts later; the last < 2 s of a process that
 * ends between two looks is missed.
 */
export function watchOthers() {
  const t0 = uptimeTicks()
  const startedAt = Date.now()
  const last = new Map<number, number>()
  const byCmd = new Map<string, number>()
  let postgres = 0
  let others = 0
  // A process of ours that is stopped may outlive its parent for a moment (a phase run as npx → tsx → node, a
  // profiled server): orphaned, it is no longer in our tree, and would be counted whole as someone else's. Once
  // ours, always ours.
  const everMine = new Set<number>()
  const look = () => {
    for (const pid of ours()) everMine.add(pid)
    for (const pid of pids()) {
      if (everMine.has(pid)) continue
      const f = stat(pid)
      const cmd = f ? cmdline(pid) : ''
      if (!f || !cmd) continue // kernel threads have no command line
      const cpu = Number(f[11]) + Number(f[12])
      const before = last.get(pid) ?? (Number(f[19]) >= t0 ? 0 : cpu)
      last.set(pid, cpu)
      const d = (cpu - before) / TICKS
      if (d <= 0) continue
      if (/(^|\/)postgres(:|\s|$)/.test(cmd)) postgres += d
      else {
        others += d
        const key = cmd.slice(0, 100)
        byCmd.set(key, (byCmd.get(key) ?? 0) + d)
      }
    }
  }
  look()
  const timer = setInterval(look, 2_000)
  timer.unref()
  return {
    stop() {
      clearInterval(timer)
      look()
      const seconds = (Date.now() - startedAt) / 1000
      return {
        seconds,
        othersCpuSeconds: others,
        othersCores: others / seconds,
        postgresCpuSeconds: postgres,
        topOthers: [...byCmd]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 8)
          .map(([cmd, cpuSeconds]) => ({ cmd, cpuSeconds })),
      }
    },
  }
}
