import type { Payload } from './transport.js'

/** A decoded payload. */
export interface ClientMessage { name: string, body: unknown }

/** Encodes and decodes payloads (docs/protocol.md section 1). */
export interface Codec {
  readonly encoding: string
  /** Throws `GateClientError` (`GATE_CLIENT_BAD_MESSAGE`) for a name or body it cannot encode. */
  encode: (name: string, body: unknown) => Payload
  /** Throws for a payload that does not decode. */
  decode: (payload: Payload) => ClientMessage
}
