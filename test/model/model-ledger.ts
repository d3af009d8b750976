/**
 * The model's in-memory double-entry ledger: posting a journal entry line by line, checking which accounts each kind
 * of entry may touch, and keeping the per-milestone books the invariants are checked against.
 */
import type { Contract } from '../../src/domain/contract-model.ts'
import { available, escrow, isBalanced, type JournalEntry, PLATFORM, pending, RAIL } from '../../src/domain/ledger.ts'
import type { PureModel } from './model-pure.ts'
import { assert } from './model-violation.ts'

/** What the journal entries of one milestone add up to so far (filled by `post`, read by the invariants). */
export interface MsBook {
  fundCount: number
  fundCharge: bigint
  clientPaid: bigint
  clientRefunded: bigint
  releaseCount: number
  pendingFromRelease: bigint
  platformFromRelease: bigint
  clientPaidBonus: bigint
  pendingFromBonus: bigint
  platformFromBonus: bigint
}

export const emptyBook = (): MsBook => ({
  fundCount: 0,
  fundCharge: 0n,
  clientPaid: 0n,
  clientRefunded: 0n,
  releaseCount: 0,
  pendingFromRelease: 0n,
  platformFromRelease: 0n,
  clientPaidBonus: 0n,
  pendingFromBonus: 0n,
  platformFromBonus: 0n,
})

export const lineOf = (e: JournalEntry, account: string) => e.lines.find((l) => l.account === account)?.amount ?? 0n

/** Posts one journal entry into the in-memory ledger, checking it line by line. */
export function post(model: PureModel, e: JournalEntry, c: Contract | null) {
  const sum = e.lines.reduce((s, l) => s + l.amount, 0n)
  assert(model, isBalanced(e) && sum === 0n, () => `journal entry ${e.id} (${e.kind}) does not balance: off by ${sum}`)
  assert(model, !model.entryIds.has(e.id), () => `journal entry id ${e.id} reused`)
  model.entryIds.add(e.id)
  assert(model, e.lines.length > 0 || e.kind === 'hold_release', () => `journal entry ${e.id} (${e.kind}) has no lines`)
  assert(
    model,
    new Set(e.lines.map((l) => l.account)).size === e.lines.length,
    () => `journal entry ${e.id} names an account twice`,
  )
  if (c) {
    assert(
      model,
      e.currency === c.currency,
      () => `journal entry ${e.id} is in ${e.currency}, the contract in ${c.currency}`,
    )
    assert(model, e.contractId === c.id, () => `journal entry ${e.id} does not name its contract`)
    checkEntryShape(model, e, c)
  }
  for (const l of e.lines) {
    assert(model, l.amount !== 0n, () => `journal entry ${e.id} has a zero line`)
    if (l.account === PLATFORM)
      assert(
        model,
        l.amount > 0n,
        () => `journal entry ${e.id} (${e.kind}) takes ${-l.amount} from platform:fees (fees negative)`,
      )
    const key = `${e.currency} ${l.account}`
    const next = (model.ledger.get(key) ?? 0n) + l.amount
    model.ledger.set(key, next)
    if (l.account.startsWith('user:')) {
      assert(
        model,
        next >= 0n,
        () => `${l.account} in ${e.currency} went below zero (${next}) with entry ${e.id} (${e.kind})`,
      )
    }
  }
}

/** Which accounts each kind of entry may touch, and the per-milestone books. */
function checkEntryShape(model: PureModel, e: JournalEntry, c: Contract) {
  const mid = e.milestoneId
  assert(
    model,
    mid !== null && c.milestones.some((m) => m.id === mid),
    () => `entry ${e.id} (${e.kind}) names no milestone of ${c.id}`,
  )
  const allowed: Record<string, string[]> = {
    fund: [available(c.clientId), RAIL, escrow(mid!)],
    release: [escrow(mid!), pending(c.freelancerId), PLATFORM],
    refund: [escrow(mid!), available(c.clientId)],
    bonus: [available(c.clientId), RAIL, pending(c.freelancerId), PLATFORM],
  }
  const ok = allowed[e.kind]
  assert(model, ok !== undefined, () => `a contract decision posted a ${e.kind} entry`)
  for (const l of e.lines) assert(model, ok!.includes(l.account), () => `${e.kind} entry ${e.id} touches ${l.account}`)
  const b = model.books.get(mid!) ?? emptyBook()
  model.books.set(mid!, b)
  const v = (acct: string) => lineOf(e, acct)
  switch (e.kind) {
    case 'fund':
      assert(
        model,
        v(available(c.clientId)) <= 0n && v(RAIL) <= 0n && v(escrow(mid!)) > 0n,
        () => `fund entry ${e.id} moves money the wrong way`,
      )
      b.fundCount++
      b.fundCharge += v(escrow(mid!))
      b.clientPaid -= v(available(c.clientId)) + v(RAIL)
      break
    case 'release':
      assert(
        model,
        v(escrow(mid!)) < 0n && v(pending(c.freelancerId)) >= 0n,
        () => `release entry ${e.id} moves money the wrong way`,
      )
      b.releaseCount++
      b.pendingFromRelease += v(pending(c.freelancerId))
      b.platformFromRelease += v(PLATFORM)
      break
    case 'refund':
      assert(
        model,
        v(escrow(mid!)) < 0n && v(available(c.clientId)) > 0n,
        () => `refund entry ${e.id} moves money the wrong way`,
      )
      b.clientRefunded += v(available(c.clientId))
      break
    case 'bonus':
      assert(
        model,
        v(available(c.clientId)) <= 0n && v(RAIL) <= 0n && v(pending(c.freelancerId)) >= 0n,
        () => `bonus entry ${e.id} moves money the wrong way`,
      )
      b.clientPaidBonus -= v(available(c.clientId)) + v(RAIL)
      b.pendingFromBonus += v(pending(c.freelancerId))
      b.platformFromBonus += v(PLATFORM)
      break
  }
}
