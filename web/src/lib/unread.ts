/**
 * The notification feed's unread count: the events newer than the last one seen, kept in localStorage per user.
 * "Newer" is the feed's own order (newest first): timestamps can tie (a manual test clock, one command's events),
 * so the marker is the id of the newest event seen, with its time as a fallback once it scrolls out of the page.
 */
import { useQuery } from '@tanstack/react-query'
import { useCallback, useSyncExternalStore } from 'react'
import { api } from '../api/sdk'
import type { TrancheEvent } from '../api/types'

export interface SeenMarker {
  id: string
  at: string
}

const keyOf = (userId: string) => `tranche:last-seen-event:${userId}`
const listeners = new Set<() => void>()

function readRaw(userId: string): string {
  try {
    return localStorage.getItem(keyOf(userId)) ?? ''
  } catch {
    return ''
  }
}

export function parseMarker(raw: string): SeenMarker | null {
  const [id, at] = raw.split('|')
  return id && at ? { id, at } : null
}

/** How many events of a newest-first list come before the marker. */
export function unreadIn(events: readonly TrancheEvent[], seen: SeenMarker | null): number {
  if (!seen) return events.length
  const i = events.findIndex((e) => e.id === seen.id)
  if (i >= 0) return i
  return events.filter((e) => e.created_at > seen.at).length
}

export function markSeen(userId: string, newest: TrancheEvent | undefined) {
  if (!newest) return
  const raw = `${newest.id}|${newest.created_at}`
  if (raw === readRaw(userId)) return
  try {
    localStorage.setItem(keyOf(userId), raw)
  } catch {
    /* private mode: unread counts just reset */
  }
  for (const l of listeners) l()
}

/** The raw marker string (stable for useSyncExternalStore); parse it with parseMarker. */
export function useLastSeen(userId: string): string {
  const subscribe = useCallback(
    (l: () => void) => {
      listeners.add(l)
      const onStorage = (e: StorageEvent) => e.key === keyOf(userId) && l()
      window.addEventListener('storage', onStorage)
      return () => {
        listeners.delete(l)
        window.removeEventListener('storage', onStorage)
      }
    },
    [userId],
  )
  return useSyncExternalStore(subscribe, () => readRaw(userId))
}

export function useUnread(userId: string) {
  const seen = parseMarker(useLastSeen(userId))
  const feed = useQuery({
    queryKey: ['events', 'head'],
    queryFn: () => api.events({ limit: '50' }),
    refetchInterval: 20_000,
  })
  const events = feed.data?.data ?? []
  const unread = unreadIn(events, seen)
  return { unread, more: unread === events.length && unread > 0 && feed.data?.has_more === true }
}
