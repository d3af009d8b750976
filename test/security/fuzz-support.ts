/**
 * The hostile input of the fuzz suites (`fuzz-*.test.ts`): hostile values — wrong types, out-of-range amounts, huge
 * strings and arrays, odd Unicode (lone surrogates, NUL, RTL marks, zero-width, emoji), SQL-looking text,
 * prototype-pollution and spoofing keys — and valid bodies bent out of shape with them, as random requests (with
 * malformed JSON, odd content types and Idempotency-Keys) and as a fixed corpus run every time.
 */
import fc from 'fast-check'

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
type Path = (string | number)[]

// --- hostile values -------------------------------------------------------------------------------------------------

export const ODD = [
  '\u202e', // right-to-left override
  '\u200f', // right-to-left mark
  '\u200b', // zero-width space
  '\u200d', // zero-width joiner
  '\ufeff', // byte order mark
  '\u2028\u2029', // line and paragraph separators
  '\u0301', // combining acute accent
  '👩‍👩‍👧‍👦',
  '🏳️‍🌈',
  '𝕿𝖗𝖆𝖓𝖈𝖍𝖊',
  'ﷺ',
  '\u0007\u001b[31m',
  '\u007f\u0085\u009f',
  '\ue000', // private use
  '\ufffe\uffff', // noncharacters (well-formed)
  'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇',
]
export const NASTY = [
  "' OR 1=1 --",
  "'; DROP TABLE users; --",
  '" OR ""="',
  "1'); DELETE FROM accounts; --",
  '%00',
  '\\u0000',
  '$' + '{7*7}{{7*7}}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '{"__proto__":{"is_admin":true}}',
  'null',
  'undefined',
  'NaN',
]
export const ILL_FORMED = ['\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\ud83dy', '\udc00\ud800']

export const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(fc.constantFrom(...ODD, ...NASTY), { minLength: 1, maxLength: 6 }).map((a) => a.join('')),
  fc.constantFrom(...ILL_FORMED),
)
export const huge = fc.constantFrom(201, 10_001, 100_000, 600_000).map((n) => 'x'.repeat(n))
const number = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 1, 499, 500, 1.5, 1e12, 1e12 + 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e308, 5e-324),
)
const hostile: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: text },
  { weight: 2, arbitrary: number },
  { weight: 1, arbitrary: huge },
  { weight: 1, arbitrary: fc.constantFrom<Json>(null, true, false, [], {}, '', ' ', '0', '100', 'USD', 'usd') },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 20_000 }).map((n): Json => Array(n).fill(1)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
)
const POLLUTING = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__']
export const SPOOFING = [
  'is_admin',
  'admin',
  'user_id',
  'client_id',
  'freelancer_id',
  'author_id',
  'id',
  'status',
  'escrow_amount',
  'fee',
  'client_fee_bps',
]

// --- bending a valid body -----------------------------------------------------------------------------------------

const clone = (v: Json): Json => JSON.parse(JSON.stringify(v))

/** Paths to every value in v (the root is []). */
function paths(v: Json, at: Path = []): Path[] {
  const out: Path[] = [at]
  if (Array.isArray(v)) for (const [i, x] of v.entries()) out.push(...paths(x, [...at, i]))
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]))
  return out
}
const get = (v: Json, path: Path): Json => path.reduce<Json>((x, k) => (x as Record<string | number, Json>)[k]!, v)

/** Sets (as an own, enumerable property even for `__proto__`) or deletes the value at path. */
function edit(base: Json, path: Path, value: Json | undefined): Json {
  if (path.length === 0) return value === undefined ? {} : value
  const root = clone(base)
  const parent = get(root, path.slice(0, -1)) as Record<string | number, Json>
  const key = path.at(-1)!
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(key), 1)
    else delete parent[key]
  } else Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true })
  return root
}

export interface Req {
  readonly raw: string | null
  readonly contentType: string | null
  readonly idem: string | null
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/octet-stream',
  'application/json; charset=utf-16',
  'multipart/form-data; boundary=x',
]

function malformed(validRaw: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.integer({ min: 0, max: Math.max(0, validRaw.length - 1) }).map((n) => validRaw.slice(0, n)),
    fc.constantFrom(
      '{',
      '[',
      '"',
      '{"a":}',
      '{,}',
      "{'title':'x'}",
      '{"amount":NaN}',
      '{"amount":Infinity}',
      '{"amount":1e999}',
      '{"a":1}garbage',
      '\ufeff{}',
      `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
      `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`,
      '{"__proto__":{"is_admin":true}}',
      '{"constructor":{"prototype":{"is_admin":true}}}',
      '{"a":1,"a":2}',
      '\u0000',
      'null',
      '[]',
      '0',
      '""',
    ),
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.constant(validRaw.replace(/"/, "'")),
    fc.constant(`${validRaw},`),
  )
}

export function requests(base: Json): fc.Arbitrary<Req> {
  const all = paths(base)
  const objects = all.filter((p) => {
    const v = get(base, p)
    return v !== null && typeof v === 'object' && !Array.isArray(v)
  })
  const fields = all.filter((p) => p.length)
  const body: fc.Arbitrary<string> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.tuple(fc.constantFrom(...all), hostile).map(([p, v]) => JSON.stringify(edit(base, p, v))),
    },
    ...(fields.length
      ? [{ weight: 1, arbitrary: fc.constantFrom(...fields).map((p) => JSON.stringify(edit(base, p, undefined))) }]
      : []),
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...objects), fc.oneof(fc.constantFrom(...POLLUTING, ...SPOOFING), fc.string()), hostile)
        .map(([p, k, v]) => JSON.stringify(edit(base, [...p, k], v))),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: malformed(JSON.stringify(base)) },
  )
  return fc.record({
    raw: fc.oneof({ weight: 12, arbitrary: body }, { weight: 1, arbitrary: fc.constant(null) }),
    contentType: fc.oneof(
      { weight: 10, arbitrary: fc.constant('application/json') },
      { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
      { weight: 1, arbitrary: fc.constant(null) },
    ),
    idem: fc.oneof(
      { weight: 4, arbitrary: fc.constant(null) },
      { weight: 2, arbitrary: fc.stringMatching(/^[\x21-\x7e]{1,40}$/) },
      { weight: 1, arbitrary: fc.constantFrom('', ' ', 'x'.repeat(256), 'x'.repeat(5000)) },
    ),
  })
}

/**
 * The same cases every run: text that cannot round-trip in every string field, prototype-pollution keys, classic
 * malformed bodies. With `full` (TRANCHE_DEEP, or SQLite), also every leaf set to each worst value of its kind.
 */
export function corpus(base: Json, full: boolean): Req[] {
  const json = (raw: string): Req => ({ raw, contentType: 'application/json', idem: null })
  const out: Req[] = []
  // the first item of an array stands for the others
  for (const p of paths(base).filter((x) => x.every((k) => typeof k !== 'number' || k === 0))) {
    const v = get(base, p)
    const worst: Json[] =
      typeof v === 'string'
        ? ['\u0000', '\ud800', ...(full ? ['x\ud83dy', 'x'.repeat(10_001), '', 5, null] : [])]
        : !full
          ? []
          : typeof v === 'number'
            ? [-1, 0, 1.5, 1e12 + 1, '100', null]
            : Array.isArray(v)
              ? [[], Array(10_001).fill(v[0] ?? 1), null]
              : typeof v === 'boolean'
                ? ['true', null]
                : v === null
                  ? [{}]
                  : ['x', null]
    for (const w of worst) out.push(json(JSON.stringify(edit(base, p, w))))
  }
  for (const key of full ? [...POLLUTING, 'is_admin', 'user_id', 'status'] : ['constructor', 'is_admin'])
    out.push(json(JSON.stringify(edit(base, [key], { is_admin: true }))))
  const inner = JSON.stringify(base).slice(1, -1)
  out.push(json(`{"__proto__":{"is_admin":true}${inner ? `,${inner}` : ''}}`))
  const raws = ['{', '{"a":}', "{'a':1}", '\ufeff{}', '[]', 'null', '', `${'['.repeat(100_000)}${']'.repeat(100_000)}`]
  for (const raw of full ? raws : raws.slice(0, 3)) out.push(json(raw))
  out.push({ raw: JSON.stringify(base), contentType: 'text/plain', idem: null })
  if (full) {
    out.push({ raw: 'a=1&b=2', contentType: 'application/x-www-form-urlencoded', idem: null })
    out.push({ raw: JSON.stringify(base), contentType: 'application/json', idem: 'x'.repeat(256) })
  }
  return out
}
