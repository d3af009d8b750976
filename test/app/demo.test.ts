/**
 * The demo data (`npm run demo`): made through the real use cases, milestones in every state, contracts and offers
 * in each status the README promises, a ledger that verifies; seeding again adds nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/app/config.ts'
import { seedDemo } from '../../src/app/demo.ts'
import { decode } from '../../src/app/json-codec.ts'
import { verify } from '../../src/app/verify.ts'
import { type Contract, MILESTONE_STATES } from '../../src/domain/contract-model.ts'
import type { Offer } from '../../src/domain/offer.ts'
import { createRuntime, type Runtime } from '../../src/main.ts'
import { silentLog } from '../support/harness.ts'

describe('demo data', () => {
  let rt: Runtime
  beforeAll(async () => {
    rt = await createRuntime(loadConfig({ TRANCHE_DB: ':memory:', TRANCHE_CLOCK: 'manual' }), { log: silentLog })
    await seedDemo(rt.app)
  }, 60_000)
  afterAll(async () => rt.close())

  const contracts = async () =>
    (await rt.store.db.selectFrom('contracts').select('data').execute()).map((r) => decode<Contract>(r.data))

  it('has milestones in every state, contracts active, completed and ended, offers open, accepted and declined', async () => {
    const all = await contracts()
    // every state the domain has, so a new one needs a demo contract too
    expect(new Set(all.flatMap((c) => c.milestones.map((m) => m.state)))).toEqual(new Set(MILESTONE_STATES))
    expect(new Set(all.map((c) => c.status))).toEqual(new Set(['active', 'completed', 'ended']))
    // an approval with the client's note, as the freelancer sees it on the milestone
    expect(all.flatMap((c) => c.milestones.flatMap((m) => (m.approval ? [m.approval.message] : [])))).toEqual([
      'Clear and complete — thank you.',
    ])
    const offers = (await rt.store.db.selectFrom('offers').select('data').execute()).map((r) => decode<Offer>(r.data))
    expect(new Set(offers.map((o) => o.status))).toEqual(new Set(['open', 'accepted', 'declined']))
    const report = await verify(rt.store)
    expect(report.problems).toEqual([])
  })

  it('is seeded once', async () => {
    const before = (await contracts()).length
    await seedDemo(rt.app)
    expect((await contracts()).length).toBe(before)
  })
})
