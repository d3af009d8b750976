/**
 * Contract and milestone use cases (SPEC §5–6): each loads the contract, asks the domain, and commits the decision
 * in one transaction. The client's available credit is read inside the transaction that spends it.
 */
import { type ContractCommand, decideContract } from '../domain/contract-commands.ts'
import type { Contract } from '../domain/contract-model.ts'
import type { ContractDecision } from '../domain/contract-work.ts'
import { type DisputeCommand, decideDispute } from '../domain/dispute-commands.ts'
import { available } from '../domain/ledger.ts'
import { decideMilestone, type MilestoneCommand } from '../domain/milestone-commands.ts'
import type { Actor } from '../domain/types.ts'
import { spendableBalance } from '../store/repos/ledger-repo.ts'
import { contractFor } from './access.ts'
import { type App, type IdempotentResponse, run, type Tx } from './app.ts'

type WithoutCredit<T> = T extends { credit: bigint } ? Omit<T, 'credit'> : T

/** The object a command names: a milestone, refund request, dispute, amendment or the contract itself. */
function targetOf(cmd: { type: string } & Record<string, unknown>, contractId?: string): string {
  for (const k of ['milestoneId', 'refundRequestId', 'disputeId', 'amendmentId']) {
    if (typeof cmd[k] === 'string') return cmd[k] as string
  }
  const ids = cmd.milestoneIds as string[] | undefined
  return contractId ?? ids?.[0] ?? ''
}

async function decideAndCommit(
  tx: Tx,
  target: string,
  what: string,
  decide: (c: Contract) => Promise<ContractDecision> | ContractDecision,
  action: string,
  paymentMethod?: string,
  said?: { reason?: string | null; message?: string | null },
) {
  const before = await contractFor(tx.db, target, tx.actor, what, tx.locks)
  const d = await decide(before.value)
  await tx.commitContract(before, d, action, paymentMethod, said)
  return d.contract
}

export async function milestoneCommand(
  app: App,
  actor: Actor,
  cmd: WithoutCredit<MilestoneCommand>,
  opts: { idem?: IdempotentResponse | undefined; paymentMethod?: string | undefined; contractId?: string } = {},
) {
  return run(app, { actor, idem: opts.idem }, async (tx) => {
    const target = opts.contractId ?? targetOf(cmd as never)
    return decideAndCommit(
      tx,
      target,
      cmd.type.includes('refund_') ? 'refund request' : 'milestone',
      async (c) => {
        // the client's credit pays a funding and a bonus first
        const credit =
          cmd.type === 'fund' || (cmd.type === 'approve' && cmd.bonus !== null)
            ? await spendableBalance(tx.db, available(c.clientId), c.currency, tx.locks)
            : 0n
        return decideMilestone(c, { ...cmd, credit } as MilestoneCommand, tx.ctx())
      },
      `milestone.${cmd.type}`,
      opts.paymentMethod,
      'reason' in cmd ? { reason: cmd.reason } : cmd.type === 'approve' ? { message: cmd.message } : {},
    )
  })
}

export async function disputeCommand(app: App, actor: Actor, cmd: DisputeCommand, idem?: IdempotentResponse) {
  return run(app, { actor, idem }, (tx) =>
    decideAndCommit(
      tx,
      targetOf(cmd as never),
      cmd.type === 'open_dispute' ? 'milestone' : 'dispute',
      (c) => decideDispute(c, cmd, tx.ctx()),
      `dispute.${cmd.type}`,
    ),
  )
}

export async function contractCommand(
  app: App,
  actor: Actor,
  target: string,
  cmd: ContractCommand,
  idem?: IdempotentResponse,
) {
  return run(app, { actor, idem }, (tx) =>
    decideAndCommit(
      tx,
      target,
      cmd.type.includes('amendment') ? 'amendment' : 'contract',
      (c) => decideContract(c, cmd, tx.ctx()),
      `contract.${cmd.type}`,
      undefined,
      cmd.type === 'end' ? { reason: cmd.reason } : {},
    ),
  )
}
