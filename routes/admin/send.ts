import { Type, type TObject, type TProperties, type TSchema } from '@sinclair/typebox'
import type { Gate } from '../../src/gate.js'
import type { AnyMessages } from '../../src/messages.js'

/**
 * What the push routes send: a registered message name and its body. The route
 * schema only checks the shape; the gate checks the name and the body against the
 * message's own schema (400 `FST_GATE_UNKNOWN_MESSAGE` / `FST_GATE_INVALID_BODY`).
 */
export const messageFields = {
  name: Type.String({ minLength: 1, maxLength: 256, description: 'a registered message name' }),
  body: Type.Object({}, { additionalProperties: true, description: 'the message body; must pass the message\'s schema' })
}

/** A push body: `extra` fields plus `name` and `body`, nothing else. */
export function sendBody<P extends TProperties> (extra: P): TObject<P & typeof messageFields> {
  return Type.Object({ ...extra, ...messageFields }, { additionalProperties: false })
}

/** The route config key that marks a push route, so the OpenAPI document can list the messages. */
export const SENDS_MESSAGE = 'gateSendsMessage'

/**
 * The gate without the application's message typing: the admin routes take any
 * name and body from the request, and the gate checks them at run time.
 */
export function untyped (gate: Gate<any>): Gate<AnyMessages> {
  return gate
}

/**
 * For the OpenAPI document: `body` as a `oneOf`, one variant per registered
 * message, whose `name` is that message and whose `body` is its schema. With no
 * message registered, the schema is left as it is.
 */
export function messageVariants (gate: Gate<any>, body: TSchema): TSchema {
  const props = (body as TObject).properties
  if (props === undefined) return body
  const { name: _name, body: _body, ...extra } = props
  const defs = gate.messages.list()
  if (defs.length === 0) return body
  return {
    oneOf: defs.map(def => ({
      type: 'object',
      title: def.name,
      properties: {
        ...extra,
        name: { type: 'string', enum: [def.name] },
        body: def.schema ?? messageFields.body
      },
      required: [...new Set([...(body as TObject).required ?? [], 'name', 'body'])],
      additionalProperties: false
    }))
  } as unknown as TSchema
}
