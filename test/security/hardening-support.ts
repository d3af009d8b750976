/**
 * Shared pieces of the hardening suites (`hardening-*.test.ts`): a raw request through `server.inject` (any headers,
 * any body, any client address), the cookies of a Set-Cookie header, and a login that keeps the session and CSRF
 * cookies the way the web app would.
 */
import type { TestEnv } from '../support/harness.ts'

/** The cookies of a Set-Cookie header list, by name: value and attributes. */
export function setCookies(header: string | string[] | undefined) {
  const out: Record<string, { value: string; attrs: string[] }> = {}
  for (const c of [header ?? []].flat()) {
    const [pair, ...attrs] = c.split(';').map((x) => x.trim())
    const i = pair!.indexOf('=')
    out[pair!.slice(0, i)] = { value: pair!.slice(i + 1), attrs: attrs.map((a) => a.toLowerCase()) }
  }
  return out
}

export async function inject(
  env: TestEnv,
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: unknown,
  remoteAddress?: string,
) {
  const res = await env.server.inject({
    method: method as 'GET',
    url,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    ...(remoteAddress ? { remoteAddress } : {}),
  })
  let parsed: { error?: { code?: string; param?: string } } & Record<string, unknown> = {}
  try {
    parsed = JSON.parse(res.body)
  } catch {}
  return { status: res.statusCode, body: parsed, headers: res.headers, text: res.body }
}

export async function cookieLogin(
  env: TestEnv,
  p: { email: string; password: string },
  headers: Record<string, string> = {},
) {
  const res = await inject(env, 'POST', '/v1/sessions', headers, { email: p.email, password: p.password })
  if (res.status !== 201) throw new Error(`login failed: ${res.status} ${res.text}`)
  const c = setCookies(res.headers['set-cookie'])
  // over https the names carry the __Host- prefix
  const prefix = c['__Host-tranche_session'] ? '__Host-' : ''
  const session = c[`${prefix}tranche_session`]!.value
  const csrf = c[`${prefix}tranche_csrf`]!.value
  return {
    token: res.body.token as string,
    cookies: c,
    cookie: `${prefix}tranche_session=${session}; ${prefix}tranche_csrf=${csrf}`,
    csrf,
  }
}
