/** Webhook endpoints in Settings: register one (its signing secret shown once), its delivery log, retries. */
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { EVENT_GROUPS, EVENT_TYPES } from '../../../src/domain/types.ts'
import { api } from '../api/sdk'
import type { WebhookEndpoint } from '../api/types'
import { useAction } from '../lib/action'
import { dateTime } from '../lib/format'
import { useUser } from '../session'
import { Secret } from './Secret'
import { Button, Empty, ErrorNote, type Errors, errorFor, Loading, TextField } from './ui'

export function Webhooks() {
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
    // `*`, a group (`dispute.*`: every type of disputes, also types added later) or one type, as the server takes them
    const known = (x: string) =>
      x === '*' || (EVENT_GROUPS as string[]).includes(x) || (EVENT_TYPES as readonly string[]).includes(x)
    const unknown = enabled.find((x) => !known(x))
    if (!enabled.length) errs.enabled_events = 'Pick the events to send, or * for all.'
    else if (unknown)
      errs.enabled_events = `${unknown} is no event type: use ones like milestone.released or dispute.*, or * for all.`
    setErrors(errs)
    const enabledEvents = [...new Set(enabled)] as NewEndpoint['enabled_events']
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
            hint={`* for all, or a list of types and groups: milestone.released, dispute.* … (groups: ${EVENT_GROUPS.join(', ')})`}
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
  const toggle = useAction((_: undefined) => api.updateWebhook(w.id, { enabled: !w.enabled }), {
    invalidate: [['webhooks']],
  })
  const [rolled, setRolled] = useState<{ secret: string; oldUntil: string | null } | null>(null)
  const roll = useAction((_: undefined, key) => api.rollWebhookSecret(w.id, key), {
    onSuccess: (r) => r.secret && setRolled({ secret: r.secret, oldUntil: r.previous_secret_expires_at }),
  })
  const retry = useAction((id: string, key) => api.retryDelivery(id, key), { invalidate: [['deliveries', w.id]] })
  return (
    <li>
      <div className="row-between">
        <span>
          <code>{w.url}</code> <span className="muted small">{w.enabled_events.join(', ')}</span>
          {!w.enabled && <span className="badge badge-disabled">disabled</span>}
        </span>
        <span className="actions">
          <Button kind="ghost" className="small" busy={roll.pending} onClick={() => void roll.run()}>
            Roll secret
          </Button>
          <Button kind="ghost" className="small" busy={toggle.pending} onClick={() => void toggle.run()}>
            {w.enabled ? 'Disable' : 'Enable'}
          </Button>
          <Button kind="ghost" className="small" onClick={() => setOpen(!open)}>
            {open ? 'Hide deliveries' : 'Deliveries'}
          </Button>
          <Button kind="ghost" className="small" busy={del.pending} onClick={() => void del.run()}>
            Delete
          </Button>
        </span>
      </div>
      {rolled && (
        <Secret
          label={`New signing secret (${
            rolled.oldUntil
              ? `the old one signs beside it until ${dateTime(rolled.oldUntil, me.time_zone)}`
              : 'the old one no longer signs'
          })`}
          value={rolled.secret}
          onClose={() => setRolled(null)}
        />
      )}
      <ErrorNote error={del.error ?? toggle.error ?? roll.error ?? retry.error} />
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
