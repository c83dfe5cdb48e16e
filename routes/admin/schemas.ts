import { Type } from '@sinclair/typebox'
import { Delivery } from '../../src/answers.js'
import { MAX_NAME_LENGTH } from '../../src/identity.js'
import type { FastifySchema } from 'fastify'

/**
 * Schemas shared by the admin routes (docs/protocol.md section 5). Every route declares
 * a schema for each status it can answer; errors all have Fastify's shape.
 */

/** Fastify's error shape, with a stable `code` (`FST_GATE_…`, or Fastify's own `FST_ERR_…`). */
export const ErrorAnswer = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String()
}, { description: 'Fastify error shape' })

type ErrorAnswers<C extends number> = { [K in C]: typeof ErrorAnswer }

/** The error responses of a route, by status: `errors(400, 401)`. */
export function errors<const C extends number> (...codes: C[]): ErrorAnswers<C> {
  return Object.fromEntries(codes.map(code => [code, ErrorAnswer])) as ErrorAnswers<C>
}

/** Set on cluster answers when some node's part is missing (the core's schema). */
export { clusterFields } from '../../src/answers.js'

/** Most uids or agent ids one request may name. */
export const MAX_TARGETS = 1000

/** uids and room names: the bound of every protocol (src/identity.ts); their well-formedness is checked by the gate. */
export const Uid = Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH })
export const Room = Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH })
export const AgentId = Type.String({ minLength: 1, maxLength: 256 })
export const Uids = Type.Array(Uid, { maxItems: MAX_TARGETS })

/** The responses of a push: delivered, bad message or body, no token, cluster store down. */
export const deliveryResponses = { 200: Delivery, ...errors(400, 401, 503) }

/** The OpenAPI tag of every admin route (a host's own @fastify/swagger can hide it with `hiddenTag`). */
export const ADMIN_TAG = 'gate-admin'

/** Route options every admin route shares: the tag, a stable `operationId` and a summary. */
export function adminSchema<S extends FastifySchema> (operationId: string, summary: string, schema: S): S & { tags: string[], summary: string, operationId: string } {
  return { tags: [ADMIN_TAG], operationId, summary, ...schema }
}
