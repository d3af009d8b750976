/** Who is on the other side of an offer or a contract, by name and email (the API's `parties`). */
import type { Parties, Party, Role, User } from '../api/types'

/** The viewer's role and the other party; null for someone who is neither (the admin). */
export function counterparty(parties: Parties, me: Pick<User, 'id'>): { role: Role; other: Party } | null {
  if (parties.client.id === me.id) return { role: 'freelancer', other: parties.freelancer }
  if (parties.freelancer.id === me.id) return { role: 'client', other: parties.client }
  return null
}

export function PartyName({ p }: { p: Party }) {
  return (
    <>
      <strong className="party-name">{p.name}</strong> <span className="muted party-email">{p.email}</span>
    </>
  )
}

/** "With Fred Freelancer fred@… (the freelancer)"; for the admin, both sides. */
export function PartiesLine({ parties, me }: { parties: Parties; me: Pick<User, 'id'> }) {
  const cp = counterparty(parties, me)
  return (
    <p className="parties">
      {cp ? (
        <>
          With <PartyName p={cp.other} /> <span className="muted">(the {cp.role})</span>
        </>
      ) : (
        <>
          Client <PartyName p={parties.client} /> · Freelancer <PartyName p={parties.freelancer} />
        </>
      )}
    </p>
  )
}
