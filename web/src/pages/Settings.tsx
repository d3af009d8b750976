/** Settings: the profile (and its time zone), API keys and webhook endpoints — secrets are shown once. */
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useMemo, useState } from 'react'
import { EVENT_TYPES } from '../../../src/domain/types.ts'
import { api, type ProfileBody } from '../api/sdk'
import type { WebhookEndpoint } from '../api/types'
import { Button, Empty, ErrorNote, type Errors, errorFor, Loading, SelectField, TextField } from '../components/ui'
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

function Secret({ label, value, onClose }: { label: string; value: string; onClose: () => void }) {
  const [copied, setCopied] = useState(false)
  return (
    <div className="callout secret" role="status">
      <p>
        <strong>{label}</strong> — copy it now: it is shown only once.
      </p>
      <code className="secret-value">{value}</code>
      <div className="actions">
        <Button
          kind="secondary"
          onClick={() => {
            void navigator.clipboard?.writeText(value).then(() => setCopied(true))
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </Button>
        <Button kind="ghost" onClick={onClose}>
          I have saved it
        </Button>
      </div>
    </div>
  )
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

const EVENT_GROUPS = [
  '*',
  'offer.*',
  'contract.*',
  'milestone.*',
  'refund_request.*',
  'dispute.*',
  'payout.paid',
  'balance.available',
]

function Webhooks() {
  const qc = useQueryClient()
  const list = useQuery({ queryKey: ['webhooks'], queryFn: api.webhooks })
  const [url, setUrl] = useState('')
  const [events, setEvents] = useState('*')
  const [errors, setErrors] = useState<Errors>({})
  const [secret, setSecret] = useState<string | null>(null)
  type NewEndpoint = Parameters<typeof api.createWebhook>[0]
  const create = useAction((b: NewEndpoint, key) => api.createWebhook(b, key), {
    invalidate: [['webhooks']],
    onSuccess: (w) => {
      setSecret(w.secret)
      setUrl('')
    },
  })
  const submit = (e: FormEvent) => {
    e.preventDefault()
    const errs: Errors = {}
    if (!/^https?:\/\/\S+$/.test(url.trim())) errs.url = 'Enter the http(s) URL that receives the events.'
    const enabled = events
      .split(/[\s,]+/)
      .map((x) => x.trim())
      .filter(Boolean)
    // a group (`dispute.*`) stands for the types of its object; the server takes types and `*` only
    const expand = (x: string): string[] =>
      x === '*'
        ? ['*']
        : x.endsWith('.*')
          ? EVENT_TYPES.filter((t) => t.startsWith(x.slice(0, -1)))
          : EVENT_TYPES.filter((t) => t === x)
    const unknown = enabled.find((x) => expand(x).length === 0)
    const types = enabled.flatMap(expand)
    if (!enabled.length) errs.enabled_events = 'Pick the events to send, or * for all.'
    else if (unknown)
      errs.enabled_events = `${unknown} is no event type: use ones like milestone.released, or * for all.`
    setErrors(errs)
    const enabledEvents = [...new Set(types)] as NewEndpoint['enabled_events']
    if (!Object.keys(errs).length) void create.run({ url: url.trim(), enabled_events: enabledEvents })
  }
  return (
    <section className="card" aria-labelledby="wh-h">
      <h2 id="wh-h">Webhook endpoints</h2>
      <p className="muted small">
        Tranche POSTs each event as JSON, signed with{' '}
        <code>Tranche-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")</code>, retrying for up to 3 days.
      </p>
      {secret && <Secret label="Signing secret" value={secret} onClose={() => setSecret(null)} />}
      <form onSubmit={submit} noValidate>
        <div className="row-2">
          <TextField
            label="Endpoint URL"
            name="url"
            type="url"
            value={url}
            onChange={setUrl}
            placeholder="https://example.com/tranche"
            error={errorFor('url', errors, create.error)}
          />
          <TextField
            label="Events"
            name="enabled_events"
            value={events}
            onChange={setEvents}
            hint={`* for all, or a list: milestone.released, dispute.opened … (${EVENT_GROUPS.slice(5).join(', ')})`}
            error={
              errorFor('enabled_events', errors, create.error) ??
              (create.error?.param?.startsWith('enabled_events') ? create.error.message : undefined)
            }
          />
        </div>
        {/* an error naming one of the events (`enabled_events[2]`) is shown under the Events field */}
        <ErrorNote
          error={create.error}
          fields={[
            'url',
            'enabled_events',
            ...(create.error?.param?.startsWith('enabled_events') ? [create.error.param] : []),
          ]}
        />
        <Button type="submit" busy={create.pending}>
          Add endpoint
        </Button>
      </form>
      {list.isPending ? (
        <Loading />
      ) : list.data?.data.length ? (
        <ul className="rows">
          {list.data.data.map((w) => (
            <EndpointRow key={w.id} w={w} onDeleted={() => void qc.invalidateQueries({ queryKey: ['webhooks'] })} />
          ))}
        </ul>
      ) : (
        <Empty>No endpoints.</Empty>
      )}
    </section>
  )
}

function EndpointRow({ w, onDeleted }: { w: WebhookEndpoint; onDeleted: () => void }) {
  const me = useUser()
  const [open, setOpen] = useState(false)
  const deliveries = useQuery({ queryKey: ['deliveries', w.id], queryFn: () => api.deliveries(w.id), enabled: open })
  const del = useAction((_: undefined) => api.deleteWebhook(w.id), { invalidate: [['webhooks']], onSuccess: onDeleted })
  const retry = useAction((id: string, key) => api.retryDelivery(id, key), { invalidate: [['deliveries', w.id]] })
  return (
    <li>
      <div className="row-between">
        <span>
          <code>{w.url}</code> <span className="muted small">{w.enabled_events.join(', ')}</span>
        </span>
        <span className="actions">
          <Button kind="ghost" className="small" onClick={() => setOpen(!open)}>
            {open ? 'Hide deliveries' : 'Deliveries'}
          </Button>
          <Button kind="ghost" className="small" busy={del.pending} onClick={() => void del.run()}>
            Delete
          </Button>
        </span>
      </div>
      <ErrorNote error={del.error ?? retry.error} />
      {open &&
        (deliveries.isPending ? (
          <Loading />
        ) : deliveries.data?.data.length ? (
          <table className="table compact">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {deliveries.data.data.map((d) => (
                <tr key={d.id}>
                  <td>
                    <code>{d.event_id}</code>
                  </td>
                  <td>
                    {d.status}
                    {d.last_response_status !== null && (
                      <span className="muted small"> · HTTP {d.last_response_status}</span>
                    )}
                    {d.last_error && <span className="muted small"> · {d.last_error}</span>}
                  </td>
                  <td>
                    {d.attempts}
                    {d.next_attempt_at && (
                      <span className="muted small"> · next {dateTime(d.next_attempt_at, me.time_zone)}</span>
                    )}
                  </td>
                  <td className="num">
                    <Button
                      kind="ghost"
                      className="small"
                      disabled={retry.pending}
                      onClick={() => void retry.run(d.id)}
                    >
                      Retry
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <Empty>No deliveries yet.</Empty>
        ))}
    </li>
  )
}
