/**
 * The webhook item of SPEC §11, tested as an attacker would: webhook URLs that point inside (loopback, private,
 * link-local or reserved networks, in every spelling of an address) are refused unless
 * TRANCHE_WEBHOOK_ALLOW_PRIVATE is set. The other hardening items are in the other `hardening-*.test.ts` files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isInternalAddress } from '../../src/jobs/url-guard.ts'
import { call, startEnv, type TestEnv } from '../support/harness.ts'
import { type Person, show, signUp, snapshot } from './fixtures.ts'

describe('webhook URLs (TRANCHE_WEBHOOK_ALLOW_PRIVATE unset)', () => {
  let env: TestEnv
  let open: TestEnv
  let u: Person
  beforeAll(async () => {
    env = await startEnv('sqlite', { TRANCHE_WEBHOOK_ALLOW_PRIVATE: '' })
    open = await startEnv('sqlite', { TRANCHE_WEBHOOK_ALLOW_PRIVATE: '1' })
    u = await signUp(env, 'hooks')
  })
  afterAll(async () => {
    await env?.close()
    await open?.close()
  })

  const REFUSED = [
    'ftp://example.com/hook',
    'file:///etc/passwd',
    'javascript:alert(1)//x',
    'gopher://127.0.0.1:25/x',
    'http://localhost/hook',
    'http://LOCALHOST:8080/hook',
    'http://127.0.0.1/hook',
    'http://127.1/hook',
    'http://2130706433/hook',
    'http://0x7f000001/hook',
    'http://0177.0.0.1/hook',
    'http://0.0.0.0/hook',
    'http://[::1]/hook',
    'http://[::]/hook',
    'http://[::ffff:127.0.0.1]/hook',
    'http://[::ffff:7f00:1]/hook',
    'http://[0:0:0:0:0:ffff:169.254.169.254]/latest/meta-data',
    'http://[::127.0.0.1]/hook',
    'http://[64:ff9b::a00:1]/hook',
    'http://[2002:7f00:1::]/hook',
    'http://[fd00::1]/hook',
    'http://[fe80::1]/hook',
    'http://[febf::1]/hook',
    'http://[ff02::1]/hook',
    'http://10.0.0.1/hook',
    'http://172.16.5.4/hook',
    'http://192.168.1.1/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://100.64.0.1/hook',
    'http://198.18.0.1/hook',
    'http://224.0.0.1/hook',
    'http://255.255.255.255/hook',
    'https://user:pass@93.184.216.34/hook',
    'http://no-such-host.invalid/hook',
  ]

  it('refuses schemes other than http(s), and hosts on loopback, private, link-local or reserved networks', async () => {
    const before = await snapshot(env)
    const accepted: string[] = []
    for (const url of REFUSED) {
      const r = await call(env, 'POST', '/v1/webhook_endpoints', {
        token: u.token,
        body: { url, enabled_events: ['*'] },
      })
      if (r.status !== 400 || r.body?.error?.param !== 'url') accepted.push(`${url} → ${show(r)}`)
    }
    expect(accepted).toEqual([])
    expect(await snapshot(env)).toBe(before)
  })

  it('accepts a public address', async () => {
    for (const url of ['https://93.184.216.34/hook', 'http://[2606:2800:220:1:248:1893:25c8:1946]/hook']) {
      const r = await call(env, 'POST', '/v1/webhook_endpoints', {
        token: u.token,
        body: { url, enabled_events: ['*'] },
      })
      expect(r.status, show(r)).toBe(201)
    }
  })

  it('accepts loopback and private hosts only with TRANCHE_WEBHOOK_ALLOW_PRIVATE', async () => {
    const v = await signUp(open, 'private')
    for (const url of ['http://localhost:9/hook', 'http://127.0.0.1:9/hook', 'http://10.0.0.1/hook']) {
      const r = await call(open, 'POST', '/v1/webhook_endpoints', {
        token: v.token,
        body: { url, enabled_events: ['*'] },
      })
      expect(r.status, show(r)).toBe(201)
    }
    const r = await call(open, 'POST', '/v1/webhook_endpoints', {
      token: v.token,
      body: { url: 'ftp://127.0.0.1/x', enabled_events: ['*'] },
    })
    expect(r.status).toBe(400)
  })

  it('classifies addresses (IPv4, IPv6, IPv4-mapped and embedded forms)', () => {
    for (const ip of [
      '127.0.0.1',
      '10.1.2.3',
      '::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:a9fe:a9fe',
      'fe80::1',
      'fc00::1',
      '::',
      '0.0.0.0',
      'not-an-ip',
    ])
      expect(isInternalAddress(ip), ip).toBe(true)
    for (const ip of ['93.184.216.34', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])
      expect(isInternalAddress(ip), ip).toBe(false)
  })
})
