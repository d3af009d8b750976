/**
 * `npm audit --omit=dev`: no high or critical advisory in a production dependency, unless SECURITY.md explains it
 * (a line under "npm audit exceptions" naming the package). Skipped, saying why, where the registry's audit endpoint
 * cannot be reached.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')

interface Audit {
  vulnerabilities?: Record<string, { severity: string; via: unknown[] }>
  error?: unknown
  message?: string
  statusCode?: number
}

function audit(): Promise<{ json: Audit | null; raw: string }> {
  return new Promise((done) => {
    execFile(
      'npm',
      ['audit', '--omit=dev', '--json'],
      { cwd: ROOT, timeout: 60_000, maxBuffer: 32 << 20 },
      (_e, stdout) => {
        try {
          done({ json: JSON.parse(stdout) as Audit, raw: stdout })
        } catch {
          done({ json: null, raw: stdout })
        }
      },
    )
  })
}

/** The package names listed under the "npm audit exceptions" heading of SECURITY.md. */
function auditExceptions(markdown: string): string[] {
  const section = /^##+ npm audit exceptions\s*$([\s\S]*?)(?=^##+ |(?![\s\S]))/im.exec(markdown)?.[1] ?? ''
  return [...section.matchAll(/^\s*[-*]\s+`([^`]+)`/gm)].map((m) => m[1]!)
}

it('has no unexplained high or critical advisory in production dependencies', async (ctx) => {
  const { json, raw } = await audit()
  if (!json || json.error || json.statusCode || !json.vulnerabilities) {
    ctx.skip(`npm audit is not available here: ${(json?.message ?? raw).slice(0, 160)}`)
    return
  }
  const serious = Object.entries(json.vulnerabilities)
    .filter(([, v]) => v.severity === 'high' || v.severity === 'critical')
    .map(([name]) => name)
  const explained = auditExceptions(readFileSync(resolve(ROOT, 'SECURITY.md'), 'utf8'))
  expect(
    serious.filter((name) => !explained.includes(name)),
    'explain each in SECURITY.md or upgrade',
  ).toEqual([])
}, 90_000)

it('reads the exceptions of SECURITY.md', () => {
  const md =
    '# S\n\n## npm audit exceptions\n\n- `left-pad`: not reachable\n- `is-odd` (dev only)\n\n## Other\n- `nope`\n'
  expect(auditExceptions(md)).toEqual(['left-pad', 'is-odd'])
  expect(auditExceptions('# nothing here')).toEqual([])
})
