/**
 * Close codes sent in the WebSocket close frame and passed to disconnect hooks
 * (TCP has no close frame: the socket is ended and the code is only logged).
 * See docs/protocol.md section 4.
 */
export const CloseCode = {
  /** Normal close, by the client or the application. */
  NORMAL: 1000,
  /** Going away: the gate no longer sends it (a stopping node sends 1012); browsers send it when a page is left. */
  GOING_AWAY: 1001,
  /** Bad frame or payload shape. */
  PROTOCOL_ERROR: 1002,
  /** The payload does not decode or fails its schema. */
  INVALID_PAYLOAD: 1007,
  /** Policy violation: sent by the WebSocket library itself (e.g. too many fragments of one message). */
  POLICY_VIOLATION: 1008,
  /** Message too big. */
  MESSAGE_TOO_BIG: 1009,
  /** The connection could not be set up (its protocol threw while opening it); the socket is destroyed. */
  INTERNAL_ERROR: 1011,
  /** Service restart: the node is stopping (`app.close()`, SIGTERM); reconnect after a random delay and resume. */
  SERVICE_RESTART: 1012,
  /** Nothing received for `idleTimeout`. */
  IDLE_TIMEOUT: 4000,
  /** Kicked by the admin API or the application. */
  KICKED: 4001,
  /** The same uid logged in again under the `replace` multi-login policy. */
  REPLACED: 4002,
  /** A message that needs login arrived before login, login failed, or no login within `loginTimeout`. */
  UNAUTHORIZED: 4003,
  /** The outbound backlog passed `maxBufferedBytes` (or the process-wide `maxTotalBufferedBytes`). */
  SLOW_CONSUMER: 4004,
  /** Refused (full, per-IP cap or rate) where the refusal could not happen before the upgrade. */
  SERVER_FULL: 4005
} as const

export type CloseCodeValue = typeof CloseCode[keyof typeof CloseCode]

/** Why a connection closed, as given to disconnect hooks. */
export interface CloseReason {
  code: number
  reason: string
}

/** Cuts a close reason to the 123 bytes a WebSocket close frame can carry, on a UTF-8 boundary. */
export function clampCloseReason (reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason
  let out = ''
  let bytes = 0
  for (const ch of reason) {
    bytes += Buffer.byteLength(ch)
    if (bytes > 123) break
    out += ch
  }
  return out
}
