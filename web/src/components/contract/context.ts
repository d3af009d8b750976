/** What every part of the contract page needs: the contract, the viewer, their role, and money helpers. */
import { createContext, useContext } from 'react'
import type { Contract, Milestone, Role, User } from '../../api/types'

export interface ContractView {
  c: Contract
  me: User
  /** null for the admin (or anyone else who may look) */
  role: Role | null
  isAdmin: boolean
}

export const ContractCtx = createContext<ContractView | null>(null)

export function useContractView(): ContractView {
  const v = useContext(ContractCtx)
  if (!v) throw new Error('useContractView outside the contract page')
  return v
}

/** "you", "Fred Freelancer (the freelancer)", "the admin": who did something, as the viewer reads it. */
export const partyName = (v: ContractView, userId: string) =>
  userId === v.me.id
    ? 'you'
    : userId === v.c.client_id
      ? `${v.c.parties.client.name} (the client)`
      : userId === v.c.freelancer_id
        ? `${v.c.parties.freelancer.name} (the freelancer)`
        : userId === 'admin'
          ? 'the admin'
          : 'someone'

export const openEntries = (m: Milestone) =>
  Array.from({ length: m.entries ?? 0 }, (_, i) => i + 1).filter((n) => !m.accepted_entries.includes(n))

export const contractKeys = (id: string) => [['contract', id], ['contracts'], ['balances'], ['events', 'head']]
