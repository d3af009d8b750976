/**
 * The server as `npm start` runs it: the bundle that `npm run build` writes (esbuild, npm packages left to load from
 * node_modules), with the same build settings — here into a file of the caller's own under dist/, since several test
 * files may build at once. dist/ keeps the bundle at the place its relative path to web/dist expects.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface ServerBundle {
  /** absolute path of the bundle: run it as `node <file> serve` */
  readonly file: string
  remove(): void
}

export function buildServerBundle(tag: string): ServerBundle {
  const file = join(ROOT, 'dist', `${tag}-${process.pid}-${randomBytes(3).toString('hex')}.mjs`)
  // the build script's own settings; esbuild takes the last --outfile it is given
  const r = spawnSync('npm', ['run', '-s', 'build', '--', `--outfile=${file}`], { cwd: ROOT, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`)
  return {
    file,
    remove() {
      rmSync(file, { force: true })
      rmSync(`${file}.map`, { force: true })
    },
  }
}
