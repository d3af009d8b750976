/** Reputation and the milestone planner (SPEC §8), over the recorded history of the user's contracts. */
import type { Contract } from '../domain/contract-model.ts'
import { DomainError, fail } from '../domain/errors.ts'
import { amountText, isSupportedCurrency, minimumMilestone } from '../domain/money.ts'
import { type Plan, planMilestones } from '../domain/planner.ts'
import { clientRecordOf, reputationOf } from '../domain/reputation.ts'
import type { PaymentMode } from '../domain/terms.ts'
import type { App } from './app.ts'
import { decode } from './json-codec.ts'

async function contractsOf(app: App, userId: string): Promise<Contract[]> {
  const rows = await app.store.db
    .selectFrom('contracts')
    .select('data')
    .where((eb) => eb.or([eb('client_id', '=', userId), eb('freelancer_id', '=', userId)]))
    .execute()
  return rows.map((r) => decode<Contract>(r.data))
}

export async function reputation(app: App, userId: string) {
  const exists = await app.store.db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst()
  if (!exists) fail('resource_missing', `No such user: ${userId}.`)
  return reputationOf(userId, await contractsOf(app, userId))
}

export async function plan(
  app: App,
  input: {
    total: bigint
    currency: string
    paymentMode: PaymentMode
    counterpartyId: string | null
    upfrontBps: number | null
    /** by_entry: how many entries at what unit price (either may be missing from the request) */
    entries: { count: number | null; unitPrice: bigint | null } | null
  },
) {
  if (!isSupportedCurrency(input.currency))
    fail('currency_unsupported', `Currency ${input.currency} is not supported.`, 'currency')
  const min = minimumMilestone(input.currency, app.config.minimumMilestoneMajor)
  if (input.total < min)
    fail('amount_invalid', `The total is below the minimum milestone of ${amountText(min, input.currency)}.`, 'total')
  let entries: { count: number; unitPrice: bigint } | null = null
  if (input.paymentMode === 'by_entry') {
    const count = input.entries?.count ?? null
    const unitPrice = input.entries?.unitPrice ?? null
    if (count === null) fail('parameter_missing', 'by_entry plans need entries and unit_price.', 'entries')
    if (unitPrice === null) fail('parameter_missing', 'by_entry plans need entries and unit_price.', 'unit_price')
    entries = { count: count!, unitPrice: unitPrice! }
    if (BigInt(entries.count) * entries.unitPrice !== input.total) {
      fail('amount_invalid', 'The total must be entries × unit_price.', 'total')
    }
  }
  let record = null
  if (input.counterpartyId) {
    await reputation(app, input.counterpartyId)
    record = clientRecordOf(input.counterpartyId, await contractsOf(app, input.counterpartyId))
  }
  let p: Plan
  try {
    p = planMilestones({
      total: input.total,
      currency: input.currency,
      paymentMode: input.paymentMode,
      minimum: min,
      client: record,
      ...(input.upfrontBps !== null ? { upfrontBps: input.upfrontBps } : {}),
      ...(entries ? { entries } : {}),
    })
  } catch (e) {
    if (e instanceof RangeError) throw new DomainError('parameter_invalid', e.message)
    throw e
  }
  const n = (x: bigint) => Number(x)
  return {
    object: 'plan' as const,
    total: n(input.total),
    currency: input.currency,
    payment_mode: input.paymentMode,
    trust_level: p.trust_level,
    thresholds: p.thresholds,
    milestones: p.milestones.map((m) => ({
      title: m.title,
      amount: n(m.amount),
      deposit: m.deposit,
      ...(m.entries !== undefined ? { entries: m.entries } : {}),
    })),
    deposit_advice: p.deposit_advice,
    comparison: {
      recommended: p.comparison.recommended,
      reasons: p.comparison.reasons,
      by_project: {
        ...p.comparison.by_project,
        largest_at_risk: n(p.comparison.by_project.largest_at_risk),
        upfront: n(p.comparison.by_project.upfront),
      },
      by_milestone: {
        ...p.comparison.by_milestone,
        largest_at_risk: n(p.comparison.by_milestone.largest_at_risk),
        upfront: n(p.comparison.by_milestone.upfront),
      },
    },
    reasons: p.reasons,
  }
}
