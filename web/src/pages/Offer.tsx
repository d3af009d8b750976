/** One offer's negotiation: its status, revisions and what changed, and accept / counter / decline. */
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { Link, useNavigate, useParams } from 'react-router'
import { api, type TermsBody } from '../api/sdk'
import type { Offer, OfferTerms, User } from '../api/types'
import { counterparty, PartiesLine } from '../components/Parties'
import { TermsEditor } from '../components/TermsEditor'
import { Badge, Button, ErrorNote, type Errors, Loading } from '../components/ui'
import { useAction } from '../lib/action'
import { diffTerms } from '../lib/diff'
import { dateTime, MODE_LABEL, money, until } from '../lib/format'
import { fieldParams, focusFirstError } from '../lib/offer-form'
import { draftOf, type TermsDraft, termsBody } from '../lib/terms-draft'
import { useUser } from '../session'

export function OfferPage() {
  const { id = '' } = useParams()
  const me = useUser()
  const offer = useQuery({ queryKey: ['offer', id], queryFn: () => api.offer(id) })
  const [countering, setCountering] = useState(false)
  if (offer.isPending) return <Loading />
  if (!offer.data) return <ErrorNote error={offer.error as never} />
  const o = offer.data
  const myRole = o.client_id === me.id ? 'client' : 'freelancer'
  const myTurn = o.status === 'open' && o.author_id !== me.id
  return (
    <section className="page">
      <div className="page-head">
        <div>
          <p className="eyebrow">Offer · you are the {myRole}</p>
          <h1>{o.terms.title}</h1>
        </div>
        <Badge state={o.status} />
      </div>
      <PartiesLine parties={o.parties} me={me} />
      <OfferStatus o={o} me={me} />
      {o.status === 'open' && !countering && <OfferActions o={o} me={me} onCounter={() => setCountering(true)} />}
      {countering && <CounterForm o={o} me={me} onDone={() => setCountering(false)} />}
      {!countering && (
        <>
          <TermsView terms={o.terms} title={`Current terms — revision ${o.revision}`} />
          <Revisions o={o} me={me} />
        </>
      )}
      {myTurn && !countering && (
        <p className="muted">Accepting creates the contract from exactly revision {o.revision}.</p>
      )}
    </section>
  )
}

/** The other side's name (for the admin, who sees no offers, the author's). */
const otherName = (o: Offer, me: User) =>
  counterparty(o.parties, me)?.other.name ??
  (o.author_id === o.client_id ? o.parties.client : o.parties.freelancer).name

function OfferStatus({ o, me }: { o: Offer; me: User }) {
  if (o.status === 'accepted' && o.contract_id)
    return (
      <div className="callout success">
        Accepted — the contract is live. <Link to={`/contracts/${o.contract_id}`}>Open the contract →</Link>
      </div>
    )
  if (o.status !== 'open') return <div className="callout">This offer is {o.status}.</div>
  return (
    <div className="callout">
      {o.author_id === me.id
        ? `Waiting for ${otherName(o, me)} to accept, counter or decline.`
        : `Your turn: accept the terms of ${otherName(o, me)}, counter with your own, or decline.`}{' '}
      Expires in {until(o.expires_at).text} ({dateTime(o.expires_at, me.time_zone)}) without a new revision.
    </div>
  )
}

function OfferActions({ o, me, onCounter }: { o: Offer; me: User; onCounter: () => void }) {
  const navigate = useNavigate()
  const qc = useQueryClient()
  const inv = { invalidate: [['offer', o.id], ['offers'], ['contracts']] }
  const accept = useAction((_: undefined, key) => api.acceptOffer(o.id, o.revision, key), {
    ...inv,
    onSuccess: (r) => {
      qc.setQueryData(['offer', o.id], { ...r, parties: o.parties })
      if (r.contract_id) navigate(`/contracts/${r.contract_id}`)
    },
  })
  const decline = useAction((_: undefined, key) => api.declineOffer(o.id, key), inv)
  const withdraw = useAction((_: undefined, key) => api.withdrawOffer(o.id, key), inv)
  const error = accept.error ?? decline.error ?? withdraw.error
  const busy = accept.pending || decline.pending || withdraw.pending
  return (
    <div className="card actions-card">
      {o.author_id === me.id ? (
        // the author of the current revision has agreed to it: only the other party counters (SPEC §4)
        <div className="actions">
          <Button kind="danger" busy={withdraw.pending} disabled={busy} onClick={() => void withdraw.run()}>
            Withdraw
          </Button>
        </div>
      ) : (
        <div className="actions">
          <Button busy={accept.pending} disabled={busy} onClick={() => void accept.run()}>
            Accept revision {o.revision}
          </Button>
          <Button kind="secondary" disabled={busy} onClick={onCounter}>
            Counter-offer
          </Button>
          <Button kind="danger" busy={decline.pending} disabled={busy} onClick={() => void decline.run()}>
            Decline
          </Button>
        </div>
      )}
      <ErrorNote error={error} />
    </div>
  )
}

function CounterForm({ o, me, onDone }: { o: Offer; me: User; onDone: () => void }) {
  const qc = useQueryClient()
  const [draft, setDraft] = useState<TermsDraft>(() => draftOf(o.terms))
  const [tried, setTried] = useState(false)
  const counter = useAction((b: TermsBody, key) => api.counter(o.id, b, key), {
    invalidate: [['offer', o.id], ['offers']],
    onSuccess: (r) => {
      qc.setQueryData(['offer', o.id], { ...r, parties: o.parties })
      onDone()
    },
  })
  const errors: Errors = tried ? termsBody(draft).errors : {}
  const submit = (e: FormEvent) => {
    e.preventDefault()
    setTried(true)
    const { body } = termsBody(draft)
    if (body) void counter.run(body)
    else focusFirstError()
  }
  // The planner reads the client's record: when I am the freelancer, that is the other party.
  const clientId = o.client_id !== me.id ? o.client_id : undefined
  return (
    <form onSubmit={submit} noValidate aria-label="Counter-offer">
      <h2>Your counter-offer (revision {o.revision + 1})</h2>
      <TermsEditor
        draft={draft}
        onChange={setDraft}
        errors={errors}
        apiError={counter.error}
        plannerClientId={clientId}
      />
      <ErrorNote error={counter.error} fields={fieldParams(draft)} currency={draft.currency} />
      <div className="actions sticky">
        <Button type="submit" busy={counter.pending}>
          Send counter-offer
        </Button>
        <Button kind="ghost" onClick={onDone} disabled={counter.pending}>
          Cancel
        </Button>
      </div>
    </form>
  )
}

export function TermsView({ terms, title }: { terms: OfferTerms; title: string }) {
  return (
    <section className="card" aria-label={title}>
      <h2>{title}</h2>
      {terms.description && <p className="prewrap">{terms.description}</p>}
      <dl className="facts">
        <div>
          <dt>Payment</dt>
          <dd>{MODE_LABEL[terms.payment_mode]}</dd>
        </div>
        <div>
          <dt>Total</dt>
          <dd>{money(terms.total, terms.currency)}</dd>
        </div>
        <div>
          <dt>Review window</dt>
          <dd>{terms.review_days} days</dd>
        </div>
        <div>
          <dt>Revisions</dt>
          <dd>{terms.revision_limit} per milestone</dd>
        </div>
        {terms.unit_name && (
          <div>
            <dt>Unit</dt>
            <dd>
              {terms.unit_name} at {money(terms.unit_price ?? 0, terms.currency)}
            </dd>
          </div>
        )}
      </dl>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Milestone</th>
            <th scope="col">Due</th>
            <th scope="col" className="num">
              Amount
            </th>
          </tr>
        </thead>
        <tbody>
          {terms.milestones.map((m, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: a revision's lines never move; the position is the line's identity (#)
            <tr key={i}>
              <td>{i + 1}</td>
              <td>
                <strong>{m.title}</strong>
                {m.deposit && <Badge state="deposit">deposit</Badge>}
                {m.entries !== null && <span className="muted"> · {m.entries} entries</span>}
                {m.acceptance_criteria && <div className="muted small">Done when: {m.acceptance_criteria}</div>}
              </td>
              <td>{m.due_date ?? '—'}</td>
              <td className="num">{money(m.amount, terms.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

function Revisions({ o, me }: { o: Offer; me: User }) {
  if (o.revisions.length < 2) return null
  const list = [...o.revisions].reverse()
  return (
    <section className="card" aria-labelledby="rev-h">
      <h2 id="rev-h">Negotiation history</h2>
      <ol className="revisions" reversed>
        {list.map((r) => {
          const prev = o.revisions.find((x) => x.revision === r.revision - 1)
          const changes = prev ? diffTerms(prev.terms, r.terms) : []
          return (
            <li key={r.revision}>
              <div className="rev-head">
                <strong>Revision {r.revision}</strong> by {r.author_id === me.id ? 'you' : otherName(o, me)} ·{' '}
                <span className="muted">{dateTime(r.created_at, me.time_zone)}</span> ·{' '}
                {money(r.terms.total, r.terms.currency)}
              </div>
              {prev ? (
                changes.length ? (
                  <table className="table compact diff">
                    <caption>What changed from revision {prev.revision}</caption>
                    <thead>
                      <tr>
                        <th scope="col">Term</th>
                        <th scope="col">Before</th>
                        <th scope="col">After</th>
                      </tr>
                    </thead>
                    <tbody>
                      {changes.map((c) => (
                        <tr key={c.what} className={`diff-${c.kind}`}>
                          <th scope="row">{c.what}</th>
                          <td>
                            <del>{c.before}</del>
                          </td>
                          <td>
                            <ins>{c.after}</ins>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                ) : (
                  <p className="muted">Same terms as revision {prev.revision}.</p>
                )
              ) : (
                <p className="muted">The opening offer.</p>
              )}
            </li>
          )
        })}
      </ol>
    </section>
  )
}
