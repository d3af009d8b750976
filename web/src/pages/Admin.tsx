/** The admin console: disputes by status (decide those in arbitration), the ledger check, platform revenue, test clock. */
import { useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { Link } from 'react-router'
import { ApiError } from '../api/client'
import { api } from '../api/sdk'
import type { Dispute } from '../api/types'
import { ContractCtx } from '../components/contract/context'
import { DisputePanel } from '../components/contract/DisputePanel'
import { PartiesLine } from '../components/Parties'
import { Badge, Button, Empty, ErrorNote, Loading, Money, SelectField, TextField } from '../components/ui'
import { useAction } from '../lib/action'
import { dateTime, label } from '../lib/format'
import { useUser } from '../session'

const STATUSES = ['arbitration', 'negotiation', 'awaiting_response', 'resolved', ''] as const

export function AdminPage() {
  const [status, setStatus] = useState<(typeof STATUSES)[number]>('arbitration')
  const disputes = useQuery({
    queryKey: ['admin-disputes', status],
    queryFn: () => api.adminDisputes(status || undefined),
  })
  return (
    <section className="page">
      <h1>Admin console</h1>
      <div className="grid-2">
        <Verify />
        <Revenue />
      </div>
      <TestClock />
      <section className="card" aria-labelledby="disp-h">
        <div className="section-head">
          <h2 id="disp-h">Disputes</h2>
        </div>
        <div className="tabs" role="tablist" aria-label="Dispute status">
          {STATUSES.map((s) => (
            <button
              key={s || 'all'}
              type="button"
              role="tab"
              aria-selected={status === s}
              className={status === s ? 'tab active' : 'tab'}
              onClick={() => setStatus(s)}
            >
              {s ? label(s) : 'All'}
            </button>
          ))}
        </div>
        {disputes.isPending ? (
          <Loading />
        ) : disputes.data?.data.length ? (
          <ul className="admin-disputes">
            {disputes.data.data.map((d) => (
              <AdminDispute key={d.id} d={d} />
            ))}
          </ul>
        ) : (
          <Empty>No {status ? label(status).toLowerCase() : ''} disputes.</Empty>
        )}
      </section>
    </section>
  )
}

function AdminDispute({ d }: { d: Dispute }) {
  const me = useUser()
  const contract = useQuery({ queryKey: ['contract', d.contract_id], queryFn: () => api.contract(d.contract_id) })
  const c = contract.data
  const m = c?.milestones.find((x) => x.id === d.milestone_id)
  return (
    <li className="card inner">
      <div className="row-between">
        <div>
          <Link to={`/contracts/${d.contract_id}`}>
            <strong>{c?.title ?? d.contract_id}</strong>
          </Link>
          {m && (
            <span className="muted">
              {' '}
              · milestone {m.position}. {m.title}
            </span>
          )}
        </div>
        <Badge state={d.status} />
      </div>
      {c && <PartiesLine parties={c.parties} me={me} />}
      <div className="muted small">
        <Money amount={d.escrow_amount} currency={d.currency} /> at stake · opened{' '}
        {dateTime(d.created_at, me.time_zone)}
      </div>
      {c && m ? (
        <ContractCtx.Provider value={{ c, me, role: null, isAdmin: true }}>
          <DisputePanel d={c.disputes.find((x) => x.id === d.id) ?? d} m={m} />
        </ContractCtx.Provider>
      ) : (
        <Loading />
      )}
    </li>
  )
}

function Verify() {
  const q = useQuery({ queryKey: ['admin-verify'], queryFn: api.verify })
  return (
    <section className="card" aria-labelledby="ver-h">
      <div className="section-head">
        <h2 id="ver-h">Ledger verification</h2>
        <Button kind="secondary" className="small" busy={q.isFetching} onClick={() => void q.refetch()}>
          Run again
        </Button>
      </div>
      {q.isPending ? (
        <Loading />
      ) : q.data ? (
        <>
          <p className={q.data.ok ? 'callout success' : 'callout danger'} role="status">
            {q.data.ok ? 'All invariants hold.' : `${q.data.problems.length} problem(s) found.`}
          </p>
          {q.data.problems.length > 0 && (
            <ul className="problems">
              {q.data.problems.map((p, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: a read-only report, rendered whole each time
                <li key={i}>{typeof p === 'string' ? p : JSON.stringify(p)}</li>
              ))}
            </ul>
          )}
          <dl className="facts">
            {Object.entries(q.data.checked ?? {}).map(([k, v]) => (
              <div key={k}>
                <dt>{k.replaceAll('_', ' ')}</dt>
                <dd>{String(v)}</dd>
              </div>
            ))}
          </dl>
        </>
      ) : (
        <ErrorNote error={q.error as never} />
      )}
    </section>
  )
}

function Revenue() {
  const q = useQuery({ queryKey: ['admin-revenue'], queryFn: api.revenue })
  return (
    <section className="card" aria-labelledby="rev-h">
      <h2 id="rev-h">Platform revenue</h2>
      {q.data?.data.length ? (
        <div className="stats">
          {q.data.data.map((r) => (
            <div className="stat stat-released" key={r.currency}>
              <div className="stat-label">Fees in {r.currency}</div>
              <div className="stat-value">
                <Money amount={r.fees} currency={r.currency} />
              </div>
            </div>
          ))}
        </div>
      ) : q.isPending ? (
        <Loading />
      ) : (
        <Empty>No fees earned yet.</Empty>
      )}
    </section>
  )
}

function TestClock() {
  const me = useUser()
  const q = useQuery({
    queryKey: ['test-clock'],
    queryFn: async () => {
      try {
        return await api.testClock()
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return null
        throw e
      }
    },
  })
  const [amount, setAmount] = useState('1')
  const [unit, setUnit] = useState('86400')
  const advance = useAction((seconds: number, key) => api.advanceClock(seconds, key), {
    invalidate: [['test-clock'], ['contract'], ['contracts'], ['admin-disputes'], ['admin-revenue'], ['admin-verify']],
  })
  if (!q.data) return null
  return (
    <section className="card" aria-labelledby="clock-h">
      <h2 id="clock-h">Test clock</h2>
      <p>
        Now: <strong>{dateTime(q.data.now, me.time_zone)}</strong>. Timers that fall due run before the clock answers.
      </p>
      <div className="inline-form">
        <TextField label="Advance by" inputMode="numeric" value={amount} onChange={setAmount} />
        <SelectField
          label="Unit"
          value={unit}
          onChange={setUnit}
          options={[
            { value: '3600', label: 'hours' },
            { value: '86400', label: 'days' },
          ]}
        />
        <Button
          busy={advance.pending}
          onClick={() => void advance.run(Math.max(0, Math.floor(Number(amount) || 0)) * Number(unit))}
        >
          Advance
        </Button>
      </div>
      <ErrorNote error={advance.error} />
    </section>
  )
}
