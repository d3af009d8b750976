/**
 * Offer negotiation (SPEC §4): revisions, accept / counter / decline / withdraw / expire.
 * The author of the current revision has agreed to it; the counterparty may accept (naming the revision) or counter.
 */
import { badState, DomainError, fail } from './errors.ts'
import { type Terms, type TermsInput, type TermsPolicy, validateTerms } from './terms.ts'
import { DAY_MS, type DecisionContext, type Effects, noEffects } from './types.ts'

export const OFFER_TTL_MS = 14 * DAY_MS

export type OfferStatus = 'open' | 'accepted' | 'declined' | 'withdrawn' | 'expired'

export interface OfferRevision {
  readonly revision: number
  readonly authorId: string
  readonly terms: Terms
  readonly createdAt: number
}

export interface Offer {
  readonly id: string
  readonly status: OfferStatus
  readonly clientId: string
  readonly freelancerId: string
  readonly revisions: readonly OfferRevision[]
  readonly contractId: string | null
  readonly expiresAt: number
  readonly createdAt: number
  readonly updatedAt: number
}

export const currentRevision = (o: Offer): OfferRevision => o.revisions[o.revisions.length - 1]!

export type OfferCommand =
  /** the terms as sent: checked (SPEC §4) once the actor may counter, so a stranger learns nothing from a 400 */
  | { readonly type: 'counter'; readonly terms: TermsInput; readonly policy: TermsPolicy }
  | { readonly type: 'accept'; readonly revision: number }
  | { readonly type: 'decline' }
  | { readonly type: 'withdraw' }
  | { readonly type: 'expire' }

export interface OfferDecision extends Effects {
  readonly offer: Offer
}

const parties = (o: Offer) => [o.clientId, o.freelancerId]

export function createOffer(
  input: { authorId: string; counterpartyId: string; role: 'client' | 'freelancer'; terms: Terms },
  ctx: DecisionContext,
): OfferDecision {
  if (input.authorId === input.counterpartyId) {
    fail('counterparty_unknown', 'You cannot open an offer to yourself.', 'counterparty_email')
  }
  const clientId = input.role === 'client' ? input.authorId : input.counterpartyId
  const freelancerId = input.role === 'client' ? input.counterpartyId : input.authorId
  const offer: Offer = {
    id: ctx.newId('off'),
    status: 'open',
    clientId,
    freelancerId,
    revisions: [{ revision: 1, authorId: input.authorId, terms: input.terms, createdAt: ctx.now }],
    contractId: null,
    expiresAt: ctx.now + OFFER_TTL_MS,
    createdAt: ctx.now,
    updatedAt: ctx.now,
  }
  const fx = noEffects()
  fx.events.push({ type: 'offer.created', object: 'offer', objectId: offer.id, audience: parties(offer) })
  fx.timers.set.push(expiryTimer(offer))
  return { offer, ...fx }
}

const expiryTimer = (o: Offer) => ({
  key: `offer_expiry:${o.id}`,
  kind: 'offer_expiry' as const,
  runAt: o.expiresAt,
  payload: { offerId: o.id },
})

/**
 * Who may act on an offer's current revision (SPEC §5's role check, 403): its author withdraws it, the other party
 * counters, accepts or declines it. Null when `actorId`, a party, may.
 */
export function offerRoleRefusal(
  offer: Offer,
  actorId: string,
  command: 'counter' | 'accept' | 'decline' | 'withdraw',
): DomainError | null {
  const authorOnly = command === 'withdraw'
  const author = currentRevision(offer).authorId
  if (authorOnly ? actorId === author : actorId !== author) return null
  return new DomainError(
    'actor_not_allowed',
    authorOnly
      ? 'Only the author of the current revision may withdraw it.'
      : 'The author of the current revision has already agreed to it; the other party answers.',
  )
}

/**
 * Decides a command on an open offer. `accept` returns the accepted offer; the caller creates the contract from
 * `currentRevision(offer).terms` in the same transaction (see contract.ts `createContract`).
 */
export function decideOffer(offer: Offer, cmd: OfferCommand, ctx: DecisionContext): OfferDecision {
  const actorId = ctx.actor.kind === 'system' ? null : ctx.actor.id
  if (cmd.type !== 'expire') {
    if (actorId === null || !parties(offer).includes(actorId)) return fail('resource_missing', 'No such offer.')
    const refused = offerRoleRefusal(offer, actorId, cmd.type)
    if (refused) throw refused
  }
  // the command's own rules (400) come after who may act (404, 403) and before the state (409): SPEC §10
  const counterTerms = cmd.type === 'counter' ? validateTerms(cmd.terms, cmd.policy) : null
  if (offer.status !== 'open') badState('offer', offer.status, cmd.type)
  // Past its expiry an offer is expired even if the expiry timer has not run yet.
  if (cmd.type !== 'expire' && ctx.now >= offer.expiresAt) badState('offer', 'expired', cmd.type)
  const fx = noEffects()
  const emit = (type: string) => fx.events.push({ type, object: 'offer', objectId: offer.id, audience: parties(offer) })
  const base = { ...offer, updatedAt: ctx.now }
  switch (cmd.type) {
    case 'counter': {
      const revision = currentRevision(offer).revision + 1
      const next: Offer = {
        ...base,
        revisions: [...offer.revisions, { revision, authorId: actorId!, terms: counterTerms!, createdAt: ctx.now }],
        expiresAt: ctx.now + OFFER_TTL_MS,
      }
      emit('offer.countered')
      fx.timers.set.push(expiryTimer(next))
      return { offer: next, ...fx }
    }
    case 'accept': {
      const current = currentRevision(offer).revision
      if (cmd.revision !== current) {
        throw new DomainError(
          'offer_revision_stale',
          `Revision ${cmd.revision} is not the current one; the offer is at revision ${current}.`,
          'revision',
        )
      }
      emit('offer.accepted')
      fx.timers.cancel.push(`offer_expiry:${offer.id}`)
      return { offer: { ...base, status: 'accepted', contractId: ctx.newId('ctr') }, ...fx }
    }
    case 'decline':
    case 'withdraw': {
      const status = cmd.type === 'decline' ? 'declined' : 'withdrawn'
      emit(`offer.${status}`)
      fx.timers.cancel.push(`offer_expiry:${offer.id}`)
      return { offer: { ...base, status }, ...fx }
    }
    case 'expire': {
      if (ctx.now < offer.expiresAt) return { offer, ...fx }
      emit('offer.expired')
      return { offer: { ...base, status: 'expired' }, ...fx }
    }
    default:
      return cmd satisfies never
  }
}
