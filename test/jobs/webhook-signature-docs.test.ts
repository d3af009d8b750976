/**
 * The signature check that docs/api.md gives webhook receivers works on what the worker sends: one `v1`, and two
 * while a rolled secret is still valid (the old and the new one each accepted, a third secret refused).
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { sign } from '../../src/jobs/webhook-signature.ts'

type Verify = (secret: string, rawBody: string, header: string, toleranceSeconds?: number) => boolean

/** The ```js block of docs/api.md's Webhooks section, run as a receiver would. */
function documentedVerify(): Verify {
  const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8')
  const code = /```js\n([\s\S]*?)```/.exec(doc.slice(doc.indexOf('## Webhooks')))?.[1]
  if (!code) throw new Error('docs/api.md has no js block in its Webhooks section')
  const body = code.replace(/^import .*$/m, '').replace(/^export /m, '')
  return new Function('createHmac', 'timingSafeEqual', `${body}\nreturn verifyTranche`)(createHmac, timingSafeEqual)
}

describe('the documented webhook signature check', () => {
  const verify = documentedVerify()
  const body = JSON.stringify({ id: 'evt_1', object: 'event', type: 'milestone.funded' })
  const now = Math.floor(Date.now() / 1000)

  it('accepts the one secret of an endpoint, and refuses another secret or an edited body', () => {
    const header = sign('whsec_a', body, now)
    expect(verify('whsec_a', body, header)).toBe(true)
    expect(verify('whsec_b', body, header)).toBe(false)
    expect(verify('whsec_a', `${body} `, header)).toBe(false)
  })

  it('accepts either secret while a rolled one still signs, and refuses an old time stamp', () => {
    const header = sign('whsec_new', body, now, 'whsec_old')
    expect(verify('whsec_new', body, header)).toBe(true)
    expect(verify('whsec_old', body, header)).toBe(true)
    expect(verify('whsec_other', body, header)).toBe(false)
    expect(verify('whsec_new', body, sign('whsec_new', body, now - 600))).toBe(false)
  })
})
