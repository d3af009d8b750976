/** What each side receives, computed with the domain's own split functions (the numbers the ledger will post). */
import { fee, splitEscrow } from '../../../src/domain/money.ts'
import type { Contract, Milestone } from '../api/types'

const fees = (c: Contract) => ({ clientFeeBps: c.client_fee_bps, serviceFeeBps: c.service_fee_bps })

/** Funding a milestone charges its amount plus the client fee. */
export const fundingCharge = (c: Contract, amount: number) => {
  const f = fee(BigInt(amount), c.client_fee_bps)
  return { fee: Number(f), total: amount + Number(f) }
}

export interface ApprovalPreview {
  release: number
  freelancerNet: number
  serviceFee: number
  platformKeeps: number
  /** principal + client fee that goes back to the client (through a refund request), 0 with rework */
  refundToClient: number
  stayInEscrow: number
  bonusCharge: number
}

/** An approval releasing `release` (≤ escrow) with an optional bonus; `rest` says what happens to what is left. */
export function approvalPreview(
  c: Contract,
  m: Milestone,
  release: number,
  bonus: number,
  rest: 'refund' | 'rework',
): ApprovalPreview {
  const r = BigInt(Math.max(0, Math.min(release, m.escrow_amount)))
  const s = splitEscrow(BigInt(m.escrow_amount), BigInt(m.escrow_fee_amount), r, fees(c), BigInt(m.released_amount))
  const b = BigInt(Math.max(0, bonus))
  const bonusClientFee = fee(b, c.client_fee_bps)
  const bonusServiceFee = fee(b, c.service_fee_bps)
  const leftover = s.refundPrincipal + s.refundFee
  return {
    release: Number(r),
    freelancerNet: Number(s.release.freelancerNet + b - bonusServiceFee),
    serviceFee: Number(s.release.serviceFee + bonusServiceFee),
    platformKeeps: Number(s.release.serviceFee + s.release.clientFee + bonusServiceFee + bonusClientFee),
    refundToClient: rest === 'rework' && s.refundPrincipal > 0n ? 0 : Number(leftover),
    stayInEscrow: rest === 'rework' ? Number(s.refundPrincipal) : 0,
    bonusCharge: Number(b + bonusClientFee),
  }
}

/** Resolving a dispute (or a refund of the rest): release r, the rest with its fee back to the client. */
export function resolutionPreview(c: Contract, m: Milestone, release: number) {
  return approvalPreview(c, m, release, 0, 'refund')
}
