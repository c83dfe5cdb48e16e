import type { ClientMessage, Codec } from './codec.js'
import { GateClientError } from './errors.js'
import type { Payload } from './transport.js'

/**
 * The JSON codec: `{"Name":{...body}}` (docs/protocol.md section 1). It encodes
 * to text, which the gate accepts in WebSocket text frames and which the TCP
 * transport sends as UTF-8; it decodes text and binary payloads alike, so the
 * gate's `textFrames` setting does not matter.
 */
export function json (): Codec {
  const utf8 = new TextDecoder('utf-8', { fatal: true })
  return {
    encoding: 'json',
    encode (name: string, body: unknown): Payload {
      if (typeof name !== 'string' || name === '') throw new GateClientError('GATE_CLIENT_BAD_MESSAGE', 'a message name must be a non-empty string')
      return JSON.stringify({ [name]: body ?? {} })
    },
    decode (payload: Payload): ClientMessage {
      const doc: unknown = JSON.parse(typeof payload === 'string' ? payload : utf8.decode(payload))
      if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('the payload is not a JSON object')
      const keys = Object.keys(doc)
      if (keys.length !== 1) throw new Error(`the payload has ${keys.length} keys, not one`)
      return { name: keys[0], body: (doc as Record<string, unknown>)[keys[0]] }
    }
  }
}
