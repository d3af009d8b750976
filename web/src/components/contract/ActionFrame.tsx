/** The frame every milestone command's form shares: a title, the fields, a submit and a cancel button. */
import type { FormEvent, ReactNode } from 'react'
import type { Milestone } from '../../api/types'
import { Button } from '../ui'

export type FormProps = { m: Milestone; onDone: () => void }

export function Frame({
  title,
  children,
  onSubmit,
  onCancel,
  busy,
  submit,
  danger,
}: {
  title: string
  children: ReactNode
  onSubmit: () => void
  onCancel: () => void
  busy: boolean
  submit: string
  danger?: boolean
}) {
  return (
    <form
      className="action-form"
      aria-label={title}
      noValidate
      onSubmit={(e: FormEvent) => {
        e.preventDefault()
        onSubmit()
      }}
    >
      <h4>{title}</h4>
      {children}
      <div className="actions">
        <Button type="submit" busy={busy} kind={danger ? 'danger' : 'primary'}>
          {submit}
        </Button>
        <Button kind="ghost" onClick={onCancel} disabled={busy}>
          Cancel
        </Button>
      </div>
    </form>
  )
}
