/**
 * The dependency audit script (scripts/audit.mjs, `npm run audit`, a step of .ci/run), fed with npm audit reports
 * recorded as files: high and critical advisories fail it unless security/audit-exceptions.json explains them, an
 * audit endpoint that refuses or cannot be reached gives the distinct "not performed" exit status 2, and the
 * committed exceptions are valid and documented. The real `npm audit` runs in CI through the script, not here.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')
const SCRIPT = join(ROOT, 'scripts/audit.mjs')
const dir = mkdtempSync(join(tmpdir(), 'tranche-audit-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
function file(content: unknown): string {
  const path = join(dir, `f${n++}.json`)
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
  return path
}

function audit(report: unknown, exceptions: unknown = []) {
  const run = spawnSync(process.execPath, [SCRIPT, '--input', file(report), '--exceptions', file(exceptions)], {
    encoding: 'utf8',
  })
  return { code: run.status, out: run.stdout + run.stderr }
}

const advisory = (id: string, name: string, severity: string) => ({
  source: 1_000_000 + n,
  name,
  dependency: name,
  title: `${severity} trouble in ${name}`,
  url: `https://github.com/advisories/${id}`,
  severity,
  range: '<9.9.9',
})

/** A report in npm 7+ format (auditReportVersion 2). */
const report = (vulnerabilities: Record<string, { severity: string; via: unknown[] }>) => ({
  auditReportVersion: 2,
  vulnerabilities: Object.fromEntries(
    Object.entries(vulnerabilities).map(([name, v]) => [name, { name, isDirect: true, range: '<9.9.9', ...v }]),
  ),
  metadata: { dependencies: { prod: 150 } },
})

const STATIC_HIGH = report({
  '@fastify/static': {
    severity: 'high',
    via: [
      advisory('GHSA-aaaa-bbbb-cccc', '@fastify/static', 'high'),
      advisory('GHSA-dddd-eeee-ffff', '@fastify/static', 'moderate'),
    ],
  },
  // a package that is vulnerable only through its dependency names it as a string, with no advisory of its own
  '@fastify/swagger-ui': { severity: 'high', via: ['@fastify/static'] },
})
const EXPLAINED = [{ id: 'GHSA-aaaa-bbbb-cccc', package: '@fastify/static', reason: 'not reachable: serve is false' }]

describe('scripts/audit.mjs', () => {
  it('passes a clean report and one with only low and moderate advisories', () => {
    expect(audit(report({}))).toMatchObject({ code: 0 })
    const moderate = audit(
      report({ pino: { severity: 'moderate', via: [advisory('GHSA-1111-2222-3333', 'pino', 'moderate')] } }),
    )
    expect(moderate.code, moderate.out).toBe(0)
    expect(moderate.out).toMatch(/passed: 0 high or critical/)
  })

  it('fails on a high or critical advisory without an exception, naming it once', () => {
    const high = audit(STATIC_HIGH)
    expect(high.code, high.out).toBe(1)
    expect(high.out.match(/UNEXPLAINED/g)).toHaveLength(1)
    expect(high.out).toContain('GHSA-aaaa-bbbb-cccc')
    expect(high.out).not.toContain('GHSA-dddd-eeee-ffff')
    const critical = audit(
      report({ ajv: { severity: 'critical', via: [advisory('GHSA-4444-5555-6666', 'ajv', 'critical')] } }),
    )
    expect(critical.code, critical.out).toBe(1)
  })

  it('passes when each such advisory is an exception for that advisory and that package', () => {
    const ok = audit(STATIC_HIGH, EXPLAINED)
    expect(ok.code, ok.out).toBe(0)
    expect(ok.out).toContain('not reachable: serve is false')
    expect(audit(STATIC_HIGH, [{ ...EXPLAINED[0], package: 'fastify' }]).code).toBe(1)
    expect(audit(STATIC_HIGH, [{ ...EXPLAINED[0], id: 'GHSA-dddd-eeee-ffff' }]).code).toBe(1)
    // an exception nobody needs any more is pointed out, without failing
    const stale = audit(report({}), EXPLAINED)
    expect(stale.code).toBe(0)
    expect(stale.out).toMatch(/GHSA-aaaa-bbbb-cccc .* no longer reported/)
  })

  it('refuses an exceptions file without an id, a package and a reason for each entry', () => {
    for (const bad of [
      {},
      [{ id: 'GHSA-aaaa-bbbb-cccc', package: '@fastify/static' }],
      [{ ...EXPLAINED[0], reason: ' ' }],
    ]) {
      const run = audit(report({}), bad)
      expect(run.code, run.out).toBe(1)
    }
    expect(audit(report({}), '{not json').code).toBe(1)
  })

  it('says plainly that the audit was not performed (exit 2) when the endpoint refuses or the answer is unreadable', () => {
    // what npm printed on the development machine, where the registry answers the bulk endpoint with 405
    const refused = audit({
      message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
      method: 'POST',
      statusCode: 405,
      body: '',
      error: { summary: '', detail: '' },
    })
    expect(refused.code, refused.out).toBe(2)
    expect(refused.out).toMatch(/NOT PERFORMED.*405 Method Not Allowed/)
    const offline = audit({ error: { code: 'ENOTFOUND', summary: 'request to https://registry.npmjs.org failed' } })
    expect(offline.code, offline.out).toBe(2)
    expect(audit('npm ERR! something else').code).toBe(2)
    expect(audit('').code).toBe(2)
  })

  it('has a valid exceptions file whose every exception is explained in docs/dependency-audit.md', () => {
    const exceptions = JSON.parse(readFileSync(join(ROOT, 'security/audit-exceptions.json'), 'utf8')) as {
      id: string
    }[]
    const run = spawnSync(process.execPath, [SCRIPT, '--input', file(report({}))], { encoding: 'utf8' })
    expect(run.status, run.stdout).toBe(0)
    const review = readFileSync(join(ROOT, 'docs/dependency-audit.md'), 'utf8')
    for (const e of exceptions) expect(review, `${e.id} is not explained`).toContain(e.id)
  })
})
