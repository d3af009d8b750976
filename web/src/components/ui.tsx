/** Small building blocks: labelled fields with their error, buttons that show work in flight, badges, money. */
import { type ReactNode, useEffect, useId, useState } from 'react'
import type { ApiError } from '../api/client'
import { label, money, moneyText, until } from '../lib/format'

export type Errors = Record<string, string | undefined>

/**
 * The message for `param`: a client-side check first, then the API's error when it names this field — with the
 * amounts in it shown as money of `currency` when one is given.
 */
export function errorFor(
  param: string,
  client: Errors,
  api: ApiError | null | undefined,
  currency?: string,
): string | undefined {
  if (client[param]) return client[param]
  if (api?.param && api.param === param) return moneyText(api.message, currency, api)
  return undefined
}

interface FieldProps {
  label: ReactNode
  error?: string | undefined
  hint?: ReactNode
  className?: string | undefined
  children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ReactNode
}

export function Field({ label: text, error, hint, className, children }: FieldProps) {
  const id = useId()
  const hintId = hint ? `${id}-hint` : undefined
  const errId = error ? `${id}-error` : undefined
  const describedBy = [hintId, errId].filter(Boolean).join(' ') || undefined
  return (
    <div className={`field${error ? ' field-invalid' : ''}${className ? ` ${className}` : ''}`}>
      <label htmlFor={id}>{text}</label>
      {children({ id, describedBy, invalid: !!error })}
      {hint && (
        <div className="hint" id={hintId}>
          {hint}
        </div>
      )}
      {error && (
        <div className="field-error" id={errId} role="alert">
          {error}
        </div>
      )}
    </div>
  )
}

type InputProps = {
  label: ReactNode
  value: string
  onChange: (v: string) => void
  error?: string | undefined
  hint?: ReactNode
  type?: string | undefined
  placeholder?: string | undefined
  autoComplete?: string | undefined
  required?: boolean | undefined
  name?: string | undefined
  inputMode?: 'decimal' | 'numeric' | 'email' | 'text' | 'url' | undefined
  className?: string | undefined
  prefix?: string | undefined
  disabled?: boolean | undefined
}

export function TextField(p: InputProps) {
  return (
    <Field label={p.label} error={p.error} hint={p.hint} className={p.className}>
      {({ id, describedBy, invalid }) => (
        <div className={p.prefix ? 'input-prefixed' : undefined}>
          {p.prefix && <span className="prefix">{p.prefix}</span>}
          <input
            id={id}
            name={p.name}
            type={p.type ?? 'text'}
            value={p.value}
            placeholder={p.placeholder}
            autoComplete={p.autoComplete}
            required={p.required}
            inputMode={p.inputMode}
            disabled={p.disabled}
            aria-invalid={invalid || undefined}
            aria-describedby={describedBy}
            onChange={(e) => p.onChange(e.target.value)}
          />
        </div>
      )}
    </Field>
  )
}

export function TextArea(p: Omit<InputProps, 'type' | 'prefix'> & { rows?: number | undefined }) {
  return (
    <Field label={p.label} error={p.error} hint={p.hint} className={p.className}>
      {({ id, describedBy, invalid }) => (
        <textarea
          id={id}
          name={p.name}
          rows={p.rows ?? 3}
          value={p.value}
          placeholder={p.placeholder}
          required={p.required}
          aria-invalid={invalid || undefined}
          aria-describedby={describedBy}
          onChange={(e) => p.onChange(e.target.value)}
        />
      )}
    </Field>
  )
}

export function SelectField(
  p: Omit<InputProps, 'type' | 'prefix' | 'placeholder'> & {
    options: readonly (string | { value: string; label: string })[]
  },
) {
  return (
    <Field label={p.label} error={p.error} hint={p.hint} className={p.className}>
      {({ id, describedBy, invalid }) => (
        <select
          id={id}
          name={p.name}
          value={p.value}
          disabled={p.disabled}
          aria-invalid={invalid || undefined}
          aria-describedby={describedBy}
          onChange={(e) => p.onChange(e.target.value)}
        >
          {p.options.map((o) =>
            typeof o === 'string' ? (
              <option key={o} value={o}>
                {o}
              </option>
            ) : (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ),
          )}
        </select>
      )}
    </Field>
  )
}

export function Checkbox(p: {
  label: ReactNode
  checked: boolean
  onChange: (v: boolean) => void
  error?: string | undefined
  disabled?: boolean | undefined
  name?: string | undefined
}) {
  const id = useId()
  return (
    <div className={`check${p.error ? ' field-invalid' : ''}`}>
      <input
        id={id}
        type="checkbox"
        name={p.name}
        checked={p.checked}
        disabled={p.disabled}
        onChange={(e) => p.onChange(e.target.checked)}
      />
      <label htmlFor={id}>{p.label}</label>
      {p.error && (
        <div className="field-error" role="alert">
          {p.error}
        </div>
      )}
    </div>
  )
}

/** The API's error when no field on the form shows it (or it names no field); amounts as money of `currency`. */
export function ErrorNote({
  error,
  fields = [],
  currency,
}: {
  error: ApiError | null | undefined
  fields?: string[]
  currency?: string | undefined
}) {
  if (!error || (error.param && fields.includes(error.param))) return null
  return (
    <div className="error-note" role="alert">
      <strong>{moneyText(error.message, currency, error)}</strong>
      {error.code && <span className="code">{error.code}</span>}
    </div>
  )
}

export function Button({
  children,
  busy,
  kind = 'primary',
  type = 'button',
  onClick,
  disabled,
  className,
  name,
}: {
  children: ReactNode
  busy?: boolean | undefined
  kind?: 'primary' | 'secondary' | 'danger' | 'ghost' | undefined
  type?: 'button' | 'submit' | undefined
  onClick?: () => void
  disabled?: boolean | undefined
  className?: string | undefined
  name?: string | undefined
}) {
  return (
    <button
      type={type}
      name={name}
      className={`btn btn-${kind}${className ? ` ${className}` : ''}`}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
      onClick={onClick}
    >
      {busy && <span className="spinner" aria-hidden="true" />}
      {children}
    </button>
  )
}

export function Badge({ state, children }: { state: string; children?: ReactNode }) {
  return <span className={`badge badge-${state}`}>{children ?? label(state)}</span>
}

export const Money = ({
  amount,
  currency,
  className,
}: {
  amount: number
  currency: string
  className?: string | undefined
}) => <span className={`money${className ? ` ${className}` : ''}`}>{money(amount, currency)}</span>

/** A deadline as "in 3 days 4 hours", refreshed every 30 seconds; the exact time in the viewer's zone on hover. */
export function Countdown({
  to,
  exact,
  prefix = 'in ',
}: {
  to: string | null
  exact?: string | undefined
  prefix?: string | undefined
}) {
  const [, tick] = useState(0)
  useEffect(() => {
    const t = setInterval(() => tick((x) => x + 1), 30_000)
    return () => clearInterval(t)
  }, [])
  if (!to) return null
  const u = until(to)
  return (
    <time
      dateTime={to}
      title={exact}
      className={u.past ? 'countdown past' : u.ms < 86_400_000 ? 'countdown soon' : 'countdown'}
    >
      {u.past ? `due ${u.text} ago` : `${prefix}${u.text}`}
    </time>
  )
}

export function Loading({ what = 'Loading' }: { what?: string | undefined }) {
  return (
    <p className="loading" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {what}…
    </p>
  )
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>
}

export function Stat({ label: l, children, tone }: { label: string; children: ReactNode; tone?: string | undefined }) {
  return (
    <div className={`stat${tone ? ` stat-${tone}` : ''}`}>
      <div className="stat-label">{l}</div>
      <div className="stat-value">{children}</div>
    </div>
  )
}
