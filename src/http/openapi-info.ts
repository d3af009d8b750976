/** The OpenAPI 3.1 description's header, with the table of every error code (generated from errors.ts). */
import { ERROR_CODES, ERROR_TYPE_STATUS } from '../domain/errors.ts'

export function errorTable(): string {
  const rows = Object.entries(ERROR_CODES).map(
    ([code, e]) =>
      `| \`${code}\` | \`${e.type}\` | ${code === 'payload_too_large' ? 413 : ERROR_TYPE_STATUS[e.type]} | ${e.doc} |`,
  )
  return ['| code | type | HTTP | meaning |', '|---|---|---|---|', ...rows].join('\n')
}

export function openapiInfo() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tranche API',
      version: '1.0.0',
      description: [
        'Escrow and milestone payments for fixed-price work. Amounts are integers in minor units; ids are prefixed;',
        'every POST accepts an `Idempotency-Key`. Errors are `{"error": {"type", "code", "message", "param"?}}`:',
        '',
        errorTable(),
      ].join('\n'),
    },
    components: { securitySchemes: { bearer: { type: 'http' as const, scheme: 'bearer' } } },
    security: [{ bearer: [] }],
  }
}
