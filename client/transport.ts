/**
 * What the client core needs from a transport: open a connection, send one
 * payload, close, and be told of payloads and of the close. A payload is one
 * message of docs/protocol.md section 1; framing (WebSocket message, TCP length
 * prefix) is the transport's job.
 */

/** One payload: text (a JSON payload in a WebSocket text frame) or bytes. */
export type Payload = string | Uint8Array

/** Called by a transport connection. Exactly one `onClose` per connection, after or instead of `onOpen`. */
export interface TransportHandlers {
  onOpen: () => void
  onPayload: (payload: Payload) => void
  /** `code` is the WebSocket close code; TCP has none and reports 1006 (docs/protocol.md section 4). */
  onClose: (code: number, reason: string) => void
}

/** One connection attempt. */
export interface TransportConnection {
  send: (payload: Payload) => void
  /** Closes; `onClose` follows. */
  close: (code: number, reason: string) => void
}

export interface Transport {
  /** `'ws'` or `'tcp'`, for logs and tests. */
  readonly name: string
  open: (handlers: TransportHandlers) => TransportConnection
}

/** Close code reported when a connection dropped without a close frame (WebSocket) or on TCP. */
export const ABNORMAL_CLOSE = 1006
