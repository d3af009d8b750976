/** The notification feed (GET /v1/events), newest first; what is newer than the last visit is marked unread. */
import { useInfiniteQuery } from '@tanstack/react-query'
import { useEffect, useRef } from 'react'
import { Link } from 'react-router'
import { api } from '../api/sdk'
import type { TrancheEvent } from '../api/types'
import { Button, Empty, ErrorNote, Loading } from '../components/ui'
import { dateTime, money } from '../lib/format'
import { markSeen, parseMarker, unreadIn, useLastSeen } from '../lib/unread'
import { useUser } from '../session'

const TEXT: Record<string, string> = {
  'offer.created': 'New offer',
  'offer.countered': 'Counter-offer',
  'offer.accepted': 'Offer accepted — the contract starts',
  'offer.declined': 'Offer declined',
  'offer.withdrawn': 'Offer withdrawn',
  'offer.expired': 'Offer expired',
  'contract.created': 'Contract created',
  'contract.ended': 'Contract ended',
  'contract.completed': 'Contract completed',
  'amendment.proposed': 'Amendment proposed',
  'amendment.accepted': 'Amendment accepted',
  'amendment.rejected': 'Amendment rejected',
  'amendment.withdrawn': 'Amendment withdrawn',
  'milestone.funded': 'Milestone funded into escrow',
  'milestone.submitted': 'Work submitted for review',
  'milestone.changes_requested': 'Changes requested',
  'milestone.released': 'Money released',
  'milestone.auto_released': 'Auto-released: the review window lapsed',
  'milestone.refunded': 'Refunded to the client',
  'milestone.review_reminder': 'Reminder: a review window is closing',
  'milestone.dormant': 'Dormant milestone: a refund request was opened',
  'refund_request.created': 'Refund requested',
  'refund_request.accepted': 'Refund request accepted',
  'refund_request.declined': 'Refund request declined',
  'refund_request.expired': 'Refund request expired — refunded',
  'dispute.opened': 'Dispute opened',
  'dispute.responded': 'Dispute answered',
  'dispute.proposal_made': 'New dispute proposal',
  'dispute.escalated': 'Dispute sent to arbitration',
  'dispute.resolved': 'Dispute resolved',
  'payout.paid': 'Payout sent',
  'balance.available': 'Earnings are now available',
}

function describe(e: TrancheEvent): { title: string; detail: string; to: string | null } {
  const o = e.data.object as Record<string, unknown>
  const title = TEXT[e.type] ?? e.type
  const s = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : null)
  const nmb = (k: string) => (typeof o[k] === 'number' ? (o[k] as number) : null)
  const cur = s('currency')
  let detail =
    s('title') ?? (o.terms && typeof o.terms === 'object' ? ((o.terms as { title?: string }).title ?? '') : '')
  if (e.type === 'balance.available' && cur && nmb('amount') !== null)
    detail = `${money(nmb('amount')!, cur)} can be paid out`
  if (e.type === 'payout.paid' && cur && nmb('amount') !== null) detail = money(nmb('amount')!, cur)
  if (e.type.startsWith('milestone.') && cur) {
    const amount =
      e.type === 'milestone.released' || e.type === 'milestone.auto_released'
        ? nmb('released_amount')
        : e.type === 'milestone.refunded'
          ? nmb('refunded_amount')
          : nmb('amount')
    if (amount !== null) detail = `${detail} · ${money(amount, cur)}`
  }
  const milestone = s('milestone_title') ? `${s('milestone_title')} · ` : ''
  if (e.type.startsWith('dispute.') && cur && nmb('escrow_amount') !== null)
    detail = `${milestone}${money(nmb('escrow_amount')!, cur)} in dispute`
  if (e.type.startsWith('refund_request.') && cur && nmb('amount') !== null)
    detail = `${milestone}${money(nmb('amount')!, cur)}${s('reason') ? ` — “${s('reason')}”` : ''}`
  const objectKind = s('object')
  const to =
    objectKind === 'offer'
      ? `/offers/${s('id')}`
      : objectKind === 'contract'
        ? `/contracts/${s('id')}`
        : s('contract_id')
          ? `/contracts/${s('contract_id')}`
          : null
  return { title, detail, to }
}

export function NotificationsPage() {
  const me = useUser()
  const lastSeen = useLastSeen(me.id)
  // What was unread when the page opened stays highlighted while it is open.
  const seenAtOpen = useRef<string | null>(null)
  if (seenAtOpen.current === null) seenAtOpen.current = lastSeen
  const feed = useInfiniteQuery({
    queryKey: ['events', 'feed'],
    queryFn: ({ pageParam }) => api.events({ limit: '30', ...(pageParam ? { starting_after: pageParam } : {}) }),
    initialPageParam: '',
    getNextPageParam: (last) => (last.has_more ? last.data[last.data.length - 1]?.id : undefined),
    refetchInterval: 20_000,
  })
  const events = feed.data?.pages.flatMap((p) => p.data) ?? []
  const newest = events[0]
  useEffect(() => {
    if (newest) markSeen(me.id, newest)
  }, [newest, me.id])
  const unreadAtOpen = unreadIn(events, parseMarker(seenAtOpen.current ?? ''))
  // every loaded event is new and there are older ones: more are new than the page shows yet
  const moreUnread = unreadAtOpen > 0 && unreadAtOpen === events.length && feed.hasNextPage
  return (
    <section className="page">
      <div className="page-head">
        <h1>Notifications</h1>
        <span className="muted">
          {unreadAtOpen > 0 && `${unreadAtOpen}${moreUnread ? '+' : ''} new since your last visit · `}
          <Link to="/settings">Webhooks and API keys</Link>
        </span>
      </div>
      {feed.isPending ? (
        <Loading />
      ) : feed.error ? (
        <ErrorNote error={feed.error as never} />
      ) : events.length === 0 ? (
        <Empty>Nothing yet. Offers, funding, submissions, releases and disputes show up here.</Empty>
      ) : (
        <ol className="feed card">
          {events.map((e, i) => {
            const d = describe(e)
            const unread = i < unreadAtOpen
            return (
              <li key={e.id} className={unread ? 'unread' : undefined}>
                <div className="feed-title">
                  {unread && (
                    <>
                      <span className="dot" aria-hidden="true" />
                      <span className="sr-only">New: </span>
                    </>
                  )}
                  {d.to ? <Link to={d.to}>{d.title}</Link> : d.title}
                </div>
                {d.detail && <div className="feed-detail">{d.detail}</div>}
                <div className="muted small">
                  <time dateTime={e.created_at}>{dateTime(e.created_at, me.time_zone)}</time> · <code>{e.type}</code>
                </div>
              </li>
            )
          })}
        </ol>
      )}
      {feed.hasNextPage && (
        <Button kind="secondary" busy={feed.isFetchingNextPage} onClick={() => void feed.fetchNextPage()}>
          Older notifications
        </Button>
      )}
    </section>
  )
}
