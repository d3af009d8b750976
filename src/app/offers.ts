/** Offer use cases (SPEC §4): open, counter, accept (creating the contract), decline, withdraw, expire. */
import { createContract } from '../domain/contract-model.ts'
import { fail } from '../domain/errors.ts'
import { createOffer, currentRevision, decideOffer, type OfferCommand } from '../domain/offer.ts'
import { type TermsInput, validateTerms } from '../domain/terms.ts'
import type { Actor } from '../domain/types.ts'
import { loadOffer } from '../store/repos/aggregate-repo.ts'
import { offerFor } from './access.ts'
import { type App, type IdempotentResponse, run } from './app.ts'
import { presentOffer } from './present.ts'

export async function openOffer(
  app: App,
  actor: Actor & { kind: 'user' | 'admin' },
  input: { role: 'client' | 'freelancer'; counterpartyEmail: string; terms: TermsInput },
  idem?: IdempotentResponse,
) {
  const terms = validateTerms(input.terms, { minimumMajor: app.config.minimumMilestoneMajor })
  return run(app, { actor, idem }, async (tx) => {
    const other = await tx.db
      .selectFrom('users')
      .select('id')
      .where('email_lower', '=', input.counterpartyEmail.trim().toLowerCase()) // as sign-up and login take it
      .executeTakeFirst()
    if (!other) fail('counterparty_unknown', 'No registered user has that email.', 'counterparty_email')
    const d = createOffer({ authorId: actor.id, counterpartyId: other!.id, role: input.role, terms }, tx.ctx())
    await tx.commitOffer(null, d, 'offer.create')
    return presentOffer(d.offer)
  })
}

export async function offerCommand(
  app: App,
  actor: Actor,
  offerId: string,
  cmd: { type: 'counter'; terms: TermsInput } | Exclude<OfferCommand, { type: 'counter' }>,
  idem?: IdempotentResponse,
) {
  const decided: OfferCommand =
    cmd.type === 'counter' ? { ...cmd, policy: { minimumMajor: app.config.minimumMilestoneMajor } } : cmd
  return run(app, { actor, idem }, async (tx) => {
    const before =
      cmd.type === 'expire'
        ? await loadOffer(tx.db, offerId, tx.locks)
        : await offerFor(tx.db, offerId, actor, tx.locks)
    if (!before) return null
    const d = decideOffer(before.value, decided, tx.ctx())
    if (d.offer === before.value) return presentOffer(before.value)
    await tx.commitOffer(before, d, `offer.${cmd.type}`)
    if (cmd.type === 'accept') {
      const made = createContract(
        {
          id: d.offer.contractId!,
          offerId: d.offer.id,
          clientId: d.offer.clientId,
          freelancerId: d.offer.freelancerId,
          terms: currentRevision(d.offer).terms,
          fees: { clientFeeBps: app.config.clientFeeBps, serviceFeeBps: app.config.serviceFeeBps },
        },
        tx.ctx(),
      )
      await tx.commitContract(null, made, 'contract.create')
    }
    return presentOffer(d.offer)
  })
}
