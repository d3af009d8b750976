/** The dashboard: what needs me now, my balances, my contracts as client and as freelancer, open offers. */
import { useQuery } from '@tanstack/react-query'
import { Link } from 'react-router'
import { api } from '../api/sdk'
import type { Contract, User } from '../api/types'
import { counterparty } from '../components/Parties'
import { Badge, Empty, Loading, Money } from '../components/ui'
import { MODE_LABEL, money } from '../lib/format'
import { needsOf } from '../lib/needs'
import { useUser } from '../session'

export function DashboardPage() {
  const me = useUser()
  const contracts = useQuery({ queryKey: ['contracts'], queryFn: () => api.contracts({ limit: '100' }) })
  const offers = useQuery({ queryKey: ['offers'], queryFn: () => api.offers({ limit: '100' }) })
  const balances = useQuery({ queryKey: ['balances'], queryFn: api.balances })
  if (contracts.isPending || offers.isPending) return <Loading what="Loading your contracts" />
  const all = (contracts.data?.data ?? []).filter((c) => c.client_id === me.id || c.freelancer_id === me.id)
  const needs = needsOf(me, all, offers.data?.data ?? [])
  const asClient = all.filter((c) => c.client_id === me.id)
  const asFreelancer = all.filter((c) => c.freelancer_id === me.id)
  const openOffers = (offers.data?.data ?? []).filter((o) => o.status === 'open')
  return (
    <section className="page">
      <div className="page-head">
        <h1>Hello, {me.name}</h1>
        <Link className="btn btn-primary" to="/offers/new">
          New offer
        </Link>
      </div>

      <div className="grid-2 dash-top">
        <section className="card" aria-labelledby="needs-h">
          <h2 id="needs-h">What needs you now</h2>
          {needs.length === 0 ? (
            <Empty>Nothing is waiting for you. </Empty>
          ) : (
            <ul className="needs">
              {needs.map((n) => (
                <li key={n.key} className={n.urgent ? 'urgent' : undefined}>
                  <Link to={n.to}>{n.text}</Link>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="card" aria-labelledby="bal-h">
          <h2 id="bal-h">Balances</h2>
          {balances.data && balances.data.data.length > 0 ? (
            <table className="table compact">
              <thead>
                <tr>
                  <th scope="col">Currency</th>
                  <th scope="col" className="num">
                    Available
                  </th>
                  <th scope="col" className="num">
                    Pending
                  </th>
                </tr>
              </thead>
              <tbody>
                {balances.data.data.map((b) => (
                  <tr key={b.currency}>
                    <td>{b.currency}</td>
                    <td className="num">
                      <Money amount={b.available} currency={b.currency} />
                    </td>
                    <td className="num">
                      <Money amount={b.pending} currency={b.currency} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <Empty>No money yet. Earnings are pending for 5 days after release, then available.</Empty>
          )}
          <Link to="/money">Statement and payouts →</Link>
        </section>
      </div>

      <ContractList title="Contracts as client" contracts={asClient} me={me} empty="You have not hired anyone yet." />
      <ContractList
        title="Contracts as freelancer"
        contracts={asFreelancer}
        me={me}
        empty="No contracts as a freelancer yet."
      />

      <section className="card" aria-labelledby="offers-h">
        <h2 id="offers-h">Open offers</h2>
        {openOffers.length === 0 ? (
          <Empty>No offer under negotiation.</Empty>
        ) : (
          <ul className="rows">
            {openOffers.map((o) => (
              <li key={o.id}>
                <Link to={`/offers/${o.id}`}>{o.terms.title}</Link>
                <span className="muted">
                  with {counterparty(o.parties, me)?.other.name} · revision {o.revision} ·{' '}
                  {money(o.terms.total, o.terms.currency)} ·{' '}
                  {o.author_id === me.id ? 'waiting for the other side' : 'your turn'}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </section>
  )
}

function ContractList({
  title,
  contracts,
  me,
  empty,
}: {
  title: string
  contracts: Contract[]
  me: User
  empty: string
}) {
  const id = title.replaceAll(' ', '-').toLowerCase()
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {contracts.length === 0 ? (
        <Empty>{empty}</Empty>
      ) : (
        <ul className="contract-list">
          {contracts.map((c) => (
            <ContractRow key={c.id} c={c} me={me} />
          ))}
        </ul>
      )}
    </section>
  )
}

function ContractRow({ c, me }: { c: Contract; me: User }) {
  const cp = counterparty(c.parties, me)
  const total = c.totals.amount || 1
  const pct = (x: number) => `${Math.min(100, Math.round((x / total) * 100))}%`
  const states = c.milestones.reduce<Record<string, number>>((acc, m) => {
    acc[m.state] = (acc[m.state] ?? 0) + 1
    return acc
  }, {})
  return (
    <li>
      <div className="contract-row-head">
        <Link to={`/contracts/${c.id}`} className="contract-title">
          {c.title}
        </Link>
        <Badge state={c.status} />
      </div>
      {cp && (
        <div className="contract-with">
          with <strong>{cp.other.name}</strong> <span className="muted small">{cp.other.email}</span>
        </div>
      )}
      <div className="muted small">
        {MODE_LABEL[c.payment_mode]} · {money(c.totals.amount, c.currency)} · {c.milestones.length} milestone
        {c.milestones.length === 1 ? '' : 's'}
      </div>
      <div
        className="bar"
        role="img"
        aria-label={`${money(c.totals.released, c.currency)} released, ${money(c.totals.in_escrow, c.currency)} in escrow of ${money(c.totals.amount, c.currency)}`}
      >
        <span className="bar-released" style={{ width: pct(c.totals.released) }} />
        <span className="bar-escrow" style={{ width: pct(c.totals.in_escrow) }} />
      </div>
      <div className="chips">
        {Object.entries(states).map(([s, n]) => (
          <Badge key={s} state={s}>
            {n} {s.replaceAll('_', ' ')}
          </Badge>
        ))}
      </div>
    </li>
  )
}
