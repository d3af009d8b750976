/** The event types the code emits are the ones SPEC §9 lists (EVENT_TYPES), which webhook endpoints may ask for. */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EVENT_TYPES } from '../../src/domain/types.ts'

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')
        ? [join(dir, e.name)]
        : [],
  )
}

describe('the event catalog', () => {
  it('lists every type the code emits', () => {
    const emitted = new Set<string>()
    for (const file of sources('src')) {
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:emit\(|type: )'([a-z_]+\.[a-z_]+)'/g)) emitted.add(m[1]!)
    }
    expect(emitted.size).toBeGreaterThan(20)
    expect([...emitted].filter((t) => !(EVENT_TYPES as readonly string[]).includes(t))).toEqual([])
  })
})
