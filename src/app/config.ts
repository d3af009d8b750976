/** Configuration from the environment (SPEC §11), validated at start with a one-line message for a bad value. */

export interface Config {
  readonly port: number
  readonly host: string
  readonly sqlitePath: string
  readonly databaseUrl: string | null
  readonly clock: 'system' | 'manual'
  readonly adminEmail: string | null
  readonly adminPassword: string | null
  readonly worker: 'inline' | 'off'
  readonly trustProxy: boolean
  readonly webhookAllowPrivate: boolean
  readonly clientFeeBps: number
  readonly serviceFeeBps: number
  readonly minimumMilestoneMajor: bigint
  readonly logLevel: string
  /** SQLite: commands that arrive together share one transaction and one fsync */
  readonly groupCommit: boolean
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>

function int(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return dflt
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`)
  const v = Number(raw)
  if (v < min || v > max) throw new ConfigError(`${name} must be from ${min} to ${max}, got ${v}`)
  return v
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], dflt: T): T {
  const raw = env[name]
  if (raw === undefined || raw === '') return dflt
  if (!allowed.includes(raw as T)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`)
  return raw as T
}

/** A switch: 1/true/yes/on or 0/false/no/off (unset or empty: off); anything else is a mistake, not "off". */
function flag(env: Env, name: string): boolean {
  const v = (env[name] ?? '').trim().toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(v)) return true
  if (['', '0', 'false', 'no', 'off'].includes(v)) return false
  throw new ConfigError(`${name} must be on or off (1/true/yes/on, 0/false/no/off), got "${env[name]}"`)
}

export function loadConfig(env: Env = process.env): Config {
  const databaseUrl = env.DATABASE_URL || null
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL')
  }
  const adminEmail = env.TRANCHE_ADMIN_EMAIL || null
  const adminPassword = env.TRANCHE_ADMIN_PASSWORD || null
  if ((adminEmail === null) !== (adminPassword === null)) {
    throw new ConfigError('TRANCHE_ADMIN_EMAIL and TRANCHE_ADMIN_PASSWORD go together')
  }
  if (adminPassword !== null && adminPassword.length < 10)
    throw new ConfigError('TRANCHE_ADMIN_PASSWORD must have at least 10 characters')
  return {
    port: int(env, 'PORT', 3000, 0, 65535),
    host: env.HOST || '0.0.0.0',
    sqlitePath: env.TRANCHE_DB || './data/tranche.db',
    databaseUrl,
    clock: oneOf(env, 'TRANCHE_CLOCK', ['system', 'manual'] as const, 'system'),
    adminEmail,
    adminPassword,
    worker: oneOf(env, 'TRANCHE_WORKER', ['inline', 'off'] as const, 'inline'),
    trustProxy: flag(env, 'TRANCHE_TRUST_PROXY'),
    webhookAllowPrivate: flag(env, 'TRANCHE_WEBHOOK_ALLOW_PRIVATE'),
    clientFeeBps: int(env, 'TRANCHE_CLIENT_FEE_BPS', 500, 0, 10_000),
    serviceFeeBps: int(env, 'TRANCHE_SERVICE_FEE_BPS', 1000, 0, 10_000),
    minimumMilestoneMajor: BigInt(int(env, 'TRANCHE_MIN_MILESTONE', 5, 1, 1_000_000)),
    groupCommit: oneOf(env, 'TRANCHE_GROUP_COMMIT', ['on', 'off'] as const, 'on') === 'on',
    logLevel: oneOf(
      env,
      'TRANCHE_LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      'info',
    ),
  }
}
