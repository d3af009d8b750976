/** Settings: the profile (and its time zone), API keys and webhook endpoints — secrets are shown once. */
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useMemo, useState } from 'react'
import { api, type ProfileBody } from '../api/sdk'
import { Secret } from '../components/Secret'
import { Button, Empty, ErrorNote, type Errors, errorFor, Loading, SelectField, TextField } from '../components/ui'
import { Webhooks } from '../components/Webhooks'
import { useAction } from '../lib/action'
import { dateTime, timeZones } from '../lib/format'
import { useUser } from '../session'

export function SettingsPage() {
  return (
    <section className="page">
      <h1>Settings</h1>
      <Profile />
      <ApiKeys />
      <Webhooks />
    </section>
  )
}

const clock = (timeZone: string) =>
  new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }).format(
    new Date(),
  )

/** Name and time zone (PATCH /v1/me); the API's error is shown next to the field it names. */
function Profile() {
  const me = useUser()
  const qc = useQueryClient()
  const [name, setName] = useState(me.name)
  const [timeZone, setTimeZone] = useState(me.time_zone)
  const [errors, setErrors] = useState<Errors>({})
  const [saved, setSaved] = useState(false)
  // The browser's list, with the saved zone kept even when this browser does not list it (an older alias).
  const zones = useMemo(() => {
    const list = timeZones()
    return list.includes(me.time_zone) ? list : [me.time_zone, ...list]
  }, [me.time_zone])
  const save = useAction((body: ProfileBody) => api.updateMe(body), {
    invalidate: [],
    onSuccess: (u) => {
      qc.setQueryData(['me'], u)
      setSaved(true)
    },
  })
  const changes: ProfileBody = {
    ...(name !== me.name ? { name } : {}),
    ...(timeZone !== me.time_zone ? { time_zone: timeZone } : {}),
  }
  const submit = (e: FormEvent) => {
    e.preventDefault()
    setSaved(false)
    const errs: Errors = {}
    if (!name.trim()) errs.name = 'Enter your name.'
    else if (name.length > 200) errs.name = 'At most 200 characters.'
    setErrors(errs)
    if (!Object.keys(errs).length) void save.run(changes)
  }
  return (
    <section className="card" aria-labelledby="profile-h">
      <h2 id="profile-h">Profile</h2>
      <form onSubmit={submit} noValidate aria-labelledby="profile-h">
        <div className="row-2">
          <TextField
            label="Name"
            name="name"
            value={name}
            autoComplete="name"
            onChange={(v) => {
              setName(v)
              setSaved(false)
            }}
            hint="Shown to the people you work with."
            error={errorFor('name', errors, save.error)}
          />
          <SelectField
            label="Time zone"
            name="time_zone"
            value={timeZone}
            onChange={(v) => {
              setTimeZone(v)
              setSaved(false)
            }}
            options={zones}
            hint={`Now ${safeClock(timeZone)} there. Every deadline and countdown is shown in this time zone.`}
            error={errorFor('time_zone', errors, save.error)}
          />
        </div>
        <ErrorNote error={save.error} fields={['name', 'time_zone']} />
        <div className="actions">
          <Button type="submit" busy={save.pending} disabled={!Object.keys(changes).length}>
            Save profile
          </Button>
          {saved && (
            <span className="muted" role="status">
              Saved.
            </span>
          )}
        </div>
      </form>
      <dl className="facts">
        <div>
          <dt>Email</dt>
          <dd>{me.email}</dd>
        </div>
        <div>
          <dt>Member since</dt>
          <dd>{dateTime(me.created_at, me.time_zone)}</dd>
        </div>
      </dl>
    </section>
  )
}

/** The time now in `timeZone`, or '—' when this browser does not know the zone. */
function safeClock(timeZone: string) {
  try {
    return clock(timeZone)
  } catch {
    return '—'
  }
}

function ApiKeys() {
  const me = useUser()
  const keys = useQuery({ queryKey: ['api-keys'], queryFn: api.apiKeys })
  const [name, setName] = useState('')
  const [errors, setErrors] = useState<Errors>({})
  const [secret, setSecret] = useState<string | null>(null)
  const create = useAction((n: string, key) => api.createApiKey(n, key), {
    invalidate: [['api-keys']],
    onSuccess: (k) => {
      setSecret(k.secret)
      setName('')
    },
  })
  const del = useAction((id: string) => api.deleteApiKey(id), { invalidate: [['api-keys']] })
  const submit = (e: FormEvent) => {
    e.preventDefault()
    const errs: Errors = {}
    if (!name.trim()) errs.name = 'Name the key (where will you use it?).'
    else if (name.length > 200) errs.name = 'At most 200 characters.'
    setErrors(errs)
    if (!Object.keys(errs).length) void create.run(name.trim())
  }
  return (
    <section className="card" aria-labelledby="keys-h">
      <h2 id="keys-h">API keys</h2>
      <p className="muted small">
        Use <code>Authorization: Bearer sk_…</code> with the <a href="/docs">API</a>. A key acts as you.
      </p>
      {secret && <Secret label="Your new API key" value={secret} onClose={() => setSecret(null)} />}
      <form onSubmit={submit} noValidate className="inline-form">
        <TextField
          label="Key name"
          name="name"
          value={name}
          onChange={setName}
          error={errorFor('name', errors, create.error)}
        />
        <Button type="submit" busy={create.pending}>
          Create key
        </Button>
      </form>
      <ErrorNote error={create.error ?? del.error} fields={['name']} />
      {keys.isPending ? (
        <Loading />
      ) : keys.data?.data.length ? (
        <table className="table compact">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.data.data.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td>
                  <code>sk_…{k.last4}</code>
                </td>
                <td>{dateTime(k.created_at, me.time_zone)}</td>
                <td className="num">
                  <Button kind="ghost" className="small" disabled={del.pending} onClick={() => void del.run(k.id)}>
                    Revoke
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <Empty>No API keys.</Empty>
      )}
    </section>
  )
}
