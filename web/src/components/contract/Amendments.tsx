/** Amendments: add milestones, edit or remove pending ones; the other party accepts or rejects, the author may withdraw. */
import { useState } from 'react'
import { type AmendmentBody, api } from '../../api/sdk'
import type { Amendment } from '../../api/types'
import { useAction } from '../../lib/action'
import { dateTime, money, moneyText, parseMoney, toMajorInput } from '../../lib/format'
import { Badge, Button, Checkbox, ErrorNote, type Errors, errorFor, TextField } from '../ui'
import { contractKeys, partyName, useContractView } from './context'

export function Amendments() {
  const v = useContractView()
  const { c, role } = v
  const [composing, setComposing] = useState(false)
  return (
    <section className="card" aria-labelledby="amd-h">
      <div className="section-head">
        <h2 id="amd-h">Amendments</h2>
        {role && c.status === 'active' && !composing && (
          <Button kind="secondary" onClick={() => setComposing(true)}>
            Propose an amendment
          </Button>
        )}
      </div>
      {c.amendments.length === 0 && !composing && (
        <p className="muted">
          Change the plan together: add milestones, or edit and remove ones that are not funded yet.
        </p>
      )}
      <ul className="amendments">
        {[...c.amendments].reverse().map((a) => (
          <AmendmentItem key={a.id} a={a} />
        ))}
      </ul>
      {composing && <AmendmentForm onDone={() => setComposing(false)} />}
    </section>
  )
}

function AmendmentItem({ a }: { a: Amendment }) {
  const v = useContractView()
  const { c, me, role } = v
  const act = useAction((verb: 'accept' | 'reject' | 'withdraw', key) => api.amendment(verb, a.id, key), {
    invalidate: contractKeys(c.id),
  })
  const title = (id: string) => c.milestones.find((m) => m.id === id)?.title ?? id
  return (
    <li className="amendment">
      <div>
        <Badge state={a.status} /> proposed by {partyName(v, a.proposed_by)} ·{' '}
        <span className="muted">{dateTime(a.created_at, me.time_zone)}</span>
      </div>
      <ul className="small">
        {a.add.map((m, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a proposed amendment never changes; the position is the line's identity
          <li key={`a${i}`}>
            Add “{m.title}” — {money(m.amount, c.currency)}
          </li>
        ))}
        {a.edit.map((e) => (
          <li key={`e${e.milestone_id}`}>
            Edit “{title(e.milestone_id)}”: {e.title !== undefined && `title → “${e.title}” `}
            {e.amount !== undefined && `amount → ${money(e.amount, c.currency)}`}
            {e.entries !== undefined && ` entries → ${e.entries}`}
            {e.due_date !== undefined && ` due → ${e.due_date ?? 'none'}`}
          </li>
        ))}
        {a.remove.map((id) => (
          <li key={`r${id}`}>Remove “{title(id)}”</li>
        ))}
      </ul>
      {a.status === 'proposed' && role && (
        <div className="actions">
          {a.proposed_by === me.id ? (
            <Button kind="ghost" busy={act.pending} onClick={() => void act.run('withdraw')}>
              Withdraw
            </Button>
          ) : (
            <>
              <Button busy={act.pending} onClick={() => void act.run('accept')}>
                Accept
              </Button>
              <Button kind="secondary" disabled={act.pending} onClick={() => void act.run('reject')}>
                Reject
              </Button>
            </>
          )}
        </div>
      )}
      <ErrorNote error={act.error} currency={v.c.currency} />
    </li>
  )
}

function AmendmentForm({ onDone }: { onDone: () => void }) {
  const { c } = useContractView()
  const byEntry = c.payment_mode === 'by_entry'
  const pending = c.milestones.filter((m) => m.state === 'pending')
  const [adds, setAdds] = useState<{ title: string; amount: string }[]>([])
  const [edits, setEdits] = useState<Record<string, { title: string; amount: string }>>({})
  const [removes, setRemoves] = useState<string[]>([])
  const [sentEdits, setSentEdits] = useState<string[]>([])
  const [errors, setErrors] = useState<Errors>({})
  const propose = useAction((b: AmendmentBody, key) => api.proposeAmendment(c.id, b, key), {
    invalidate: contractKeys(c.id),
    onSuccess: onDone,
  })
  const qty = (s: string) => (/^\d+$/.test(s.trim()) ? Number(s) : null)
  const go = () => {
    const e: Errors = {}
    const add = adds.map((a, i) => {
      if (!a.title.trim()) e[`add[${i}].title`] = 'Name the milestone.'
      const n = byEntry ? qty(a.amount) : parseMoney(a.amount, c.currency)
      if (n === null || n < 1)
        e[`add[${i}].${byEntry ? 'entries' : 'amount'}`] = byEntry ? 'How many entries?' : 'Enter an amount.'
      return { title: a.title.trim(), ...(byEntry ? { entries: n ?? 0 } : { amount: n ?? 0 }) }
    })
    // a milestone being removed is not edited too (its edit fields are hidden)
    const edit = Object.entries(edits).flatMap(([id, x]) => {
      if (removes.includes(id)) return []
      const m = c.milestones.find((mm) => mm.id === id)!
      const item: NonNullable<AmendmentBody['edit']>[number] = { id }
      if (x.title.trim() && x.title !== m.title) item.title = x.title.trim()
      const n = byEntry ? qty(x.amount) : parseMoney(x.amount, c.currency)
      if (byEntry ? n !== m.entries : n !== m.amount) {
        if (n === null || n < 1) e[`edit.${id}`] = 'Enter a valid amount.'
        else if (byEntry) item.entries = n
        else item.amount = n
      }
      return Object.keys(item).length > 1 ? [item] : []
    })
    if (!add.length && !edit.length && !removes.length) e.form = 'Add, edit or remove at least one milestone.'
    setErrors(e)
    if (Object.keys(e).length) return
    setSentEdits(edit.map((x) => x.id ?? ''))
    void propose.run({
      ...(add.length ? { add } : {}),
      ...(edit.length ? { edit } : {}),
      ...(removes.length ? { remove: removes } : {}),
    })
  }
  // the server names an edit by its place in what was sent (`edit[1].amount`): shown on that milestone's row
  const editError = (id: string) => {
    const i = sentEdits.indexOf(id)
    const param = propose.error?.param ?? ''
    return i >= 0 && param.startsWith(`edit[${i}]`)
      ? moneyText(propose.error!.message, c.currency, propose.error!)
      : undefined
  }
  // errors shown beside their field are not repeated below the form
  const shownBeside = (param: string | null | undefined) =>
    !!param && (/^add\[\d+\]\.(title|amount|entries)$/.test(param) || /^edit\[\d+\]/.test(param))
  return (
    <form
      className="action-form"
      aria-label="Propose an amendment"
      noValidate
      onSubmit={(ev) => {
        ev.preventDefault()
        go()
      }}
    >
      <h4>New milestones</h4>
      {adds.map((a, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: a line is its position, as in the API's params (add[i].amount); every input is controlled
        <div className="row-2" key={i}>
          <TextField
            label="Title"
            value={a.title}
            onChange={(t) => setAdds(adds.map((x, j) => (j === i ? { ...x, title: t } : x)))}
            error={errorFor(`add[${i}].title`, errors, propose.error)}
          />
          <TextField
            label={byEntry ? `${c.unit_name ?? 'Entries'} (count)` : `Amount (${c.currency})`}
            inputMode="decimal"
            value={a.amount}
            onChange={(t) => setAdds(adds.map((x, j) => (j === i ? { ...x, amount: t } : x)))}
            error={
              errorFor(`add[${i}].${byEntry ? 'entries' : 'amount'}`, errors, propose.error, c.currency) ??
              errorFor(`milestones[${i}].amount`, {}, propose.error, c.currency)
            }
          />
        </div>
      ))}
      <Button kind="ghost" onClick={() => setAdds([...adds, { title: '', amount: '' }])}>
        + Add a milestone
      </Button>
      {pending.length > 0 && (
        <>
          <h4>Not-yet-funded milestones</h4>
          {pending.map((m) => {
            const ed = edits[m.id]
            return (
              <div key={m.id} className="amend-pending">
                <Checkbox
                  label={`Remove “${m.title}”`}
                  checked={removes.includes(m.id)}
                  onChange={(on) => setRemoves(on ? [...removes, m.id] : removes.filter((x) => x !== m.id))}
                />
                {!removes.includes(m.id) &&
                  (ed ? (
                    <div className="row-2">
                      <TextField
                        label="Title"
                        value={ed.title}
                        onChange={(t) => setEdits({ ...edits, [m.id]: { ...ed, title: t } })}
                      />
                      <TextField
                        label={byEntry ? 'Entries' : `Amount (${c.currency})`}
                        inputMode="decimal"
                        value={ed.amount}
                        onChange={(t) => setEdits({ ...edits, [m.id]: { ...ed, amount: t } })}
                        error={errors[`edit.${m.id}`] ?? editError(m.id)}
                      />
                    </div>
                  ) : (
                    <Button
                      kind="ghost"
                      onClick={() =>
                        setEdits({
                          ...edits,
                          [m.id]: {
                            title: m.title,
                            amount: byEntry ? String(m.entries ?? '') : toMajorInput(m.amount, c.currency),
                          },
                        })
                      }
                    >
                      Edit “{m.title}”
                    </Button>
                  ))}
              </div>
            )
          })}
        </>
      )}
      {errors.form && <div className="field-error">{errors.form}</div>}
      <ErrorNote error={shownBeside(propose.error?.param) ? null : propose.error} currency={c.currency} />
      <div className="actions">
        <Button type="submit" busy={propose.pending}>
          Propose
        </Button>
        <Button kind="ghost" onClick={onDone} disabled={propose.pending}>
          Cancel
        </Button>
      </div>
    </form>
  )
}
