/** Who is signed in: GET /v1/me through react-query; 401 anywhere sends the user to the login page. */
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { type ReactNode, useEffect } from 'react'
import { Navigate, useLocation } from 'react-router'
import { ApiError } from './api/client'
import { api } from './api/sdk'
import type { User } from './api/types'
import { Loading } from './components/ui'

export function useMe() {
  return useQuery({
    queryKey: ['me'],
    queryFn: async () => {
      try {
        return await api.me()
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) return null
        throw e
      }
    },
    staleTime: 60_000,
  })
}

/** The signed-in user; only used below <RequireAuth>. */
export function useUser(): User {
  const { data } = useMe()
  if (!data) throw new Error('useUser outside RequireAuth')
  return data
}

export function RequireAuth({ children, admin = false }: { children: ReactNode; admin?: boolean }) {
  const me = useMe()
  const qc = useQueryClient()
  const location = useLocation()
  useEffect(() => {
    const onLogout = () => void qc.invalidateQueries({ queryKey: ['me'] })
    window.addEventListener('tranche:unauthenticated', onLogout)
    return () => window.removeEventListener('tranche:unauthenticated', onLogout)
  }, [qc])
  if (me.isPending) return <Loading />
  if (!me.data)
    return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />
  if (admin && !me.data.is_admin) return <Navigate to="/" replace />
  return <>{children}</>
}
