/**
 * SPEC §5 orders the checks: authentication (401), visibility (404), role (403), validation (400), state (409).
 * Schema validation runs before a handler, so when a request fails it, this asks the two questions that come
 * first — may the caller see the object, and is the command theirs — and answers 404 or 403 instead. Only
 * failing requests pay for it. The role comes from the milestone process table and the offer's own rule, not from
 * a second list.
 */
import type { FastifyRequest } from 'fastify'
import { contractFor, offerFor } from '../app/access.ts'
import type { App } from '../app/app.ts'
import { roleOf } from '../domain/contract-model.ts'
import { DomainError } from '../domain/errors.ts'
import { MILESTONE_PROCESS, type MilestoneCommandName } from '../domain/milestone-process.ts'
import { offerRoleRefusal } from '../domain/offer.ts'
import { actorOf } from './auth.ts'

const COMMAND_OF_ROUTE: Readonly<Record<string, MilestoneCommandName>> = {
  '/v1/contracts/:id/fund': 'fund',
  '/v1/milestones/:id/fund': 'fund',
  '/v1/milestones/:id/submit': 'submit',
  '/v1/milestones/:id/request_changes': 'request_changes',
  '/v1/milestones/:id/approve': 'approve',
  '/v1/milestones/:id/request_refund': 'request_refund',
  '/v1/milestones/:id/refund': 'refund',
  '/v1/refund_requests/:id/accept': 'accept_refund',
  '/v1/refund_requests/:id/decline': 'decline_refund',
  '/v1/milestones/:id/disputes': 'open_dispute',
}

const OFFER_COMMAND_OF_ROUTE: Readonly<Record<string, 'counter' | 'accept' | 'decline' | 'withdraw'>> = {
  '/v1/offers/:id/counter': 'counter',
  '/v1/offers/:id/accept': 'accept',
  '/v1/offers/:id/decline': 'decline',
  '/v1/offers/:id/withdraw': 'withdraw',
}

const CONTRACT_SCOPED = /^(ctr|ms|rfr|dsp|amd)_/

/** The 404 or 403 that outranks a validation error, if any. */
export async function outranking(app: App, request: FastifyRequest): Promise<DomainError | null> {
  const id = (request.params as { id?: unknown } | undefined)?.id
  if (!request.user || typeof id !== 'string') return null
  const actor = actorOf(request)
  try {
    if (id.startsWith('off_')) {
      const { value: offer } = await offerFor(app.store.db, id, actor)
      const command = OFFER_COMMAND_OF_ROUTE[request.routeOptions.url ?? '']
      return command ? offerRoleRefusal(offer, actor.id, command) : null
    }
    if (!CONTRACT_SCOPED.test(id)) return null
    const { value: contract } = await contractFor(app.store.db, id, actor)
    const command = COMMAND_OF_ROUTE[request.routeOptions.url ?? '']
    if (!command) return null
    const { actor: who } = MILESTONE_PROCESS[command]
    const role = roleOf(contract, actor.id)
    const allowed = who === 'party' ? role !== null : role === who
    return allowed ? null : new DomainError('actor_not_allowed', `Only the ${who} may ${command.replaceAll('_', ' ')}.`)
  } catch (e) {
    if (e instanceof DomainError && e.code === 'resource_missing') return e
    return null
  }
}
