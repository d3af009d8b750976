/**
 * Stored aggregates are JSON with bigint amounts kept exact: a bigint is written as {"$big":"123"} and read back as
 * 123n. User text is always a JSON string, so it can never be mistaken for one.
 */
export function encode(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? { $big: v.toString() } : v))
}

export function decode<T>(text: string): T {
  return JSON.parse(text, (_k, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v)
      if (keys.length === 1 && keys[0] === '$big' && typeof v.$big === 'string') return BigInt(v.$big)
    }
    return v
  }) as T
}
