/** Offers: the list and the composer (one offer's negotiation is in Offer.tsx). */
import { useQuery } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { Link, useNavigate } from 'react-router'
import { api, type OfferBody } from '../api/sdk'
import { counterparty } from '../components/Parties'
import { TermsEditor } from '../components/TermsEditor'
import {
  Badge,
  Button,
  Empty,
  ErrorNote,
  type Errors,
  errorFor,
  Loading,
  SelectField,
  TextField,
} from '../components/ui'
import { useAction } from '../lib/action'
import { money } from '../lib/format'
import { fieldParams, focusFirstError } from '../lib/offer-form'
import { emptyDraft, type TermsDraft, termsBody } from '../lib/terms-draft'
import { useUser } from '../session'

export function OffersPage() {
  const me = useUser()
  const offers = useQuery({ queryKey: ['offers'], queryFn: () => api.offers({ limit: '100' }) })
  return (
    <section className="page">
      <div className="page-head">
        <h1>Offers</h1>
        <Link className="btn btn-primary" to="/offers/new">
          New offer
        </Link>
      </div>
      {offers.isPending ? (
        <Loading />
      ) : !offers.data?.data.length ? (
        <Empty>No offers yet. An offer becomes a contract once the other side accepts it.</Empty>
      ) : (
        <div className="card">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Offer</th>
                <th scope="col">With</th>
                <th scope="col">You are</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Total
                </th>
                <th scope="col">Revision</th>
              </tr>
            </thead>
            <tbody>
              {offers.data.data.map((o) => (
                <tr key={o.id}>
                  <td>
                    <Link to={`/offers/${o.id}`}>{o.terms.title}</Link>
                  </td>
                  <td>
                    {counterparty(o.parties, me)?.other.name}{' '}
                    <span className="muted small">{counterparty(o.parties, me)?.other.email}</span>
                  </td>
                  <td>{o.client_id === me.id ? 'client' : 'freelancer'}</td>
                  <td>
                    <Badge state={o.status} />
                    {o.status === 'open' && (
                      <span className="muted small"> {o.author_id === me.id ? ' · their turn' : ' · your turn'}</span>
                    )}
                  </td>
                  <td className="num">{money(o.terms.total, o.terms.currency)}</td>
                  <td>{o.revision}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  )
}

export function NewOfferPage() {
  const navigate = useNavigate()
  const [role, setRole] = useState<'client' | 'freelancer'>('freelancer')
  const [email, setEmail] = useState('')
  const [draft, setDraft] = useState<TermsDraft>(emptyDraft)
  const [tried, setTried] = useState(false)
  const open = useAction((b: OfferBody, key) => api.openOffer(b, key), {
    invalidate: [['offers']],
    // The offer page reads it again: GET adds the parties' names, which a command's answer does not carry.
    onSuccess: (o) => navigate(`/offers/${o.id}`),
  })
  const check = () => {
    const r = termsBody(draft)
    if (!email.trim()) r.errors.counterparty_email = 'Whom is this offer for? Enter their email.'
    else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim()))
      r.errors.counterparty_email = 'That is not an email address.'
    return r
  }
  // Checked like the API checks it, live once the user has tried to send.
  const errors: Errors = tried ? check().errors : {}
  const submit = (e: FormEvent) => {
    e.preventDefault()
    setTried(true)
    const { body, errors: errs } = check()
    if (body && Object.keys(errs).length === 0) void open.run({ ...body, role, counterparty_email: email.trim() })
    else focusFirstError()
  }
  return (
    <section className="page">
      <h1>New offer</h1>
      <p className="lead">
        Nothing is charged now. Once the other side accepts, the contract starts and the client funds the first
        milestone into escrow.
      </p>
      <form onSubmit={submit} noValidate>
        <fieldset className="card">
          <legend>Who</legend>
          <div className="row-2">
            <SelectField
              label="I am the"
              name="role"
              value={role}
              onChange={(v) => setRole(v as 'client' | 'freelancer')}
              options={[
                { value: 'freelancer', label: 'Freelancer (I do the work)' },
                { value: 'client', label: 'Client (I pay for the work)' },
              ]}
              error={errorFor('role', errors, open.error)}
            />
            <TextField
              label={role === 'client' ? "Freelancer's email" : "Client's email"}
              name="counterparty_email"
              type="email"
              value={email}
              onChange={setEmail}
              hint="They need a Tranche account."
              error={errorFor('counterparty_email', errors, open.error)}
            />
          </div>
        </fieldset>
        <TermsEditor draft={draft} onChange={setDraft} errors={errors} apiError={open.error} />
        <ErrorNote error={open.error} fields={fieldParams(draft)} currency={draft.currency} />
        <div className="actions sticky">
          <Button type="submit" busy={open.pending}>
            Send offer
          </Button>
        </div>
      </form>
    </section>
  )
}
