/**
 * Reputation (SPEC §8), derived from recorded history — the contracts' milestone, refund and dispute records —
 * never from counters that could drift. A user with no history is said to have none, not shown zeros.
 */
import type { Contract, Dispute } from './contract-model.ts'
import type { ClientRecord } from './planner.ts'

const HOUR = 3_600_000

function median(xs: number[]): number | null {
  if (!xs.length) return null
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

const addTo = (m: Map<string, bigint>, cur: string, x: bigint) => m.set(cur, (m.get(cur) ?? 0n) + x)

/** Who "lost" a resolved dispute: the side that got less than half of what was at stake. */
function loser(d: Dispute): 'client' | 'freelancer' | null {
  if (!d.resolution) return null
  const { releaseAmount: r, refundAmount: q } = d.resolution
  return r > q ? 'client' : q > r ? 'freelancer' : null
}

export function reputationOf(userId: string, contracts: readonly Contract[]) {
  const asClient = contracts.filter((c) => c.clientId === userId)
  const asFreelancer = contracts.filter((c) => c.freelancerId === userId)

  const funded = new Map<string, bigint>()
  let milestonesFunded = 0
  let releasedOnReview = 0
  let autoReleased = 0
  const hoursToRelease: number[] = []
  let refundRequests = 0
  const clientDisputes = { opened: 0, lost: 0, won: 0, by_agreement: 0, by_default: 0, by_arbitration: 0 }
  for (const c of asClient) {
    for (const m of c.milestones) {
      if (m.fundedAt !== null) {
        milestonesFunded++
        addTo(funded, c.currency, m.amount)
      }
      if (m.state === 'released' && !m.deposit) {
        if (m.releasedVia === 'auto_release') autoReleased++
        else if (m.releasedVia === 'approval') releasedOnReview++
        // to the release itself, not to the end of a refund request a partial approval left open
        const at = m.releasedAt ?? m.settledAt
        if (m.submission && at !== null) hoursToRelease.push((at - m.submission.submittedAt) / HOUR)
      }
    }
    refundRequests += c.refundRequests.filter((r) => r.source === 'client' || r.source === 'partial_approve').length
    for (const d of c.disputes) {
      if (d.openedBy === userId) clientDisputes.opened++
      if (d.resolution) clientDisputes[`by_${d.resolution.by}`]++
      const l = loser(d)
      if (l === 'client') clientDisputes.lost++
      if (l === 'freelancer') clientDisputes.won++
    }
  }

  const earned = new Map<string, bigint>()
  let released = 0
  let withDue = 0
  let onTime = 0
  const freelancerDisputes = { opened: 0, lost: 0, won: 0 }
  for (const c of asFreelancer) {
    for (const m of c.milestones) {
      if (m.released > 0n) addTo(earned, c.currency, m.released + m.bonus)
      if (m.state === 'released') released++
      if (m.dueDate && m.submission) {
        withDue++
        if (m.submission.submittedAt < Date.parse(`${m.dueDate}T00:00:00Z`) + 24 * HOUR) onTime++
      }
    }
    for (const d of c.disputes) {
      if (d.openedBy === userId) freelancerDisputes.opened++
      const l = loser(d)
      if (l === 'freelancer') freelancerDisputes.lost++
      if (l === 'client') freelancerDisputes.won++
    }
  }
  const money = (m: Map<string, bigint>) =>
    [...m].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amount]) => ({ currency, amount: Number(amount) }))
  const med = median(hoursToRelease)
  const clientHistory = milestonesFunded > 0
  const freelancerHistory = asFreelancer.some((c) => c.milestones.some((m) => m.fundedAt !== null))
  return {
    object: 'reputation' as const,
    user_id: userId,
    has_history: clientHistory || freelancerHistory,
    summary:
      clientHistory || freelancerHistory
        ? `As client: ${count(milestonesFunded, 'milestone')} funded, ${autoReleased} released only by auto-release. As freelancer: ${count(released, 'milestone')} released.`
        : 'No payment history on Tranche yet: start small (a first milestone of at most 10% of the job).',
    as_client: clientHistory
      ? {
          milestones_funded: milestonesFunded,
          amount_funded: money(funded),
          released_on_review: releasedOnReview,
          auto_released: autoReleased,
          median_hours_to_release: med === null ? null : Math.round(med * 10) / 10,
          refund_requests: refundRequests,
          disputes: clientDisputes,
        }
      : null,
    as_freelancer: freelancerHistory
      ? {
          milestones_released: released,
          submitted_before_due_share: withDue ? Math.round((onTime / withDue) * 1000) / 1000 : null,
          disputes: freelancerDisputes,
          amount_earned: money(earned),
        }
      : null,
  }
}

/** The part of a client's record the planner uses. */
export function clientRecordOf(userId: string, contracts: readonly Contract[]): ClientRecord | null {
  const r = reputationOf(userId, contracts).as_client
  if (!r) return null
  return {
    milestonesReleased: r.released_on_review + r.auto_released,
    autoReleased: r.auto_released,
    disputesLost: r.disputes.lost,
    refundRequests: r.refund_requests,
  }
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`
