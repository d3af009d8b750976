/** What the offer composer and the counter form share: the fields they show errors next to, and focus on the first. */
import type { TermsDraft } from './terms-draft'

/** The params the terms form shows next to a field (so the API's error for one of them is not repeated above). */
export function fieldParams(d: TermsDraft): string[] {
  const top = [
    'role',
    'counterparty_email',
    'title',
    'description',
    'currency',
    'review_days',
    'revision_limit',
    'unit_name',
    'unit_price',
    'milestones',
  ]
  const lines = d.milestones.flatMap((_, i) =>
    ['title', 'amount', 'entries', 'due_date', 'deposit', 'acceptance_criteria'].map((k) => `milestones[${i}].${k}`),
  )
  return [...top, ...lines]
}

export function focusFirstError() {
  requestAnimationFrame(() => {
    const el = document.querySelector<HTMLElement>('[aria-invalid="true"]')
    el?.focus()
  })
}
