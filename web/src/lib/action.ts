/**
 * One user action = one request with its own Idempotency-Key. The key is created when the action starts and kept
 * only while no answer has come back (a network failure may be retried safely with it); the action cannot run
 * twice at once (the button is disabled and a second click in the same tick is ignored), so a double click never
 * pays twice.
 */
import { type QueryKey, useQueryClient } from '@tanstack/react-query'
import { useCallback, useRef, useState } from 'react'
import { ApiError, NetworkError, newKey } from '../api/client'

/** `run(args)`; an action without arguments (`A` undefined) is run as `run()`. */
export type Run<A, R> = (...args: undefined extends A ? [args?: A] : [args: A]) => Promise<R | undefined>

export interface Action<A, R> {
  run: Run<A, R>
  pending: boolean
  error: ApiError | null
  setError: (e: ApiError | null) => void
  reset: () => void
}

export function useAction<A, R>(
  fn: (args: A, key: string) => Promise<R>,
  opts: { invalidate?: QueryKey[]; onSuccess?: (r: R, args: A) => void } = {},
): Action<A, R> {
  const qc = useQueryClient()
  const key = useRef<string | null>(null)
  const busy = useRef(false)
  const [pending, setPending] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)
  const optsRef = useRef(opts)
  optsRef.current = opts

  const run = useCallback(
    async (...a: [args?: A]) => {
      const args = a[0] as A
      if (busy.current) return undefined
      busy.current = true
      setPending(true)
      setError(null)
      key.current ??= newKey()
      const refresh = () =>
        Promise.all(
          (optsRef.current.invalidate ?? [['contract'], ['contracts']]).map((k) =>
            qc.invalidateQueries({ queryKey: k }),
          ),
        )
      try {
        const r = await fn(args, key.current)
        key.current = null
        await refresh()
        optsRef.current.onSuccess?.(r, args)
        return r
      } catch (e) {
        if (!(e instanceof NetworkError)) key.current = null
        setError(e instanceof ApiError ? e : new ApiError(0, 'client_error', (e as Error).message))
        // a conflict (409: the state changed, a stale revision…) means what the page shows is out of date
        if (e instanceof ApiError && e.status === 409) void refresh()
        return undefined
      } finally {
        busy.current = false
        setPending(false)
      }
    },
    [fn, qc],
  )
  return { run, pending, error, setError, reset: () => setError(null) }
}
