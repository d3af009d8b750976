/**
 * Stored aggregates are JSON with bigint amounts kept exact: a bigint is written as {"$big":"123"} and read back as
 * 123n. User text is always a JSON string, so it can never be mistaken for one.
 *
 * Decoding parses first and then walks the result once, replacing the {"$big"} objects in place: a `JSON.parse`
 * reviver is called for every value and costs several times the parse itself (a contract is read by every command).
 */
export function encode(value: unknown): string {
  return JSON.stringify(value, bigints)
}

const bigints = (_k: string, v: unknown) => (typeof v === 'bigint' ? { $big: v.toString() } : v)

/** The text of frozen objects that were elements of an aggregate's lists; a frozen object never changes. */
const elementTexts = new WeakMap<object, string>()

/**
 * `encode` of an aggregate (an object whose lists hold milestones, disputes…), the same text, faster when it is
 * saved again: each frozen element of its top-level lists is encoded once and its text reused. A command changes
 * one or two milestones and shares the others with the contract it read (`ContractWork`), which is frozen.
 */
export function encodeAggregate(value: object): string {
  let out = ''
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key]
    const text = Array.isArray(v) ? `[${v.map(element).join(',')}]` : encode(v)
    if (text !== undefined) out += `${out ? ',' : ''}${JSON.stringify(key)}:${text}`
  }
  return `{${out}}`
}

function element(v: unknown): string {
  if (v === null || typeof v !== 'object' || !Object.isFrozen(v)) return encode(v) ?? 'null'
  let text = elementTexts.get(v)
  if (text === undefined) {
    text = encode(v)
    elementTexts.set(v, text)
  }
  return text
}

export function decode<T>(text: string): T {
  const value: unknown = JSON.parse(text)
  return (value !== null && typeof value === 'object' ? revive(value as Json) : value) as T
}

type Json = Record<string, unknown> | unknown[]

function revive(v: Json): unknown {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i]
      if (x !== null && typeof x === 'object') v[i] = revive(x as Json)
    }
    return v
  }
  const big = v.$big
  if (typeof big === 'string' && onlyKey(v)) return BigInt(big)
  for (const k in v) {
    const x = v[k]
    if (x !== null && typeof x === 'object') v[k] = revive(x as Json)
  }
  return v
}

function onlyKey(v: Record<string, unknown>): boolean {
  for (const k in v) if (k !== '$big') return false
  return true
}
