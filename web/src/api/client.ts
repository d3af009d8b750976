/**
 * The one way the web app talks to the API: openapi-fetch typed by the generated schema (requests), with the
 * session cookie, the CSRF header on writes (double submit), and an Idempotency-Key per user action.
 * Errors become `ApiError` carrying the API's `code`, `message` and `param` (the field it names).
 */
import createClient from 'openapi-fetch'
import type { paths } from './schema'

export const client = createClient<paths>({ baseUrl: typeof location === 'undefined' ? '' : location.origin })

export function cookie(name: string): string | null {
  const m = document.cookie.split(/;\s*/).find((c) => c.startsWith(`${name}=`))
  return m ? decodeURIComponent(m.slice(name.length + 1)) : null
}

/** Server time minus browser time: countdowns follow the API's clock (a manual test clock too). */
let clockOffset = 0
export const serverNow = () => Date.now() + clockOffset

client.use({
  onRequest({ request }) {
    if (!['GET', 'HEAD', 'OPTIONS'].includes(request.method)) {
      // over https the server names its cookies with the __Host- prefix (no sibling subdomain can set those)
      const csrf = cookie('__Host-tranche_csrf') ?? cookie('tranche_csrf')
      if (csrf) request.headers.set('X-CSRF-Token', csrf)
    }
    return request
  },
  onResponse({ response }) {
    const now = response.headers.get('tranche-now')
    if (now) {
      const t = Date.parse(now)
      if (!Number.isNaN(t)) clockOffset = t - Date.now()
    }
    if (response.status === 401) window.dispatchEvent(new Event('tranche:unauthenticated'))
    return response
  },
})

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    readonly type = 'api_error',
  ) {
    super(message)
  }
}

/** No answer at all (offline, server down): the same Idempotency-Key is reused when the user tries again. */
export class NetworkError extends ApiError {
  constructor(message: string) {
    super(0, 'network_error', message)
  }
}

type Result = { data?: unknown; error?: unknown; response: Response }

/** Turns an openapi-fetch result into the typed body or an ApiError. */
export async function unwrap<T>(p: Promise<Result>): Promise<T> {
  let r: Result
  try {
    r = await p
  } catch (e) {
    throw new NetworkError(`Cannot reach Tranche: ${(e as Error).message}`)
  }
  if (r.response.ok) return r.data as T
  const body = r.error as { error?: { code?: string; message?: string; param?: string; type?: string } } | undefined
  const e = body?.error
  throw new ApiError(
    r.response.status,
    e?.code ?? 'api_error',
    e?.message ?? `The server answered ${r.response.status}.`,
    e?.param ?? null,
    e?.type ?? 'api_error',
  )
}

/** A fresh Idempotency-Key for one user action. */
export const newKey = () =>
  typeof crypto !== 'undefined' && 'randomUUID' in crypto
    ? `web_${crypto.randomUUID()}`
    : `web_${Date.now().toString(36)}_${Math.random().toString(36).slice(2)}`

export const idem = (key: string) => ({ headers: { 'Idempotency-Key': key } })
