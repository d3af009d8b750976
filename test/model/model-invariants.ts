/**
 * The invariants the model checks after every step and every fired timer (SPEC §3, §5, §6, §7): the ledger sums to
 * zero, balances stay in range, earnings on hold match the hold timers, and each contract's milestones, refund
 * requests and disputes agree with the ledger, the books and the timer table.
 */
import { type Contract, isTerminal } from '../../src/domain/contract-model.ts'
import { escrow, PLATFORM, pending, RAIL } from '../../src/domain/ledger.ts'
import { fee } from '../../src/domain/money.ts'
import { emptyBook } from './model-ledger.ts'
import type { PureModel } from './model-pure.ts'
import { assert } from './model-violation.ts'

/** Every invariant, on the whole state. */
export function checkInvariants(model: PureModel) {
  // The ledger: every currency sums to zero; users, escrows and fees never below zero.
  const perCurrency = new Map<string, bigint>()
  for (const [key, bal] of model.ledger) {
    const [cur, account] = key.split(' ') as [string, string]
    perCurrency.set(cur, (perCurrency.get(cur) ?? 0n) + bal)
    if (account.startsWith('user:') || account.startsWith('escrow:') || account === PLATFORM) {
      assert(model, bal >= 0n, () => `${account} in ${cur} is below zero: ${bal}`)
    }
    if (account === RAIL)
      assert(model, bal <= 0n, () => `ext:rail in ${cur} is positive: ${bal} (more paid out than came in)`)
  }
  for (const [cur, total] of perCurrency)
    assert(model, total === 0n, () => `accounts in ${cur} sum to ${total}, not zero`)

  // Earnings on hold: each user's pending balance is exactly what the hold timers will move to available.
  const held = new Map<string, bigint>()
  for (const t of model.timers.values()) {
    assert(model, t.runAt >= model.now, () => `timer ${t.key} is overdue (${t.runAt} < now ${model.now})`)
    if (t.kind !== 'hold_release') continue
    const key = `${t.payload.currency} ${pending(t.payload.userId!)}`
    assert(model, BigInt(t.payload.amount!) > 0n, () => `hold timer ${t.key} holds ${t.payload.amount}`)
    held.set(key, (held.get(key) ?? 0n) + BigInt(t.payload.amount!))
  }
  for (const [key, bal] of model.ledger) {
    if (!key.endsWith(':pending')) continue
    assert(
      model,
      bal === (held.get(key) ?? 0n),
      () => `${key} is ${bal} but the hold timers hold ${held.get(key) ?? 0n}`,
    )
  }
  for (const [key, h] of held)
    assert(
      model,
      model.ledger.get(key) === h,
      () => `hold timers hold ${h} for ${key} which is ${model.ledger.get(key) ?? 0n}`,
    )

  for (const c of model.contracts) checkContract(model, c)
}

/** The invariants of one contract, its milestones, refund requests and disputes. */
function checkContract(model: PureModel, c: Contract) {
  const cur = c.currency
  const cf = (x: bigint) => fee(x, c.clientFeeBps)
  for (const m of c.milestones) {
    const name = `${c.id}/${m.id} (${m.state}, ${cur}, amount ${m.amount}, fees ${c.clientFeeBps}/${c.serviceFeeBps})`
    const held = model.balance(cur, escrow(m.id))
    assert(
      model,
      held === m.escrow + m.escrowFee,
      () => `escrow:${m.id} holds ${held} but ${name} reports ${m.escrow} + fee ${m.escrowFee}`,
    )
    assert(
      model,
      m.escrow >= 0n && m.escrowFee >= 0n,
      () => `${name} has a negative escrow ${m.escrow} / fee ${m.escrowFee}`,
    )
    assert(model, m.released >= 0n && m.refunded >= 0n && m.bonus >= 0n, () => `${name} has a negative amount`)
    if (isTerminal(m.state)) {
      assert(
        model,
        m.escrow === 0n && m.escrowFee === 0n,
        () => `${name} is terminal but holds ${m.escrow} + fee ${m.escrowFee}`,
      )
      assert(model, m.settledAt !== null, () => `${name} is terminal without settledAt`)
    }
    const b = model.books.get(m.id) ?? emptyBook()
    if (m.fundedAt !== null) {
      assert(
        model,
        m.released + m.refunded + m.escrow === m.amount,
        () => `${name}: released ${m.released} + refunded ${m.refunded} + escrow ${m.escrow} ≠ amount`,
      )
      assert(model, b.fundCount === 1, () => `${name} was funded by ${b.fundCount} entries`)
      assert(
        model,
        b.fundCharge === m.amount + cf(m.amount),
        () => `${name} was charged ${b.fundCharge}, not amount + client fee = ${m.amount + cf(m.amount)}`,
      )
      // §3: the platform keeps the client fee only in proportion to what is released.
      const net = b.clientPaid - b.clientRefunded - (m.escrow + m.escrowFee)
      assert(
        model,
        net === m.released + cf(m.released),
        () =>
          `${name}: the client paid ${net} net for a release of ${m.released}; expected ${m.released + cf(m.released)}`,
      )
      if (!isTerminal(m.state)) {
        assert(
          model,
          m.escrowFee === cf(m.amount) - cf(m.released),
          () => `${name} holds client fee ${m.escrowFee}; expected ${cf(m.amount) - cf(m.released)}`,
        )
      }
      assert(
        model,
        b.platformFromRelease + b.pendingFromRelease === m.released + cf(m.released),
        () =>
          `${name}: releases paid ${b.pendingFromRelease} + fees ${b.platformFromRelease} for ${m.released} released`,
      )
      const serviceFees = m.released - b.pendingFromRelease
      const err = serviceFees * 10_000n - m.released * BigInt(c.serviceFeeBps)
      const bound = 5_000n * BigInt(b.releaseCount)
      assert(
        model,
        serviceFees >= 0n && err <= bound && -err <= bound,
        () => `${name}: service fees ${serviceFees} on ${m.released} released in ${b.releaseCount} releases`,
      )
      if (m.deposit)
        assert(
          model,
          m.state === 'released' && m.released === m.amount,
          () => `${name} is a funded deposit not released at once`,
        )
    } else {
      assert(model, m.state === 'pending' || m.state === 'cancelled', () => `${name} was never funded`)
      assert(
        model,
        m.escrow === 0n && m.escrowFee === 0n && m.released === 0n && m.refunded === 0n,
        () => `${name} has money without funding`,
      )
      assert(
        model,
        b.fundCount === 0 && b.releaseCount === 0 && b.clientRefunded === 0n,
        () => `${name} has ledger entries without funding`,
      )
    }
    const bonuses = model.bonuses.get(m.id) ?? []
    const sumB = bonuses.reduce((s, x) => s + x, 0n)
    assert(model, m.bonus === sumB, () => `${name} reports bonus ${m.bonus}; ${sumB} was given`)
    const wantPaid = bonuses.reduce((s, x) => s + x + cf(x), 0n)
    const wantNet = bonuses.reduce((s, x) => s + x - fee(x, c.serviceFeeBps), 0n)
    assert(
      model,
      b.clientPaidBonus === wantPaid,
      () => `${name}: bonuses charged ${b.clientPaidBonus}; expected ${wantPaid}`,
    )
    assert(
      model,
      b.pendingFromBonus === wantNet,
      () => `${name}: bonuses paid ${b.pendingFromBonus} to the freelancer; expected ${wantNet}`,
    )
    assert(
      model,
      b.clientPaidBonus === b.pendingFromBonus + b.platformFromBonus,
      () => `${name}: bonus money does not add up`,
    )

    // States and their clocks: nothing can get stuck without a timer that will move it (SPEC §5, §6).
    assert(
      model,
      m.revisionsUsed <= c.revisionLimit,
      () => `${name} used ${m.revisionsUsed} of ${c.revisionLimit} revisions`,
    )
    const timer = (key: string) => model.timers.get(key)
    switch (m.state) {
      case 'released':
        assert(model, m.released > 0n, () => `${name} is released with nothing released`)
        break
      case 'refunded':
        assert(
          model,
          m.released === 0n && m.refunded === m.amount,
          () => `${name} is refunded but released ${m.released}`,
        )
        break
      case 'submitted': {
        const t = timer(`auto_release:${m.id}`)
        assert(
          model,
          m.reviewDeadline !== null && m.reviewDeadline >= model.now,
          () => `${name} is past its review deadline ${m.reviewDeadline} and not released`,
        )
        assert(
          model,
          t !== undefined && t.runAt === m.reviewDeadline,
          () => `${name} has no auto-release timer at its review deadline`,
        )
        break
      }
      case 'refund_requested': {
        const rr = c.refundRequests.find((x) => x.id === m.refundRequestId)
        assert(
          model,
          rr !== undefined && rr.status === 'open' && rr.milestoneId === m.id,
          () => `${name} has no open refund request`,
        )
        assert(
          model,
          rr!.expiresAt >= model.now,
          () => `${name}: refund request ${rr!.id} expired and was not executed`,
        )
        assert(
          model,
          timer(`refund_expiry:${rr!.id}`)?.runAt === rr!.expiresAt,
          () => `${name}: refund request ${rr!.id} has no expiry timer`,
        )
        break
      }
      case 'disputed': {
        const d = c.disputes.find((x) => x.id === m.disputeId)
        assert(
          model,
          d !== undefined && d.status !== 'resolved' && d.milestoneId === m.id,
          () => `${name} has no live dispute`,
        )
        assert(
          model,
          d!.escrowAmount === m.escrow,
          () => `${name}: dispute ${d!.id} is over ${d!.escrowAmount} but ${m.escrow} is held`,
        )
        if (d!.status === 'awaiting_response') {
          assert(
            model,
            timer(`dispute_response:${d!.id}`)?.runAt === d!.responseDeadline && d!.responseDeadline >= model.now,
            () => `${name}: dispute ${d!.id} has no response deadline timer`,
          )
        }
        if (d!.status === 'negotiation') {
          assert(
            model,
            d!.negotiationDeadline !== null &&
              timer(`dispute_negotiation:${d!.id}`)?.runAt === d!.negotiationDeadline &&
              d!.negotiationDeadline >= model.now,
            () => `${name}: dispute ${d!.id} has no negotiation deadline timer`,
          )
        }
        break
      }
      case 'funded':
      case 'changes_requested':
        if (m.dueDate !== null)
          assert(model, timer(`dormancy:${m.id}`) !== undefined, () => `${name} has a due date but no dormancy timer`)
        break
      default:
        break
    }
  }
  for (const rr of c.refundRequests) {
    if (rr.status !== 'open') continue
    const m = c.milestones.find((x) => x.id === rr.milestoneId)
    assert(
      model,
      m?.state === 'refund_requested' && m.refundRequestId === rr.id,
      () => `refund request ${rr.id} is open but its milestone is ${m?.state}`,
    )
  }
  for (const d of c.disputes) {
    const m = c.milestones.find((x) => x.id === d.milestoneId)
    if (d.status === 'resolved') {
      const r = d.resolution
      assert(
        model,
        r !== null && r.releaseAmount + r.refundAmount === d.escrowAmount,
        () => `dispute ${d.id} resolved without splitting its escrow`,
      )
      assert(
        model,
        m !== undefined && isTerminal(m.state),
        () => `dispute ${d.id} is resolved but its milestone is ${m?.state}`,
      )
    } else {
      assert(
        model,
        m?.state === 'disputed' && m.disputeId === d.id,
        () => `dispute ${d.id} is ${d.status} but its milestone is ${m?.state}`,
      )
    }
  }
  const allTerminal = c.milestones.every((m) => isTerminal(m.state))
  if (c.status === 'active')
    assert(model, !allTerminal, () => `${c.id} is active with every milestone terminal (not completed)`)
  if (c.status === 'completed') assert(model, allTerminal, () => `${c.id} is completed with live milestones`)
}
