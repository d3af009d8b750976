/**
 * Demo data (`npm start -- --demo`, SPEC §1): three accounts, contracts with milestones in every state (an ended
 * contract's cancelled ones too) and offers open, accepted and declined, made
 * through the real use cases (offers, contracts, accounts) so every cent is in the ledger and every step is in the
 * audit log and the event feed. Idempotent: when the marker user (the demo client) exists, nothing is seeded again.
 */
import { DomainError } from '../domain/errors.ts'
import type { TermsInput } from '../domain/terms.ts'
import type { Actor } from '../domain/types.ts'
import { contractFor } from './access.ts'
import { createUser } from './accounts.ts'
import type { App } from './app.ts'
import { contractCommand, disputeCommand, milestoneCommand } from './contracts.ts'
import { offerCommand, openOffer } from './offers.ts'

export interface DemoAccount {
  readonly role: 'client' | 'freelancer' | 'admin'
  readonly email: string
  readonly password: string
  readonly name: string
}

export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  { role: 'client', email: 'client@demo.tranche.test', password: 'demo-client-pass', name: 'Carla Client' },
  {
    role: 'freelancer',
    email: 'freelancer@demo.tranche.test',
    password: 'demo-freelancer-pass',
    name: 'Felix Freelancer',
  },
  { role: 'admin', email: 'admin@demo.tranche.test', password: 'demo-admin-pass', name: 'Ada Admin' },
]

/** Set once this process has seeded (or found) the demo data; `GET /v1/demo` answers it. */
let seeded: readonly DemoAccount[] | null = null

/** The demo accounts, or null when this process is not running in demo mode. */
export function demoAccounts(): readonly DemoAccount[] | null {
  return seeded
}

type Line = { title: string; amount?: number; entries?: number; deposit?: boolean; description?: string }

function terms(
  title: string,
  mode: TermsInput['paymentMode'],
  lines: Line[],
  extra: Partial<TermsInput> = {},
): TermsInput {
  return {
    title,
    description: `${title} — demo contract.`,
    currency: 'USD',
    paymentMode: mode,
    reviewDays: 14,
    revisionLimit: 3,
    unitName: null,
    unitPrice: null,
    ...extra,
    milestones: lines.map((l) => ({
      title: l.title,
      description: l.description ?? '',
      acceptanceCriteria: `${l.title} is delivered as described.`,
      amount: l.amount === undefined ? null : BigInt(l.amount),
      dueDate: null,
      deposit: l.deposit ?? false,
      entries: l.entries ?? null,
    })),
  }
}

export async function seedDemo(app: App): Promise<void> {
  const users = {} as Record<DemoAccount['role'], Actor & { kind: 'user' | 'admin'; id: string }>
  for (const a of DEMO_ACCOUNTS) {
    try {
      const u = await createUser(app, {
        email: a.email,
        password: a.password,
        name: a.name,
        timeZone: a.role === 'freelancer' ? 'Europe/Lisbon' : 'America/New_York',
        admin: a.role === 'admin',
      })
      users[a.role] = { kind: a.role === 'admin' ? 'admin' : 'user', id: u.id }
    } catch (e) {
      // The demo client is the marker: when it exists, this database was seeded before.
      if (a.role === 'client' && e instanceof DomainError && e.code === 'email_taken') {
        seeded = DEMO_ACCOUNTS
        logAccounts(app, 'demo data already present')
        return
      }
      throw e
    }
  }
  const client = users.client
  const freelancer = users.freelancer
  const clientEmail = DEMO_ACCOUNTS[0]!.email

  /** An offer from the freelancer, accepted by the client: the new contract's id. */
  const contract = async (t: TermsInput) => {
    const offer = await openOffer(app, freelancer, { role: 'freelancer', counterpartyEmail: clientEmail, terms: t })
    const accepted = await offerCommand(app, client, offer.id, { type: 'accept', revision: offer.revision })
    return accepted!.contract_id!
  }
  /** The contract as the client sees it, through the same access check as the API. */
  const load = async (contractId: string) => (await contractFor(app.store.db, contractId, client, 'contract')).value
  const ids = async (contractId: string) =>
    [...(await load(contractId)).milestones].sort((a, b) => a.position - b.position).map((m) => m.id)
  const fund = (contractId: string, milestoneIds: string[]) =>
    milestoneCommand(app, client, { type: 'fund', milestoneIds }, { contractId })
  const submit = (milestoneId: string, message: string, entries: number[] | null = null) =>
    milestoneCommand(app, freelancer, {
      type: 'submit',
      milestoneId,
      message,
      links: ['https://example.com/demo-delivery'],
      entries,
    })
  const approve = (
    milestoneId: string,
    amount: bigint | null = null,
    extra: { acceptedEntries?: number[]; rest?: 'refund' | 'rework'; message?: string } = {},
  ) =>
    milestoneCommand(app, client, {
      type: 'approve',
      milestoneId,
      amount,
      acceptedEntries: extra.acceptedEntries ?? null,
      bonus: null,
      rest: extra.rest ?? 'refund',
      message: extra.message ?? null,
    })

  // 1. Website redesign: a deposit (released), released, submitted (review clock running), funded, pending.
  const web = await contract(
    terms('Website redesign', 'by_milestone', [
      { title: 'Deposit', amount: 40_000, deposit: true },
      { title: 'Wireframes', amount: 30_000 },
      { title: 'Visual design', amount: 60_000 },
      { title: 'Front-end build', amount: 90_000 },
      { title: 'Launch and handover', amount: 40_000 },
    ]),
  )
  const [, wire, visual] = await ids(web)
  await fund(web, (await ids(web)).slice(0, 4))
  await submit(wire!, 'Wireframes for all 8 pages, desktop and mobile.')
  await approve(wire!, null, { message: 'Clear and complete — thank you.' })
  await submit(visual!, 'Visual design in Figma, with the style guide.')

  // 2. Mobile app MVP: changes requested, a refund request open, pending.
  const mobile = await contract(
    terms('Mobile app MVP', 'by_milestone', [
      { title: 'Prototype', amount: 50_000 },
      { title: 'Push notifications', amount: 35_000 },
      { title: 'App store release', amount: 45_000 },
    ]),
  )
  const [proto, push] = await ids(mobile)
  await fund(mobile, [proto!, push!])
  await submit(proto!, 'Clickable prototype, iOS build on TestFlight.')
  await milestoneCommand(app, client, {
    type: 'request_changes',
    milestoneId: proto!,
    message: 'The onboarding skips the permissions screen; please add it.',
  })
  await milestoneCommand(app, client, {
    type: 'request_refund',
    milestoneId: push!,
    reason: 'We dropped push notifications from the first release.',
  })

  // 3. Logo design (by_project): a dispute in negotiation.
  const logo = await contract(terms('Logo design', 'by_project', [{ title: 'Logo and brand mark', amount: 80_000 }]))
  const [logoMs] = await ids(logo)
  await fund(logo, [logoMs!])
  await submit(logoMs!, 'Three logo directions and the final files.')
  const opened = await disputeCommand(app, client, {
    type: 'open_dispute',
    milestoneId: logoMs!,
    reason: 'The final files are missing the vector versions.',
    releaseAmount: 40_000n,
  })
  const logoDispute = opened.milestones.find((m) => m.id === logoMs)!.disputeId!
  await disputeCommand(app, freelancer, {
    type: 'propose',
    disputeId: logoDispute,
    releaseAmount: 72_000n,
    message: 'The vectors are in the second folder; I can re-export them today.',
  })

  // 4. Data migration: a dispute in arbitration, and a refunded milestone.
  const data = await contract(
    terms('Data migration', 'by_milestone', [
      { title: 'Schema mapping', amount: 25_000 },
      { title: 'Migration run', amount: 55_000 },
    ]),
  )
  const [mapping, runMs] = await ids(data)
  await fund(data, [mapping!, runMs!])
  await submit(runMs!, 'Migration done; 12 of 14 tables verified.')
  const disputed = await disputeCommand(app, client, {
    type: 'open_dispute',
    milestoneId: runMs!,
    reason: 'Two tables lost rows during the migration.',
    releaseAmount: 10_000n,
  })
  await disputeCommand(app, freelancer, {
    type: 'escalate',
    disputeId: disputed.milestones.find((m) => m.id === runMs)!.disputeId!,
  })
  await milestoneCommand(app, client, {
    type: 'request_refund',
    milestoneId: mapping!,
    reason: 'Done in-house after all.',
  })
  const openRequest = (await load(data)).refundRequests.find((r) => r.milestoneId === mapping && r.status === 'open')!
  await milestoneCommand(app, freelancer, { type: 'accept_refund', refundRequestId: openRequest.id })

  // 5. Blog articles (by_entry): 3 of 5 articles accepted, 2 sent back for rework; a second batch pending.
  const blog = await contract(
    terms(
      'Blog articles',
      'by_entry',
      [
        { title: 'First batch', entries: 5 },
        { title: 'Second batch', entries: 5 },
      ],
      { unitName: 'article', unitPrice: 12_000n },
    ),
  )
  const [batch1] = await ids(blog)
  await fund(blog, [batch1!])
  await submit(batch1!, 'Five articles, 1,200 words each.', [1, 2, 3, 4, 5])
  await approve(batch1!, null, { acceptedEntries: [1, 2, 3], rest: 'rework' })

  // 6. Translation: completed — one milestone released, one refunded by the freelancer.
  const tr = await contract(
    terms('Translation EN→PT', 'by_milestone', [
      { title: 'Website copy', amount: 20_000 },
      { title: 'Legal pages', amount: 15_000 },
    ]),
  )
  const [copy, legal] = await ids(tr)
  await fund(tr, [copy!, legal!])
  await submit(copy!, 'All website copy translated.')
  await approve(copy!)
  await milestoneCommand(app, freelancer, {
    type: 'refund',
    milestoneId: legal!,
    reason: 'Legal pages need a certified translator; refunding.',
  })

  // 7. An offer under negotiation: the client's revision 1, the freelancer's counter (revision 2).
  const podcast = await openOffer(app, client, {
    role: 'client',
    counterpartyEmail: DEMO_ACCOUNTS[1]!.email,
    terms: terms('Podcast editing, season 2', 'by_milestone', [
      { title: 'Episodes 1–4', amount: 40_000 },
      { title: 'Episodes 5–8', amount: 40_000 },
    ]),
  })
  await offerCommand(app, freelancer, podcast.id, {
    type: 'counter',
    terms: terms(
      'Podcast editing, season 2',
      'by_milestone',
      [
        { title: 'Pilot episode', amount: 12_000 },
        { title: 'Episodes 2–4', amount: 36_000 },
        { title: 'Episodes 5–8', amount: 48_000 },
      ],
      { reviewDays: 7 },
    ),
  })

  // 8. Illustrations: ended by the client before any money moved — the contract ended, its milestones cancelled.
  const art = await contract(
    terms('Book illustrations', 'by_milestone', [
      { title: 'Sketches', amount: 25_000 },
      { title: 'Final art', amount: 75_000 },
    ]),
  )
  await contractCommand(app, client, art, { type: 'end', reason: 'The book was postponed.' })

  // 9. A declined offer.
  const audit = await openOffer(app, freelancer, {
    role: 'freelancer',
    counterpartyEmail: clientEmail,
    terms: terms('Accessibility audit', 'by_project', [{ title: 'Audit report', amount: 60_000 }]),
  })
  await offerCommand(app, client, audit.id, { type: 'decline' })

  seeded = DEMO_ACCOUNTS
  logAccounts(app, 'demo data seeded')
}

function logAccounts(app: App, msg: string) {
  app.log.info(
    { accounts: DEMO_ACCOUNTS.map((a) => ({ role: a.role, email: a.email, demo_password: a.password })) },
    msg,
  )
  // The log redacts *.password; the demo passwords are public on purpose, so print them plainly too.
  for (const a of DEMO_ACCOUNTS) console.log(`demo ${a.role.padEnd(10)} ${a.email}  password: ${a.password}`)
}
