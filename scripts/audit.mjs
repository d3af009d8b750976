#!/usr/bin/env node
/**
 * Dependency audit (`npm run audit`): runs `npm audit --omit=dev --audit-level=high --json` and judges its high and
 * critical advisories against the explained exceptions in security/audit-exceptions.json.
 *
 * Exit status:
 *   0  the audit ran: no high or critical advisory in a production dependency, or each one is an explained exception
 *   1  the audit ran and found one that is not explained (or the exceptions file is invalid)
 *   2  the audit was NOT performed: the registry's audit endpoint refused or could not be reached, or npm's answer
 *      could not be read. Nothing was checked; .ci/run reports this step as not performed and counts it neither way.
 *
 * Options (for tests): --input FILE reads npm's JSON from FILE instead of running npm; --exceptions FILE.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const SERIOUS = new Set(['high', 'critical'])
const COMMAND = ['audit', '--omit=dev', '--audit-level=high', '--json']

const { values: opts } = parseArgs({
  options: {
    input: { type: 'string' },
    exceptions: { type: 'string', default: resolve(ROOT, 'security/audit-exceptions.json') },
  },
})

const say = (line) => console.log(`audit: ${line}`)

function notPerformed(why) {
  say(`NOT PERFORMED: ${why}`)
  say('no advisory was checked by this run; see docs/dependency-audit.md for the last manual review')
  process.exit(2)
}

/** The exceptions: [{ id, package, reason }], each field a non-empty string. */
function readExceptions(file) {
  let list
  try {
    list = JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    say(`FAILED: cannot read the exceptions file ${file}: ${e.message}`)
    process.exit(1)
  }
  const ok = (x) => typeof x === 'string' && x.trim() !== ''
  const bad = Array.isArray(list) ? list.findIndex((e) => !e || !ok(e.id) || !ok(e.package) || !ok(e.reason)) : 0
  if (bad !== -1) {
    say(`FAILED: ${file} must be a JSON array of { "id", "package", "reason" } (entry ${bad} is not)`)
    process.exit(1)
  }
  return list
}

/** npm's report as text: from --input, or from running npm audit (which exits non-zero when it finds something). */
function report() {
  if (opts.input) return readFileSync(opts.input, 'utf8')
  const run = spawnSync('npm', COMMAND, { cwd: ROOT, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 })
  if (run.error) notPerformed(`could not run npm audit: ${run.error.message}`)
  return run.stdout ?? ''
}

/** The advisory id: the GHSA id in its URL when there is one, else npm's numeric source id. */
function advisoryId(via) {
  return /GHSA-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}/i.exec(via.url ?? '')?.[0] ?? String(via.source ?? via.title)
}

const exceptions = readExceptions(opts.exceptions)
const text = report()
let json
try {
  json = JSON.parse(text)
} catch {
  notPerformed(`npm audit did not answer with JSON: ${text.trim().slice(0, 200) || '(no output)'}`)
}
if (!json || typeof json.vulnerabilities !== 'object' || json.vulnerabilities === null || json.error) {
  const why = json?.message ?? json?.error?.summary ?? json?.error?.code ?? 'an answer without a vulnerability report'
  notPerformed(`the registry's audit endpoint did not give a report (${String(why).slice(0, 300)})`)
}

// Each vulnerable package lists its own advisories as objects in `via` (strings there name vulnerable dependencies,
// whose own entries carry their advisories), so collecting the objects finds every advisory once per package.
const found = new Map()
for (const [name, vuln] of Object.entries(json.vulnerabilities)) {
  for (const via of vuln.via ?? []) {
    if (typeof via !== 'object' || !SERIOUS.has(via.severity)) continue
    const entry = { id: advisoryId(via), package: via.name ?? name, severity: via.severity, title: via.title ?? '' }
    found.set(`${entry.package} ${entry.id}`, { ...entry, url: via.url ?? '', range: via.range ?? '' })
  }
}

const explainedBy = (a) => exceptions.find((e) => e.package === a.package && e.id.toLowerCase() === a.id.toLowerCase())
const unexplained = []
const prod = json.metadata?.dependencies?.prod
say(`npm ${COMMAND.join(' ')}${prod === undefined ? '' : ` (${prod} production packages)`}`)
for (const a of found.values()) {
  const e = explainedBy(a)
  if (!e) unexplained.push(a)
  say(
    `${e ? 'explained  ' : 'UNEXPLAINED'} ${a.severity} ${a.package} ${a.range} ${a.id}: ${a.title}` +
      (e ? ` (exception: ${e.reason})` : ` ${a.url}`),
  )
}
for (const e of exceptions) {
  if (![...found.values()].some((a) => explainedBy(a) === e))
    say(`note: exception ${e.id} (${e.package}) is no longer reported; remove it from ${opts.exceptions}`)
}
if (unexplained.length) {
  say(`FAILED: ${unexplained.length} high or critical advisory(ies) without an explained exception`)
  say('upgrade, or add { "id", "package", "reason" } to security/audit-exceptions.json and explain it there')
  process.exit(1)
}
say(`passed: ${found.size} high or critical advisory(ies), all explained`)
