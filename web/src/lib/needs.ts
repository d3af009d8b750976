/**
 * "What needs me now" on the dashboard: from my contracts and offers, the things waiting for me (or running
 * against me), earliest deadline first.
 */
import type { Contract, Offer, User } from '../api/types'
import { until } from './format'

export interface Need {
  key: string
  text: string
  to: string
  urgent: boolean
  deadline: string | null
}

const soonest = (xs: (string | null)[]) =>
  xs.filter((x): x is string => !!x).sort((a, b) => Date.parse(a) - Date.parse(b))[0] ?? null

const n = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`

export function needsOf(me: User, contracts: Contract[], offers: Offer[]): Need[] {
  const out: Need[] = []
  for (const c of contracts) {
    if (c.status !== 'active') continue
    const role = c.client_id === me.id ? 'client' : c.freelancer_id === me.id ? 'freelancer' : null
    if (!role) continue
    const to = `/contracts/${c.id}`
    const ms = c.milestones
    const inState = (s: string) => ms.filter((m) => m.state === s)
    if (role === 'client') {
      const submitted = inState('submitted')
      if (submitted.length) {
        const d = soonest(submitted.map((m) => m.review_deadline))
        out.push({
          key: `${c.id}:review`,
          text: `${n(submitted.length, 'submission awaits', 'submissions await')} your review on “${c.title}” — auto-release in ${until(d).text}`,
          to,
          urgent: true,
          deadline: d,
        })
      }
      const pending = inState('pending')
      if (pending.length)
        out.push({
          key: `${c.id}:fund`,
          text: `${n(pending.length, 'milestone is', 'milestones are')} not funded yet on “${c.title}” — the freelancer is not protected until you fund`,
          to,
          urgent: false,
          deadline: null,
        })
    } else {
      const funded = inState('funded')
      if (funded.length)
        out.push({
          key: `${c.id}:work`,
          text: `${n(funded.length, 'funded milestone is', 'funded milestones are')} ready for your work on “${c.title}”`,
          to,
          urgent: false,
          deadline: null,
        })
      const changes = inState('changes_requested')
      if (changes.length)
        out.push({
          key: `${c.id}:changes`,
          text: `${n(changes.length, 'change request', 'change requests')} to address on “${c.title}”`,
          to,
          urgent: true,
          deadline: null,
        })
      const refunds = c.refund_requests.filter((r) => r.status === 'open')
      if (refunds.length) {
        const d = soonest(refunds.map((r) => r.expires_at))
        out.push({
          key: `${c.id}:refunds`,
          text: `${n(refunds.length, 'refund request', 'refund requests')} on “${c.title}” — answer within ${until(d).text} or it is refunded`,
          to,
          urgent: true,
          deadline: d,
        })
      }
      const pending = inState('pending')
      if (pending.length)
        out.push({
          key: `${c.id}:unfunded`,
          text: `${n(pending.length, 'milestone is', 'milestones are')} not funded on “${c.title}” — don't start work that is not in escrow`,
          to,
          urgent: false,
          deadline: null,
        })
    }
    for (const d of c.disputes) {
      if (d.status === 'resolved') continue
      const waitingOnMe =
        (d.status === 'awaiting_response' && d.opened_by !== me.id) ||
        (d.status === 'negotiation' &&
          d.proposals.some((p) => p.status === 'open' && p.by !== me.id && !p.accepted_by.includes(me.id)))
      if (d.status === 'arbitration') {
        out.push({
          key: d.id,
          text: `A dispute on “${c.title}” is with the arbitrator`,
          to,
          urgent: false,
          deadline: null,
        })
      } else if (waitingOnMe) {
        const deadline = d.status === 'awaiting_response' ? d.response_deadline : d.negotiation_deadline
        out.push({
          key: d.id,
          text:
            d.status === 'awaiting_response'
              ? `A dispute on “${c.title}” needs your answer within ${until(deadline).text} — or the other side's proposal applies`
              : `A dispute proposal on “${c.title}” awaits your answer`,
          to,
          urgent: true,
          deadline,
        })
      }
    }
    for (const a of c.amendments) {
      if (a.status === 'proposed' && a.proposed_by !== me.id)
        out.push({
          key: a.id,
          text: `An amendment to “${c.title}” awaits your answer`,
          to,
          urgent: false,
          deadline: null,
        })
    }
  }
  for (const o of offers) {
    if (o.status === 'open' && o.author_id !== me.id)
      out.push({
        key: o.id,
        text: `Offer “${o.terms.title}” (revision ${o.revision}) awaits your answer — expires in ${until(o.expires_at).text}`,
        to: `/offers/${o.id}`,
        urgent: false,
        deadline: o.expires_at,
      })
  }
  return out.sort(
    (a, b) =>
      Number(b.urgent) - Number(a.urgent) || Date.parse(a.deadline ?? '9999') - Date.parse(b.deadline ?? '9999'),
  )
}
