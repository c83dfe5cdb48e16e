import type { MessageDef, MessageRegistry } from '../messages.js'

/** The result of decoding one payload: which message, and its body. */
export interface Decoded {
  def: MessageDef
  body: unknown
}

/**
 * Turns payloads into messages and back (leaf's `Processor`). It knows nothing of
 * framing or sockets. `decode` throws a `ProtocolError` for bad input; `encode`
 * throws a `GateError` for bad output (unknown name, body that does not encode).
 */
export interface Processor {
  /** `json`, `protobuf`, or a custom name; reported by `GET /gate/protocol`. */
  readonly encoding: string
  /** Whether payloads are UTF-8 text (WebSocket text frames may then be used). */
  readonly text: boolean
  /** Called once, when the registry is frozen; throw to refuse a message set. */
  init (registry: MessageRegistry): void
  decode (payload: Buffer): Decoded
  encode (def: MessageDef, body: unknown): Buffer
  /**
   * Decodes a body alone, without the envelope (MQTT carries the name in the
   * topic). Needed by protocols that do; throws a `ProtocolError` for bad input.
   */
  decodeBody? (def: MessageDef, bytes: Buffer): unknown
  /** The body's bytes inside a payload `encode` made (a view, no copy). Needed with `decodeBody`. */
  bodyOf? (payload: Buffer, def: MessageDef): Buffer
  /** Extra fields for `GET /gate/protocol` (e.g. the protobuf schema). */
  describe? (): Record<string, unknown>
}
