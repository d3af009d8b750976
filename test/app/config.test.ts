/** Configuration is validated at start (SPEC §11): a bad value is a clear error, never a silent default. */
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/app/config.ts'
import { listeningUrl } from '../../src/main.ts'

const refused = (env: Record<string, string>) => {
  try {
    loadConfig(env)
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError)
    return (e as Error).message
  }
  throw new Error(`accepted ${JSON.stringify(env)}`)
}

describe('configuration', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      sqlitePath: './data/tranche.db',
      databaseUrl: null,
      clock: 'system',
      worker: 'inline',
      trustProxy: false,
      webhookAllowPrivate: false,
      clientFeeBps: 500,
      serviceFeeBps: 1000,
      minimumMilestoneMajor: 5n,
      groupCommit: true,
      logLevel: 'info',
    })
  })

  it('reads switches as on or off, and refuses anything else instead of reading it as off', () => {
    for (const on of ['1', 'true', 'YES', 'on']) expect(loadConfig({ TRANCHE_TRUST_PROXY: on }).trustProxy).toBe(true)
    for (const off of ['', '0', 'false', 'no', 'Off'])
      expect(loadConfig({ TRANCHE_WEBHOOK_ALLOW_PRIVATE: off }).webhookAllowPrivate).toBe(false)
    expect(refused({ TRANCHE_TRUST_PROXY: 'maybe' })).toMatch(/TRANCHE_TRUST_PROXY must be on or off.*"maybe"/)
    expect(refused({ TRANCHE_WEBHOOK_ALLOW_PRIVATE: 'enabled' })).toMatch(/TRANCHE_WEBHOOK_ALLOW_PRIVATE/)
  })

  it('refuses values out of range or not in the list, naming the variable', () => {
    expect(refused({ PORT: '70000' })).toMatch(/PORT/)
    expect(refused({ TRANCHE_CLOCK: 'fast' })).toMatch(/TRANCHE_CLOCK must be one of system, manual/)
    expect(refused({ TRANCHE_CLIENT_FEE_BPS: '10001' })).toMatch(/TRANCHE_CLIENT_FEE_BPS/)
    expect(refused({ DATABASE_URL: 'mysql://x' })).toMatch(/DATABASE_URL/)
    expect(refused({ TRANCHE_ADMIN_EMAIL: 'a@b.c' })).toMatch(/go together/)
  })
})

describe('the address printed at start', () => {
  it('is the one the server bound: its real port, IPv6 in brackets, a wildcard as localhost', () => {
    expect(listeningUrl({ address: '0.0.0.0', family: 'IPv4', port: 36861 })).toBe('http://localhost:36861')
    expect(listeningUrl({ address: '::', family: 'IPv6', port: 3000 })).toBe('http://localhost:3000')
    expect(listeningUrl({ address: '::1', family: 'IPv6', port: 4104 })).toBe('http://[::1]:4104')
    expect(listeningUrl({ address: '127.0.0.1', family: 'IPv4', port: 80 })).toBe('http://127.0.0.1:80')
  })
})
