/**
 * Idempotency-Key (SPEC §10), written once for every POST: the key is claimed before the command, the response is
 * stored in the command's own transaction, a replay answers the stored status and body with
 * `Idempotent-Replayed: true`. Requests rejected by validation never reach here, so they store nothing.
 */
import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { App, IdempotentResponse } from '../app/app.ts'
import { DomainError } from '../domain/errors.ts'
import { canonical } from '../store/repos/audit-repo.ts'

export async function idempotent<T>(
  app: App,
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  command: (idem: IdempotentResponse | undefined) => Promise<T>,
  present: (result: T) => unknown = (r) => r,
  /** what a replay may show: a secret stored only hashed is left out of the stored answer */
  redact: (body: unknown) => unknown = (b) => b,
): Promise<unknown> {
  const key = request.headers['idempotency-key']
  const user = request.user
  reply.status(status)
  if (typeof key !== 'string' || !user) return present(await command(undefined))
  if (key.length === 0 || key.length > 255)
    throw new DomainError('parameter_invalid', 'Idempotency-Key is 1 to 255 characters.', 'Idempotency-Key')
  const hash = createHash('sha256')
    .update(`${request.method} ${request.url}\n${canonical(request.body ?? null)}`)
    .digest('hex')
  const claim = await app.claims.claim(user.id, key, hash, Date.now())
  if (claim.kind === 'replay') {
    reply.status(claim.status).header('idempotent-replayed', 'true').type('application/json')
    return reply.send(claim.body)
  }
  if (claim.kind === 'reused')
    throw new DomainError('idempotency_key_reused', 'This Idempotency-Key was used with another request.')
  if (claim.kind === 'in_use')
    throw new DomainError('idempotency_key_in_use', 'A request with this Idempotency-Key is still in flight.')
  let rendered: string | null = null
  try {
    const result = await command({
      userId: user.id,
      key,
      hash,
      status,
      render: (value) => {
        const body = present(value as T)
        rendered = JSON.stringify(body)
        return JSON.stringify(redact(body))
      },
    })
    claim.release?.()
    reply.type('application/json')
    return reply.send(rendered ?? JSON.stringify(present(result)))
  } catch (e) {
    await app.claims.release(user.id, key)
    throw e
  }
}
