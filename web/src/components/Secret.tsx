/** A secret shown once (an API key, a webhook signing secret), with a copy button. */
import { useState } from 'react'
import { Button } from './ui'

export function Secret({ label, value, onClose }: { label: string; value: string; onClose: () => void }) {
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
