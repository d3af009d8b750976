/**
 * The movement check of the model: what one accepted decision (or fired timer) did to the money of each milestone,
 * compared with what its command named and approved.
 */
import type { Contract, Milestone } from '../../src/domain/contract-model.ts'
import type { ContractDecision } from '../../src/domain/contract-work.ts'
import type { TimerSpec } from '../../src/domain/types.ts'
import type { PureModel } from './model-pure.ts'
import { describeCommand, openEntries, type Resolved } from './model-resolve.ts'
import { assert } from './model-violation.ts'

/**
 * Money moves only where and as the command says: on the milestones it names (any of them for ending a contract,
 * none for amendments), releasing exactly the approved amount, the dispute's resolution, or the full escrow.
 */
export function checkMovement(
  model: PureModel,
  c: Contract,
  d: ContractDecision,
  r: Resolved | null,
  timer: TimerSpec | null,
) {
  const before = new Map(c.milestones.map((m) => [m.id, m]))
  const moneyOf = (m: Milestone | undefined) =>
    m ? [m.escrow, m.escrowFee, m.released, m.refunded, m.bonus].join('/') : ''
  let targets: readonly string[] | 'all'
  const what = r && r.kind !== 'advance' ? describeCommand(r) : `timer ${timer?.key}`
  if (timer) targets = timer.payload.milestoneId ? [timer.payload.milestoneId] : []
  else if (r?.kind === 'milestone') {
    const cmd = r.cmd
    if (cmd.type === 'fund') targets = cmd.milestoneIds
    else if (cmd.type === 'accept_refund' || cmd.type === 'decline_refund') {
      targets = c.refundRequests.filter((x) => x.id === cmd.refundRequestId).map((x) => x.milestoneId)
    } else targets = [cmd.milestoneId]
  } else if (r?.kind === 'dispute') {
    const cmd = r.cmd
    targets =
      cmd.type === 'open_dispute'
        ? [cmd.milestoneId]
        : c.disputes.filter((x) => x.id === cmd.disputeId).map((x) => x.milestoneId)
  } else if (r?.kind === 'contract') targets = r.cmd.type === 'end' ? 'all' : []
  else targets = []
  for (const m of d.contract.milestones) {
    const was = before.get(m.id)
    if (!was) {
      assert(
        model,
        m.state === 'pending' && moneyOf(m) === '0/0/0/0/0',
        () => `${what} added milestone ${m.id} with money or state ${m.state}`,
      )
      continue
    }
    assert(
      model,
      m.amount === was.amount || was.state === 'pending',
      () => `${what} changed the amount of ${was.state} milestone ${m.id}`,
    )
    if (targets !== 'all' && !targets.includes(m.id)) {
      assert(
        model,
        moneyOf(m) === moneyOf(was),
        () => `${what} moved money on milestone ${m.id}, which it does not name`,
      )
    }
  }
  for (const e of d.entries) {
    assert(
      model,
      targets === 'all' || targets.includes(e.milestoneId ?? ''),
      () => `${what} posted entry ${e.kind} on ${e.milestoneId}, which it does not name`,
    )
  }
  const after = (id: string) => d.contract.milestones.find((m) => m.id === id)!
  const releasedBy = (id: string) => after(id).released - (before.get(id)?.released ?? 0n)
  if (r?.kind === 'milestone' && r.cmd.type === 'approve') {
    const was = before.get(r.cmd.milestoneId)!
    const byEntry = c.paymentMode === 'by_entry'
    let want = r.cmd.amount ?? was.escrow
    if (byEntry) {
      const n = r.cmd.acceptedEntries?.length ?? openEntries(was).length
      want = BigInt(n) * (c.unitPrice ?? 0n)
      if (want > was.escrow) want = was.escrow
    }
    assert(
      model,
      releasedBy(was.id) === want,
      () => `${what} released ${releasedBy(was.id)}; the client approved ${want}`,
    )
    const m = after(was.id)
    if (m.escrow > 0n) {
      const rework = byEntry && r.cmd.rest === 'rework'
      assert(
        model,
        rework ? m.state === 'changes_requested' : m.state === 'refund_requested',
        () => `${what} left ${m.escrow} in escrow with the milestone ${m.state}`,
      )
      if (!rework) {
        const rr = d.contract.refundRequests.find((x) => x.id === m.refundRequestId)
        assert(
          model,
          rr?.amount === m.escrow,
          () => `${what}: the refund request for the rest is over ${rr?.amount}, not ${m.escrow}`,
        )
      }
    }
  }
  if (timer?.kind === 'auto_release') {
    const was = before.get(timer.payload.milestoneId!)
    if (was && after(was.id).state !== was.state) {
      assert(
        model,
        releasedBy(was.id) === was.escrow && after(was.id).state === 'released',
        () => `auto-release of ${was.id} released ${releasedBy(was.id)} of ${was.escrow}`,
      )
    }
  }
  for (const dsp of d.contract.disputes) {
    const old = c.disputes.find((x) => x.id === dsp.id)
    if (dsp.status !== 'resolved' || old?.status === 'resolved') continue
    const res = dsp.resolution!
    const was = before.get(dsp.milestoneId)!
    assert(
      model,
      releasedBy(was.id) === res.releaseAmount && after(was.id).refunded - was.refunded === res.refundAmount,
      () =>
        `${what}: dispute ${dsp.id} resolved as ${res.releaseAmount}/${res.refundAmount} but released ${releasedBy(was.id)}`,
    )
    let want: bigint | undefined
    if (res.by === 'default')
      want = [...old!.proposals].reverse().find((p) => p.by === old!.openedBy && p.status === 'open')?.releaseAmount
    if (res.by === 'agreement' && r?.kind === 'dispute' && r.cmd.type === 'accept_proposal') {
      const pid = r.cmd.proposalId
      want = old!.proposals.find((p) => p.id === pid)?.releaseAmount
    }
    if (res.by === 'arbitration' && r?.kind === 'dispute' && r.cmd.type === 'decide') want = r.cmd.releaseAmount
    assert(
      model,
      want === res.releaseAmount,
      () => `${what}: dispute ${dsp.id} resolved by ${res.by} releasing ${res.releaseAmount}; expected ${want}`,
    )
  }
}
