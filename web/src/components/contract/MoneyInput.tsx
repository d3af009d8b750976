import { TextField } from '../ui'

/** An amount typed in major units ("125.50") for a currency. */
export function MoneyInput(p: {
  label: string
  currency: string
  value: string
  onChange: (v: string) => void
  error?: string | undefined
  hint?: React.ReactNode
  name?: string | undefined
}) {
  return (
    <TextField
      label={`${p.label} (${p.currency})`}
      name={p.name}
      inputMode="decimal"
      value={p.value}
      onChange={p.onChange}
      error={p.error}
      hint={p.hint}
    />
  )
}
