/** Money: balances and payouts, the statement with running balance (and its CSV), an earnings/spending chart. */
import { useInfiniteQuery, useQuery } from '@tanstack/react-query'
import { type FormEvent, useMemo, useState } from 'react'
import { Link } from 'react-router'
import { fee } from '../../../src/domain/money.ts'
import { api } from '../api/sdk'
import type { Contract, LedgerLines } from '../api/types'
import { EarningsChart, type MonthPoint } from '../components/EarningsChart'
import {
  Button,
  Empty,
  ErrorNote,
  type Errors,
  errorFor,
  Loading,
  Money,
  SelectField,
  TextField,
} from '../components/ui'
import { useAction } from '../lib/action'
import { dateTime, money, monthOf, parseMoney, startOfDay } from '../lib/format'
import { useUser } from '../session'

export function MoneyPage() {
  const me = useUser()
  const balances = useQuery({ queryKey: ['balances'], queryFn: api.balances })
  const currencies = balances.data?.data.map((b) => b.currency) ?? []
  const [currency, setCurrency] = useState<string | null>(null)
  const cur = currency ?? currencies[0] ?? 'USD'
  return (
    <section className="page">
      <h1>Money</h1>
      <div className="grid-2">
        <section className="card" aria-labelledby="bal-h">
          <h2 id="bal-h">Balances</h2>
          {balances.isPending ? (
            <Loading />
          ) : currencies.length ? (
            <div className="stats">
              {balances.data!.data.map((b) => (
                <div key={b.currency} className="stat-pair">
                  <div className="stat">
                    <div className="stat-label">Available {b.currency}</div>
                    <div className="stat-value">
                      <Money amount={b.available} currency={b.currency} />
                    </div>
                  </div>
                  <div className="stat stat-escrow">
                    <div className="stat-label">Pending {b.currency}</div>
                    <div className="stat-value">
                      <Money amount={b.pending} currency={b.currency} />
                    </div>
                  </div>
                </div>
              ))}
            </div>
          ) : (
            <Empty>No balance yet.</Empty>
          )}
          <p className="muted small">
            Released earnings stay pending for 5 days (security hold), then become available to pay out. Refunds to a
            client are available at once and are used first when funding.
          </p>
        </section>
        <PayoutForm currencies={currencies} />
      </div>
      <section className="card" aria-labelledby="chart-h">
        <div className="section-head">
          <h2 id="chart-h">Earnings and spending</h2>
          {currencies.length > 1 && (
            <SelectField label="Currency" value={cur} onChange={setCurrency} options={currencies} />
          )}
        </div>
        <Chart currency={cur} userId={me.id} timeZone={me.time_zone} />
      </section>
      <StatementSection
        key={`${cur}-${balances.isPending}`}
        currency={cur}
        currencies={currencies.length ? currencies : ['USD']}
        onCurrency={setCurrency}
        // Show where the money is: a freelancer's earnings wait in `pending` before they are available.
        initialAccount={(() => {
          const b = balances.data?.data.find((x) => x.currency === cur)
          return b && b.available === 0 && b.pending > 0 ? 'pending' : 'available'
        })()}
      />
      <Payouts />
    </section>
  )
}

function PayoutForm({ currencies }: { currencies: string[] }) {
  const [amount, setAmount] = useState('')
  const [currency, setCurrency] = useState(currencies[0] ?? 'USD')
  const [errors, setErrors] = useState<Errors>({})
  const [done, setDone] = useState<string | null>(null)
  const payout = useAction((b: { amount: number; currency: string }, key) => api.payout(b, key), {
    invalidate: [['balances'], ['payouts'], ['statement']],
    onSuccess: (p) => {
      setAmount('')
      setDone(`Paid out ${money(p.amount, p.currency)}.`)
    },
  })
  const cur = currencies.includes(currency) ? currency : (currencies[0] ?? 'USD')
  const submit = (e: FormEvent) => {
    e.preventDefault()
    setDone(null)
    const a = parseMoney(amount, cur)
    const errs: Errors = {}
    if (a === null || a < 1) errs.amount = 'Enter the amount to pay out.'
    setErrors(errs)
    if (a !== null && !Object.keys(errs).length) void payout.run({ amount: a, currency: cur })
  }
  return (
    <section className="card" aria-labelledby="payout-h">
      <h2 id="payout-h">Pay out</h2>
      <form onSubmit={submit} noValidate>
        <div className="row-2">
          <TextField
            label="Amount"
            name="amount"
            inputMode="decimal"
            value={amount}
            onChange={setAmount}
            error={errorFor('amount', errors, payout.error, cur)}
          />
          <SelectField
            label="Currency"
            name="currency"
            value={cur}
            onChange={setCurrency}
            options={currencies.length ? currencies : ['USD']}
            error={errorFor('currency', errors, payout.error)}
          />
        </div>
        <ErrorNote error={payout.error} fields={['amount', 'currency']} currency={cur} />
        {done && (
          <p className="callout success" role="status">
            {done}
          </p>
        )}
        <Button type="submit" busy={payout.pending}>
          Pay out to my bank (sandbox)
        </Button>
      </form>
    </section>
  )
}

/** Ledger entry kinds (domain/ledger.ts EntryKind) as a statement line says them. */
const KIND_LABEL: Record<string, string> = {
  fund: 'Funding of a milestone (from your credit)',
  release: 'Released from escrow to you',
  refund: 'Refund from escrow',
  bonus: 'Bonus',
  hold_release: 'Security hold over: now available',
  payout: 'Payout to your bank',
}

async function allLedgerLines(): Promise<LedgerLines['data']> {
  const out: LedgerLines['data'] = []
  let after: string | undefined
  for (let i = 0; i < 10; i++) {
    const page = await api.ledger({ limit: '100', ...(after ? { starting_after: after } : {}) })
    out.push(...page.data)
    if (!page.has_more) break
    after = page.data[page.data.length - 1]?.id
  }
  return out
}

function Chart({ currency, userId, timeZone }: { currency: string; userId: string; timeZone: string }) {
  const ledger = useQuery({ queryKey: ['ledger-all'], queryFn: allLedgerLines })
  const contracts = useQuery({ queryKey: ['contracts'], queryFn: () => api.contracts({ limit: '100' }) })
  const data = useMemo(
    () => monthly(ledger.data ?? [], contracts.data?.data ?? [], currency, userId, timeZone),
    [ledger.data, contracts.data, currency, userId, timeZone],
  )
  if (ledger.isPending || contracts.isPending) return <Loading />
  return <EarningsChart data={data} currency={currency} />
}

function monthly(
  lines: LedgerLines['data'],
  contracts: Contract[],
  currency: string,
  userId: string,
  timeZone: string,
): MonthPoint[] {
  const by = new Map<string, MonthPoint>()
  const at = (iso: string) => {
    const k = monthOf(iso, timeZone)
    const p = by.get(k) ?? { month: k, earned: 0, spent: 0 }
    by.set(k, p)
    return p
  }
  for (const l of lines) {
    if (
      l.currency === currency &&
      l.account === 'pending' &&
      l.amount > 0 &&
      (l.kind === 'release' || l.kind === 'bonus')
    )
      at(l.created_at).earned += l.amount
  }
  for (const c of contracts) {
    if (c.client_id !== userId || c.currency !== currency) continue
    for (const m of c.milestones)
      if (m.funded_at) at(m.funded_at).spent += m.amount + Number(fee(BigInt(m.amount), c.client_fee_bps))
  }
  return [...by.values()].sort((a, b) => a.month.localeCompare(b.month)).slice(-12)
}

function StatementSection({
  currency,
  currencies,
  onCurrency,
  initialAccount,
}: {
  currency: string
  currencies: string[]
  onCurrency: (c: string) => void
  initialAccount: 'available' | 'pending'
}) {
  const me = useUser()
  const [account, setAccount] = useState<'available' | 'pending'>(initialAccount)
  const [from, setFrom] = useState('')
  const [to, setTo] = useState('')
  // the days are the user's (in their time zone), as the lines below are shown: `to` counts its whole day
  const query = {
    currency,
    account,
    ...(from ? { from: startOfDay(from, me.time_zone) } : {}),
    ...(to ? { to: startOfDay(to, me.time_zone, 1) } : {}),
  }
  // a statement comes a page (of up to 1,000 lines) at a time; the balances run on from page to page
  const pages = useInfiniteQuery({
    queryKey: ['statement', query],
    queryFn: ({ pageParam }) => api.statement({ ...query, ...(pageParam ? { starting_after: pageParam } : {}) }),
    initialPageParam: '',
    getNextPageParam: (last) => (last.has_more ? last.data[last.data.length - 1]?.id : undefined),
  })
  const first = pages.data?.pages[0]
  const st = { ...pages, data: first && { ...first, data: pages.data!.pages.flatMap((p) => p.data) } }
  const csv = `/v1/statements?${new URLSearchParams({ ...query, format: 'csv' }).toString()}`
  return (
    <section className="card" aria-labelledby="st-h">
      <div className="section-head">
        <h2 id="st-h">Statement</h2>
        <a className="btn btn-secondary" href={csv} download>
          Download CSV
        </a>
      </div>
      <div className="filters">
        <SelectField label="Currency" value={currency} onChange={onCurrency} options={currencies} />
        <SelectField
          label="Account"
          value={account}
          onChange={(v) => setAccount(v as 'available' | 'pending')}
          options={[
            { value: 'available', label: 'Available' },
            { value: 'pending', label: 'Pending (on hold)' },
          ]}
        />
        <TextField
          label="From"
          type="date"
          value={from}
          onChange={setFrom}
          error={errorFor('from', {}, st.error as never)}
        />
        <TextField label="To" type="date" value={to} onChange={setTo} error={errorFor('to', {}, st.error as never)} />
      </div>
      {st.isPending ? (
        <Loading />
      ) : st.data ? (
        <div className="table-wrap">
          <table className="table statement">
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">Description</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col" className="num">
                  Balance
                </th>
              </tr>
            </thead>
            <tbody>
              <tr className="muted">
                <td colSpan={3}>Opening balance</td>
                <td className="num">{money(st.data.opening_balance, currency)}</td>
              </tr>
              {st.data.data.map((l) => (
                <tr key={l.id}>
                  <td>{dateTime(l.date, me.time_zone)}</td>
                  <td title={l.description}>
                    {KIND_LABEL[l.kind] ?? l.kind}
                    {l.contract_id && (
                      <>
                        {' · '}
                        <Link to={`/contracts/${l.contract_id}`}>contract</Link>
                      </>
                    )}
                  </td>
                  <td className={`num ${l.amount < 0 ? 'neg' : 'pos'}`}>{money(l.amount, currency)}</td>
                  <td className="num">{money(l.balance, currency)}</td>
                </tr>
              ))}
              {pages.hasNextPage && (
                <tr>
                  <td colSpan={4}>
                    <Button kind="secondary" busy={pages.isFetchingNextPage} onClick={() => void pages.fetchNextPage()}>
                      More lines
                    </Button>
                  </td>
                </tr>
              )}
              <tr>
                <th scope="row" colSpan={3}>
                  Closing balance
                </th>
                <td className="num">
                  <strong>{money(st.data.closing_balance, currency)}</strong>
                </td>
              </tr>
            </tbody>
          </table>
        </div>
      ) : (
        <ErrorNote error={st.error as never} />
      )}
    </section>
  )
}

function Payouts() {
  const me = useUser()
  const q = useQuery({ queryKey: ['payouts'], queryFn: () => api.payouts({ limit: '50' }) })
  return (
    <section className="card" aria-labelledby="po-h">
      <h2 id="po-h">Payouts</h2>
      {q.data?.data.length ? (
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Status</th>
              <th scope="col" className="num">
                Amount
              </th>
            </tr>
          </thead>
          <tbody>
            {q.data.data.map((p) => (
              <tr key={p.id}>
                <td>{dateTime(p.created_at, me.time_zone)}</td>
                <td>{p.status}</td>
                <td className="num">{money(p.amount, p.currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <Empty>No payouts yet.</Empty>
      )}
    </section>
  )
}
