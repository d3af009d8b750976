/** Users, sessions and API keys (SPEC §10). */
import { Type } from 'typebox'
import {
  createApiKey,
  createUser,
  deleteApiKey,
  LoginLimiter,
  listApiKeys,
  login,
  logout,
  presentUser,
  updateProfile,
} from '../../app/accounts.ts'
import type { App } from '../../app/app.ts'
import { newSecret } from '../../app/ids.ts'
import { DomainError } from '../../domain/errors.ts'
import { cookieNames } from '../auth.ts'
import { idempotent } from '../idempotency.ts'
import type { Server } from '../route-kit.ts'
import { list, page } from '../route-kit.ts'
import { ListQuery, Strict } from '../schemas.ts'

export function userRoutes(server: Server, app: App) {
  const limiter = new LoginLimiter()
  server.post(
    '/v1/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Sign up',
        body: Strict({
          email: Type.String({ minLength: 3, maxLength: 320 }),
          password: Type.String({ minLength: 10, maxLength: 1000 }),
          name: Type.String({ minLength: 1, maxLength: 200 }),
          time_zone: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        }),
      },
    },
    async (req, reply) => {
      reply.status(201)
      return createUser(app, {
        email: req.body.email,
        password: req.body.password,
        name: req.body.name,
        timeZone: req.body.time_zone,
      })
    },
  )

  server.post(
    '/v1/sessions',
    {
      schema: {
        tags: ['users'],
        summary: 'Log in: a session token (and the web app cookie)',
        body: Strict({ email: Type.String({ maxLength: 320 }), password: Type.String({ maxLength: 1000 }) }),
      },
    },
    async (req, reply) => {
      const session = await login(app, limiter, { email: req.body.email, password: req.body.password, ip: req.ip })
      const names = cookieNames(req)
      reply.header('set-cookie', [
        `${names.session}=${session.token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000${names.secure}`,
        `${names.csrf}=${newSecret('csrf')}; Path=/; SameSite=Lax; Max-Age=2592000${names.secure}`,
      ])
      reply.status(201)
      return session
    },
  )

  server.delete(
    '/v1/sessions/current',
    { config: { auth: 'user' }, schema: { tags: ['users'], summary: 'Log out' } },
    async (req, reply) => {
      if (req.token!.startsWith('sk_'))
        throw new DomainError(
          'parameter_invalid',
          'An API key is not a session: delete the key with DELETE /v1/api_keys/{id}.',
          'Authorization',
        )
      await logout(app, req.token!)
      const names = cookieNames(req)
      reply.header('set-cookie', [
        `${names.session}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${names.secure}`,
        `${names.csrf}=; Path=/; SameSite=Lax; Max-Age=0${names.secure}`,
      ])
      return { object: 'session', deleted: true }
    },
  )

  server.get(
    '/v1/me',
    { config: { auth: 'user' }, schema: { tags: ['users'], summary: 'The signed-in user' } },
    async (req) => presentUser(req.user!),
  )

  server.patch(
    '/v1/me',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['users'],
        summary: 'Update my profile: name and time zone (an IANA name such as Europe/Paris)',
        body: Strict({
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          time_zone: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
        }),
      },
    },
    async (req) =>
      updateProfile(app, req.user!.id, {
        ...(req.body.name !== undefined ? { name: req.body.name } : {}),
        ...(req.body.time_zone !== undefined ? { timeZone: req.body.time_zone } : {}),
      }),
  )

  server.post(
    '/v1/api_keys',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['users'],
        summary: 'Create an API key (the secret is shown once)',
        body: Strict({ name: Type.String({ minLength: 1, maxLength: 200 }) }),
      },
    },
    async (req, reply) => {
      return idempotent(
        app,
        req,
        reply,
        201,
        (idem) => createApiKey(app, req.user!.id, req.body.name, idem),
        (key) => key,
        (key) => ({ ...(key as object), secret: null }),
      )
    },
  )
  server.get(
    '/v1/api_keys',
    { config: { auth: 'user' }, schema: { tags: ['users'], summary: 'My API keys', querystring: ListQuery } },
    async (req) => {
      const keys = await listApiKeys(app, req.user!.id, page(req.query))
      return list(keys.data, keys.hasMore, '/v1/api_keys')
    },
  )
  server.delete(
    '/v1/api_keys/:id',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['users'],
        summary: 'Delete an API key',
        params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
      },
    },
    async (req) => deleteApiKey(app, req.user!.id, req.params.id),
  )
}
