/**
 * Running one due timer as a normal command: its row is deleted in the same transaction as its effects, guarded by
 * its deadline, so a timer that two workers both picked up — or that runs again after a crash — fires exactly once.
 */
import { decideContract } from '../domain/contract-commands.ts'
import { decideOffer } from '../domain/offer.ts'
import type { Actor } from '../domain/types.ts'
import { prepared } from '../store/prepared.ts'
import { loadContract, loadOffer } from '../store/repos/aggregate-repo.ts'
import type { DueTimer } from '../store/repos/timer-repo.ts'
import { type App, run } from './app.ts'
import { releaseHold } from './money.ts'

const SYSTEM: Actor = { kind: 'system' }

/**
 * Returns false when the timer had already run or was re-set meanwhile. The offer or contract is read (and locked)
 * before the timer's row is deleted: a command locks its aggregate first and then the timers it sets or cancels,
 * and the other order would deadlock with it on PostgreSQL — aborting a command that may have charged the rail.
 */
export async function runTimer(app: App, t: DueTimer): Promise<boolean> {
  return run(app, { actor: SYSTEM, replayable: true }, async (tx) => {
    const offer = t.kind === 'offer_expiry' ? await loadOffer(tx.db, t.payload.offerId!, tx.locks) : null
    const contract =
      t.kind === 'offer_expiry' || t.kind === 'hold_release'
        ? null
        : await loadContract(tx.db, t.payload.contractId!, tx.locks)
    const del = await deleteDue(tx.db, { key: t.key, runAt: BigInt(t.runAt) })
    if (Number(del.numAffectedRows) !== 1) return false
    switch (t.kind) {
      case 'offer_expiry': {
        const before = offer
        if (!before) return true
        const d = decideOffer(before.value, { type: 'expire' }, tx.ctx())
        if (d.offer !== before.value) await tx.commitOffer(before, d, 'offer.expire')
        return true
      }
      case 'hold_release':
        await releaseHold(tx, t.payload)
        return true
      default: {
        const before = contract
        if (!before) return true
        const d = decideContract(before.value, { type: 'timer', timer: t }, tx.ctx())
        if (d.events.length || d.entries.length || d.timers.set.length || d.timers.cancel.length) {
          await tx.commitContract(before, d, `timer.${t.kind}`)
        }
        return true
      }
    }
  })
}

const deleteDue = prepared((db, a: { key: string; runAt: bigint }) =>
  db.deleteFrom('timers').where('key', '=', a.key).where('run_at', '=', a.runAt),
)
