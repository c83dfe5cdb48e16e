import { Ajv, type Options } from 'ajv'
import type { FastifySchemaCompiler } from 'fastify'

/**
 * The admin API's validator compiler: Fastify's defaults (Ajv 8, defaults applied)
 * minus the two that hide mistakes. Bodies are JSON, so nothing is coerced
 * (`"uids": "alice"` is a 400, not `["alice"]`) and nothing is removed (an unknown
 * field is a 400 where the schema says `additionalProperties: false`, not silently
 * dropped). Query strings and path parameters are text by nature, so their numbers
 * and booleans are still coerced (`?offset=0`).
 */
const common: Options = { useDefaults: true, removeAdditional: false, allErrors: false, strict: false }
const json = new Ajv({ ...common, coerceTypes: false })
const text = new Ajv({ ...common, coerceTypes: true })

export const strictValidatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const ajv = httpPart === 'querystring' || httpPart === 'params' || httpPart === 'headers' ? text : json
  return ajv.compile(schema as object)
}
