/**
 * Users, sessions and API keys (SPEC §2, §10). Passwords are argon2id; session tokens and API key secrets are
 * random and stored only as SHA-256 hashes, so a lookup by hash is also a constant-time comparison.
 */
import { createHash } from 'node:crypto'
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2'
import { DomainError, fail, noCursor } from '../domain/errors.ts'
import { iso } from '../domain/types.ts'
import { isUniqueViolation, writeOnce } from '../store/database.ts'
import { afterCursor } from '../store/paging.ts'
import { prepared } from '../store/prepared.ts'
import { num } from '../store/schema.ts'
import { type App, type IdempotentResponse, run } from './app.ts'
import { newId, newSecret } from './ids.ts'

const ARGON = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } // OWASP's argon2id baseline
const SESSION_MS = 30 * 86_400_000

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

export interface UserRow {
  id: string
  email: string
  name: string
  time_zone: string
  is_admin: bigint | number
  created_at: bigint | number | string
}

export function presentUser(u: UserRow) {
  return {
    id: u.id,
    object: 'user' as const,
    email: u.email,
    name: u.name,
    time_zone: u.time_zone,
    is_admin: num(u.is_admin) === 1,
    created_at: iso(num(u.created_at)),
  }
}

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

export async function createUser(
  app: App,
  input: { email: string; password: string; name: string; timeZone?: string | undefined; admin?: boolean },
) {
  const email = input.email.trim()
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) fail('parameter_invalid', 'That is not an email address.', 'email')
  if (input.password.length < 10) fail('parameter_invalid', 'A password has at least 10 characters.', 'password')
  const tz = input.timeZone ?? 'UTC'
  if (!isTimeZone(tz))
    fail('parameter_invalid', `Unknown time zone: ${tz} (use an IANA name like Europe/Paris).`, 'time_zone')
  const row = {
    id: newId('usr'),
    email,
    email_lower: email.toLowerCase(),
    name: input.name,
    time_zone: tz,
    password_hash: await argonHash(input.password, ARGON),
    is_admin: input.admin ? 1 : 0,
    created_at: BigInt(Date.now()),
  }
  try {
    await writeOnce(app.store, (db) => db.insertInto('users').values(row).execute())
  } catch (e) {
    if (isUniqueViolation(e)) fail('email_taken', 'A user with this email exists.', 'email')
    throw e
  }
  return presentUser(row)
}

/**
 * PATCH /v1/me: the signed-in user's name and time zone (checked as at sign-up). One transaction with its audit
 * record; a body that changes nothing writes nothing and answers the user as they are.
 */
export async function updateProfile(app: App, userId: string, input: { name?: string; timeZone?: string }) {
  if (input.name !== undefined && !input.name.trim()) fail('parameter_invalid', 'A name cannot be blank.', 'name')
  if (input.timeZone !== undefined && !isTimeZone(input.timeZone))
    fail('parameter_invalid', `Unknown time zone: ${input.timeZone} (use an IANA name like Europe/Paris).`, 'time_zone')
  const cols = ['id', 'email', 'name', 'time_zone', 'is_admin', 'created_at'] as const
  return run(app, { actor: { kind: 'user', id: userId } }, async (tx) => {
    const before = await tx.db.selectFrom('users').select(cols).where('id', '=', userId).executeTakeFirst()
    if (!before) return fail('authentication_required', 'Your account no longer exists.')
    const changes: { name?: string; time_zone?: string } = {}
    if (input.name !== undefined && input.name !== before.name) changes.name = input.name
    if (input.timeZone !== undefined && input.timeZone !== before.time_zone) changes.time_zone = input.timeZone
    if (!Object.keys(changes).length) return presentUser(before)
    await tx.db.updateTable('users').set(changes).where('id', '=', userId).execute()
    await tx.audit('user.update', userId, changes)
    return presentUser({ ...before, ...changes })
  }).finally(() => app.credentials.forgetUser(userId))
}

/**
 * Creates the first admin from the environment when no user has that email (SPEC §2). A user who has it and is not
 * an admin (someone signed up with it first) is not made one: the operator is warned instead — refusing to start
 * would let anyone who signs up with that email keep the server down.
 */
export async function ensureAdmin(app: App, email: string, password: string) {
  const existing = await app.store.db
    .selectFrom('users')
    .select(['id', 'is_admin'])
    .where('email_lower', '=', email.trim().toLowerCase())
    .executeTakeFirst()
  if (existing) {
    if (!num(existing.is_admin))
      app.log.warn(
        { user: existing.id },
        'TRANCHE_ADMIN_EMAIL belongs to a user who is not an admin, so no admin was made from it; make one with another email: tranche admin create',
      )
    return
  }
  try {
    await createUser(app, { email, password, name: 'Admin', admin: true })
  } catch (e) {
    if (!(e instanceof DomainError && e.code === 'email_taken')) throw e
  }
}

/**
 * Failed logins per account and per client address (SPEC §10); successful logins are not counted. Only keys with
 * failures in the window are kept, and at most `maxKeys` of them (the oldest go first), so a flood of made-up
 * emails cannot grow the process without bound.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>()
  constructor(
    private readonly max = 10,
    private readonly windowMs = 15 * 60_000,
    private readonly maxKeys = 100_000,
  ) {}
  private recent(key: string, now: number) {
    const list = (this.failures.get(key) ?? []).filter((t) => now - t < this.windowMs)
    if (list.length) this.failures.set(key, list)
    else this.failures.delete(key)
    return list
  }
  check(keys: string[], now = Date.now()) {
    if (keys.some((k) => this.recent(k, now).length >= this.max)) {
      fail('rate_limited', 'Too many failed logins; try again in a few minutes.')
    }
  }
  /**
   * Counts an attempt as failed before its password is checked, and returns what forgives it once the password
   * matched: checking is slow and asynchronous, so guesses sent together would otherwise all pass `check` before
   * the first of them was counted.
   */
  attempt(keys: string[], now = Date.now()): () => void {
    this.check(keys, now)
    this.fail(keys, now)
    return () => {
      for (const k of keys) {
        const list = this.failures.get(k)
        const i = list ? list.lastIndexOf(now) : -1
        if (i < 0) continue
        list!.splice(i, 1)
        if (!list!.length) this.failures.delete(k)
      }
    }
  }
  fail(keys: string[], now = Date.now()) {
    for (const k of keys) {
      const list = this.recent(k, now)
      list.push(now)
      this.failures.delete(k) // re-inserted last: the Map's order is then oldest activity first
      this.failures.set(k, list)
    }
    for (const k of this.failures.keys()) {
      if (this.failures.size <= this.maxKeys) break
      this.failures.delete(k)
    }
  }
  get size() {
    return this.failures.size
  }
}

export async function login(app: App, limiter: LoginLimiter, input: { email: string; password: string; ip: string }) {
  // The account key is the email as looked up (trimmed, lower case): padding it must not open a fresh counter.
  const keys = [`email:${input.email.trim().toLowerCase()}`, `ip:${input.ip}`]
  const forgive = limiter.attempt(keys)
  const user = await app.store.db
    .selectFrom('users')
    .selectAll()
    .where('email_lower', '=', input.email.trim().toLowerCase())
    .executeTakeFirst()
  const ok = user ? await argonVerify(user.password_hash, input.password).catch(() => false) : false
  if (!user || !ok) return fail('invalid_credentials', 'The email and password do not match.')
  forgive()
  const token = newSecret('tks')
  const now = Date.now()
  await writeOnce(app.store, (db) =>
    db
      .insertInto('sessions')
      .values({
        token_hash: sha256(token),
        user_id: user.id,
        created_at: BigInt(now),
        expires_at: BigInt(now + SESSION_MS),
      })
      .execute(),
  )
  return { object: 'session' as const, token, expires_at: iso(now + SESSION_MS), user: presentUser(user) }
}

export async function logout(app: App, token: string) {
  const hash = sha256(token)
  await writeOnce(app.store, (db) => db.deleteFrom('sessions').where('token_hash', '=', hash).execute())
  app.credentials.forget(hash)
}

/** The user behind a session token or an API key secret, or null (remembered for a moment: credentials.ts). */
export async function authenticate(app: App, token: string): Promise<UserRow | null> {
  const db = app.store.db
  const session = token.startsWith('tks_')
  if (!session && !token.startsWith('sk_')) return null
  const hash = sha256(token)
  const found = await app.credentials.find(hash, async () => {
    if (!session) {
      const row = (await keyUser(db, { hash })).rows[0]
      return row ? { user: row, expiresAt: null } : null
    }
    const row = (await sessionUser(db, { hash })).rows[0]
    return row ? { user: row, expiresAt: num(row.expires_at) } : null
  })
  return found && (found.expiresAt === null || found.expiresAt > Date.now()) ? found.user : null
}

const USER_COLUMNS = [
  'users.id',
  'users.email',
  'users.name',
  'users.time_zone',
  'users.is_admin',
  'users.created_at',
] as const
// every request starts with one of these: prepared (see store/prepared.ts)
const sessionUser = prepared((db, a: { hash: string }) =>
  db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([...USER_COLUMNS, 'sessions.expires_at'])
    .where('sessions.token_hash', '=', a.hash),
)
const keyUser = prepared((db, a: { hash: string }) =>
  db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select(USER_COLUMNS)
    .where('api_keys.secret_hash', '=', a.hash)
    .where('api_keys.deleted_at', 'is', null),
)

const presentKey = (k: { id: string; name: string; last4: string; created_at: bigint | number | string }) => ({
  id: k.id,
  object: 'api_key' as const,
  name: k.name,
  last4: k.last4,
  created_at: iso(num(k.created_at)),
})

/** A new API key; its secret is in this answer only (an idempotent replay omits it: it is stored only hashed). */
export async function createApiKey(app: App, userId: string, name: string, idem?: IdempotentResponse) {
  const secret = newSecret('sk')
  const row = {
    id: newId('key'),
    user_id: userId,
    name,
    secret_hash: sha256(secret),
    last4: secret.slice(-4),
    created_at: BigInt(Date.now()),
  }
  return run(app, { actor: { kind: 'user', id: userId }, idem }, async (tx) => {
    await tx.db.insertInto('api_keys').values(row).execute()
    await tx.audit('api_key.create', row.id, { name })
    return { ...presentKey(row), secret }
  })
}

export async function listApiKeys(app: App, userId: string, page: { limit: number; startingAfter: string | null }) {
  const mine = () => app.store.db.selectFrom('api_keys').where('user_id', '=', userId).where('deleted_at', 'is', null)
  let q = mine().selectAll()
  if (page.startingAfter) {
    const cursor =
      (await mine().select(['created_at', 'id']).where('id', '=', page.startingAfter).executeTakeFirst()) ??
      noCursor(page.startingAfter)
    q = q.where(afterCursor(cursor))
  }
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit + 1)
    .execute()
  return { data: rows.slice(0, page.limit).map(presentKey), hasMore: rows.length > page.limit }
}

export async function deleteApiKey(app: App, userId: string, id: string) {
  const res = await writeOnce(app.store, (db) =>
    db
      .updateTable('api_keys')
      .set({ deleted_at: BigInt(Date.now()) })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst(),
  )
  app.credentials.forgetUser(userId)
  if (Number(res.numUpdatedRows) !== 1) fail('resource_missing', `No such API key: ${id}.`)
  return { id, object: 'api_key' as const, deleted: true }
}
