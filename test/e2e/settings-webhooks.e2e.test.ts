/**
 * Webhook endpoints in Settings, in the browser: an endpoint registered with a group of events (kept as a group),
 * its signing secret shown once, disabled and enabled again, and its secret rolled.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, it } from 'vitest'
import {
  HAS_CHROMIUM,
  hasText,
  hidden,
  launchBrowser,
  logIn,
  person,
  type ServerEnv,
  startServer,
  visible,
} from './support/env.ts'

describe.skipIf(!HAS_CHROMIUM)('webhook endpoints in Settings', () => {
  let env: ServerEnv
  let browser: Browser

  beforeAll(async () => {
    ;[env, browser] = await Promise.all([startServer(), launchBrowser()])
  }, 90_000)

  afterAll(async () => {
    await browser?.close()
    await env?.stop()
  })

  it('registers an endpoint for a group of events, disables and enables it, and rolls its secret', async () => {
    const me = await person(env, 'Ivy')
    const { page } = await logIn(browser, env, me)
    await page.goto('/settings')
    const section = page.getByRole('region', { name: 'Webhook endpoints' })
    // a public address written as an IP: registered without a DNS lookup (this user has no events to send)
    await section.getByLabel('Endpoint URL').fill('https://93.184.215.14/tranche')
    await section.getByLabel('Events').fill('invoice.*')
    await section.getByRole('button', { name: 'Add endpoint' }).click()
    await visible(section.getByText('invoice.* is no event type'))
    await section.getByLabel('Events').fill('milestone.*, payout.paid')
    await section.getByRole('button', { name: 'Add endpoint' }).click()
    await visible(section.getByText('copy it now: it is shown only once'))
    const row = section.locator('ul.rows li').filter({ hasText: 'https://93.184.215.14/tranche' })
    await hasText(row, 'milestone.*, payout.paid')

    await row.getByRole('button', { name: 'Disable' }).click()
    await visible(row.locator('.badge-disabled'))
    await row.getByRole('button', { name: 'Enable' }).click()
    await hidden(row.locator('.badge-disabled'))
    await visible(row.getByRole('button', { name: 'Disable' }))

    await row.getByRole('button', { name: 'Roll secret' }).click()
    // until when the old secret signs, from the answer: the default 24 hours ahead, in the user's time zone
    await visible(row.getByText(/^New signing secret \(the old one signs beside it until .*\d{1,2}:\d{2}.*\)$/))
    await visible(row.getByText(/^whsec_/))
  })
})
