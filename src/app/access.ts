/** Who may see what (SPEC §2): parties and the admin see a contract; anyone else is told it does not exist. */

import type { Kysely } from 'kysely'
import type { Contract } from '../domain/contract-model.ts'
import { fail } from '../domain/errors.ts'
import type { Offer } from '../domain/offer.ts'
import type { Actor } from '../domain/types.ts'
import { contractIdOf, loadContract, loadOffer, type Versioned } from '../store/repos/aggregate-repo.ts'
import type { DB } from '../store/schema.ts'

export function canSee(v: { clientId: string; freelancerId: string }, actor: Actor, adminToo = true): boolean {
  if (actor.kind === 'system') return true
  if (actor.id === v.clientId || actor.id === v.freelancerId) return true
  return adminToo && actor.kind === 'admin'
}

/** The contract holding `objectId` (a contract, milestone, refund request, dispute or amendment id), if visible. */
export async function contractFor(
  db: Kysely<DB>,
  objectId: string,
  actor: Actor,
  what = 'object',
  lock = false,
): Promise<Versioned<Contract>> {
  const id = objectId.startsWith('ctr_') ? objectId : await contractIdOf(db, objectId)
  const v = id ? await loadContract(db, id, lock) : null
  if (!v || !canSee(v.value, actor)) return fail('resource_missing', `No such ${what}: ${objectId}.`)
  return v
}

export async function offerFor(db: Kysely<DB>, id: string, actor: Actor, lock = false): Promise<Versioned<Offer>> {
  const v = await loadOffer(db, id, lock)
  if (!v || !canSee(v.value, actor, false)) return fail('resource_missing', `No such offer: ${id}.`)
  return v
}
