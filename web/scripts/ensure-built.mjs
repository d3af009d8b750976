#!/usr/bin/env node
/**
 * Runs before `npm start` / `npm run demo` (prestart): builds the web app when web/dist is missing, so that
 * `npm install && npm start` serves it on a fresh clone. Never blocks the API: without the build tools
 * (an install without devDependencies) it warns and the server starts without the web app.
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
if (existsSync(`${root}web/dist/index.html`)) process.exit(0)
try {
  createRequire(`${root}package.json`).resolve('vite')
} catch {
  console.warn(
    'tranche: web/dist is missing and vite is not installed (npm install without dev dependencies?); serving the API only',
  )
  process.exit(0)
}
console.log('tranche: building the web app (first start)…')
const r = spawnSync(
  process.execPath,
  [`${root}node_modules/vite/bin/vite.js`, 'build', `${root}web`, '--logLevel', 'warn'],
  {
    stdio: 'inherit',
    cwd: root,
  },
)
if (r.status !== 0) console.warn('tranche: the web app build failed; serving the API only')
