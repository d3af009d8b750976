/**
 * The main story in a real browser, two people in two browser contexts: sign up, negotiate an offer (one
 * counter-offer), fund, submit, request changes, resubmit, approve partially, settle the rest, see the balances.
 */
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  HAS_CHROMIUM,
  hasCount,
  hasText,
  hidden,
  launchBrowser,
  type ServerEnv,
  screenshot,
  startServer,
  visible,
} from './support/env.ts'

const stamp = Date.now().toString(36)
const freelancer = { name: 'Fiona Freelancer', email: `fiona-${stamp}@e2e.test`, password: 'fiona-password-1' }
const client = { name: 'Carl Client', email: `carl-${stamp}@e2e.test`, password: 'carl-password-1' }

describe.skipIf(!HAS_CHROMIUM)('negotiate, fund, review and pay in the browser', () => {
  let env: ServerEnv
  let browser: Browser
  let f: Page
  let c: Page
  const problems: string[] = []

  beforeAll(async () => {
    ;[env, browser] = await Promise.all([startServer(), launchBrowser()])
    const open = async (tz: string) => {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, baseURL: env.url, timezoneId: tz })
      ctx.setDefaultTimeout(10_000)
      const page = await ctx.newPage()
      page.on('pageerror', (e) => problems.push(String(e)))
      return page
    }
    ;[f, c] = await Promise.all([open('Europe/Lisbon'), open('America/New_York')])
  }, 90_000)

  afterAll(async () => {
    await browser?.close()
    await env?.stop()
  })

  const signUp = async (page: Page, who: typeof client, tz: string) => {
    await page.goto('/signup')
    await page.getByLabel('Name').fill(who.name)
    await page.getByLabel('Email').fill(who.email)
    await page.getByLabel('Password').fill(who.password)
    await page.getByLabel('Time zone').selectOption(tz)
    await page.getByRole('button', { name: 'Sign up' }).click()
    await page.getByRole('heading', { name: `Hello, ${who.name}` }).waitFor()
  }

  const milestone = (page: Page, title: string) => page.locator('li.milestone').filter({ hasText: title })

  it('signs both people up, with the field errors the API would give', async () => {
    await c.goto('/signup')
    await c.getByLabel('Password').fill('short')
    await c.getByRole('button', { name: 'Sign up' }).click()
    await visible(c.getByText('A password has at least 10 characters.'))
    await signUp(f, freelancer, 'Europe/Lisbon')
    await signUp(c, client, 'America/New_York')
    // The server's own error, shown next to the field it names (error.param = email).
    const other = await f.context().browser()!.newContext({ baseURL: env.url })
    const p = await other.newPage()
    await p.goto('/signup')
    await p.getByLabel('Name').fill('Copy Cat')
    await p.getByLabel('Email').fill(client.email.toUpperCase())
    await p.getByLabel('Password').fill('another-password')
    await p.getByRole('button', { name: 'Sign up' }).click()
    await visible(p.locator('.field-invalid').filter({ hasText: 'A user with this email exists.' }))
    await other.close()
  })

  it('the freelancer composes an offer with the planner beside it', async () => {
    await f.getByRole('link', { name: 'New offer' }).first().click()
    await f.locator('input[name="counterparty_email"]').fill(client.email)
    await f.locator('input[name="title"]').fill('Landing page')
    await f.locator('textarea[name="description"]').fill('A one-page site with a contact form.')
    await f.locator('input[name="milestones[0].title"]').fill('Design')
    await f.locator('input[name="milestones[0].amount"]').fill('4')
    await f.getByRole('button', { name: 'Add a milestone' }).click()
    await f.locator('input[name="milestones[1].title"]').fill('Build')
    await f.locator('input[name="milestones[1].amount"]').fill('600')
    await f.getByRole('button', { name: 'Send offer' }).click()
    // Checked like the API checks it: a milestone is at least 5 major units.
    await visible(f.getByText('A milestone is at least USD 5.00.'))
    await f.locator('input[name="milestones[0].amount"]').fill('400')
    await f.getByLabel('Total (USD)').fill('1000')
    await f.getByRole('button', { name: 'Ask the planner' }).click()
    await visible(f.getByRole('button', { name: 'Use this plan as the milestones' }))
    await visible(f.getByRole('table', { name: 'By project vs by milestone' }))
    await screenshot(f, 'offer-composer')
    await f.getByRole('button', { name: 'Send offer' }).click()
    await f.waitForURL(/\/offers\/off_/)
    await hasText(f.locator('.parties'), `With ${client.name} ${client.email} (the client)`)
    await visible(f.getByText(`Waiting for ${client.name} to accept, counter or decline.`))
  })

  it('the client counters once; the freelancer sees what changed and accepts', async () => {
    await c.goto('/')
    await hasText(c.getByRole('region', { name: 'Open offers' }), `Landing pagewith ${freelancer.name} · revision 1`)
    await c.getByRole('link', { name: /Offer “Landing page” \(revision 1\) awaits your answer/ }).click()
    await hasText(c.locator('.parties'), `With ${freelancer.name} ${freelancer.email} (the freelancer)`)
    await visible(c.getByText(`Your turn: accept the terms of ${freelancer.name}, counter with your own, or decline.`))
    await c.getByRole('button', { name: 'Counter-offer' }).click()
    await c.locator('input[name="milestones[0].amount"]').fill('350')
    await c.getByRole('button', { name: 'Send counter-offer' }).click()
    await visible(c.getByRole('heading', { name: 'Current terms — revision 2' }))

    await f.reload()
    await visible(f.getByText(`Revision 2 by ${client.name}`))
    const diff = f.getByRole('table', { name: 'What changed from revision 1' })
    await hasText(diff.getByRole('row', { name: /Milestone 1/ }), 'Design — USD 400.00')
    await hasText(diff.getByRole('row', { name: /Milestone 1/ }), 'Design — USD 350.00')
    await hasText(diff.getByRole('row', { name: /Total/ }), 'USD 950.00')
    await screenshot(f, 'offer-negotiation')
    await f.getByRole('button', { name: 'Accept revision 2' }).click()
    await f.waitForURL(/\/contracts\/ctr_/)
    await visible(f.getByRole('heading', { name: 'Landing page' }))
    await hasText(f.locator('.parties'), `With ${client.name} ${client.email} (the client)`)
  })

  it('the client funds (a double click pays once), the freelancer submits, the client asks for changes', async () => {
    const url = new URL(f.url()).pathname
    await c.goto(url)
    await milestone(c, 'Design').getByRole('button', { name: 'Fund' }).click()
    // 350.00 + 5% client fee
    const pay = c.getByRole('button', { name: 'Pay USD 367.50 into escrow' })
    await pay.dblclick()
    await visible(milestone(c, 'Design').getByText('Funded — in escrow'))
    await hasCount(c.locator('.error-note'), 0)

    await f.reload()
    await visible(milestone(f, 'Build').getByText('Not funded yet: this work is not protected'))
    await milestone(f, 'Design').getByRole('button', { name: 'Submit work' }).click()
    await f.getByLabel('Message to the client').fill('Figma file with desktop and mobile layouts.')
    await f.getByLabel('Links (one per line)').fill('https://example.com/figma/landing')
    await f.getByRole('button', { name: 'Submit for review' }).click()
    await visible(milestone(f, 'Design').getByText('Submitted — in review'))

    await c.reload()
    await visible(milestone(c, 'Design').getByText(/auto-release in 1[34] days/))
    await milestone(c, 'Design').getByRole('button', { name: 'Request changes' }).click()
    const form = c.getByRole('form', { name: /Request changes on/ })
    await form.getByRole('button', { name: 'Request changes' }).click()
    await visible(form.getByText('Say what needs to change.'))
    await form.getByLabel('What should change').fill('Please add the pricing section.')
    await form.getByRole('button', { name: 'Request changes' }).click()
    await visible(milestone(c, 'Design').getByText('Changes requested').first())
    await visible(milestone(c, 'Design').getByText('Revisions used 1 of 3 · 2 revisions left'))
    const asked = milestone(c, 'Design').getByRole('region', { name: 'Change request' })
    await hasText(asked, 'Changes requested by you')
    await hasText(asked, 'Please add the pricing section.')
    await hasCount(milestone(c, 'Design').locator('.submission + .change-request'), 1) // in time order
  })

  it('the freelancer resubmits; the client approves part, seeing what each side receives', async () => {
    await f.reload()
    // the client's note, and what is left, on the freelancer's card
    const asked = milestone(f, 'Design').getByRole('region', { name: 'Change request' })
    await hasText(asked, `Changes requested by ${client.name}`)
    await hasText(asked, '2 revisions left')
    await hasText(asked, 'Please add the pricing section.')
    await milestone(f, 'Design').getByRole('button', { name: 'Submit work' }).click()
    await f.getByLabel('Message to the client').fill('Pricing section added.')
    await f.getByRole('button', { name: 'Submit for review' }).click()
    await visible(milestone(f, 'Design').getByText('Submitted — in review'))
    await hasText(milestone(f, 'Design').getByRole('region', { name: 'Change request' }), 'Changes were requested')
    await hasCount(milestone(f, 'Design').locator('.change-request + .submission'), 1) // the resubmission comes after

    await c.reload()
    await milestone(c, 'Design').getByRole('button', { name: 'Approve and release' }).click()
    await c.getByLabel('Part of it').check()
    await c.getByLabel('Amount to release (USD)').fill('400')
    await c.getByRole('button', { name: 'Release USD 400.00' }).click()
    await visible(c.getByText('At most USD 350.00 is held in escrow.'))
    await c.getByLabel('Amount to release (USD)').fill('300')
    const preview = c.locator('.preview')
    await hasText(preview, 'Freelancer receivesUSD 270.00')
    await hasText(preview, 'USD 30.00 service fee')
    // The rest (50.00) with its client fee (17.50 held − 15.00 kept) goes back through a refund request.
    await hasText(preview, 'Back to the clientUSD 52.50')
    await screenshot(c, 'contract-approve-preview')
    await c.getByRole('button', { name: 'Release USD 300.00' }).click()
    await visible(milestone(c, 'Design').getByText('Refund requested').first())
  })

  it('the freelancer accepts the refund of the rest; both see their balances', async () => {
    await f.reload()
    await hasText(milestone(f, 'Design').locator('.refund-request'), 'USD 50.00')
    await milestone(f, 'Design').getByRole('button', { name: 'Accept the refund' }).click()
    await f.getByRole('button', { name: 'Accept: refund the client' }).click()
    await visible(milestone(f, 'Design').getByText('Released', { exact: true }))
    await visible(milestone(f, 'Design').getByText('USD 300.00 released'))
    await visible(milestone(f, 'Design').getByText('USD 50.00 refunded'))

    await f.goto('/')
    const fb = f.getByRole('region', { name: 'Balances' })
    await hasText(fb.getByRole('row', { name: /USD/ }), 'USD 0.00USD 270.00')
    await c.goto('/')
    await hasText(
      c.getByRole('region', { name: 'Contracts as client' }).locator('li').filter({ hasText: 'Landing page' }),
      `with ${freelancer.name}`,
    )
    const cb = c.getByRole('region', { name: 'Balances' })
    await hasText(cb.getByRole('row', { name: /USD/ }), 'USD 52.50USD 0.00')
    await visible(c.getByText(/1 milestone is not funded yet on “Landing page”/))
    await screenshot(c, 'dashboard')

    await c.goto(await contractPath())
    await visible(c.getByRole('heading', { name: 'Milestones' }))
    await screenshot(c, 'contract')
    await f.goto('/money')
    await visible(f.getByText('Pending USD'))
    await screenshot(f, 'money')
    await f.goto('/notifications')
    await visible(f.getByRole('link', { name: 'Money released' }).first())
    await screenshot(f, 'notifications')
    expect(problems).toEqual([])
  })

  it('works on a narrow screen, keyboard first', async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, baseURL: env.url, isMobile: true })
    ctx.setDefaultTimeout(10_000)
    const p = await ctx.newPage()
    await p.goto('/login')
    await p.keyboard.press('Tab')
    await p.getByLabel('Email').focus()
    await p.keyboard.type(client.email)
    await p.keyboard.press('Tab')
    await p.keyboard.type(client.password)
    await p.keyboard.press('Enter')
    await p.getByRole('heading', { name: `Hello, ${client.name}` }).waitFor()
    await hidden(p.getByRole('link', { name: 'Money' }))
    await p.getByRole('button', { name: 'Menu' }).click()
    await visible(p.getByRole('link', { name: 'Money' }))
    await p.goto(await contractPath())
    await visible(p.getByRole('heading', { name: 'Landing page' }))
    const overflow = await p.evaluate('document.documentElement.scrollWidth > document.documentElement.clientWidth')
    expect(overflow).toBe(false)
    await screenshot(p, 'contract-mobile')
    await ctx.close()
  })

  it('the client approves the last milestone in full with a note; the freelancer reads it on the card', async () => {
    await c.goto(await contractPath())
    await milestone(c, 'Build').getByRole('button', { name: 'Fund' }).click()
    await c.getByRole('button', { name: /^Pay USD [\d,.]+ into escrow$/ }).click()
    await visible(milestone(c, 'Build').getByText('Funded — in escrow'))

    await f.goto(await contractPath())
    await milestone(f, 'Build').getByRole('button', { name: 'Submit work' }).click()
    await f.getByLabel('Message to the client').fill('Site deployed.')
    await f.getByRole('button', { name: 'Submit for review' }).click()
    await visible(milestone(f, 'Build').getByText('Submitted — in review'))

    await c.reload()
    await milestone(c, 'Build').getByRole('button', { name: 'Approve and release' }).click()
    await c.getByLabel('Message (optional)').fill('Great work, thank you!')
    await c.getByRole('button', { name: 'Release USD 600.00' }).click()
    await hasText(milestone(c, 'Build').getByRole('region', { name: 'Approval' }), 'Approved by you')

    await f.reload()
    const approval = milestone(f, 'Build').getByRole('region', { name: 'Approval' })
    await hasText(approval, `Approved by ${client.name}`)
    await hasText(approval, 'Great work, thank you!')
    expect(problems).toEqual([])
  })

  async function contractPath() {
    const list = await c.evaluate('fetch("/v1/contracts").then((r) => r.json())')
    return `/contracts/${(list as { data: { id: string }[] }).data[0]!.id}`
  }
})
