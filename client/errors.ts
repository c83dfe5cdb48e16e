/** Stable codes of the errors the client raises. */
export type GateClientErrorCode =
  /** `send` while not connected, with `offline: 'error'`. */
  | 'GATE_CLIENT_OFFLINE'
  /** `send` while not connected, with the offline queue full. */
  | 'GATE_CLIENT_QUEUE_FULL'
  /** `send`, `next` or `connect` on a client that stopped for good (closed, kicked, replaced, login refused, gave up). */
  | 'GATE_CLIENT_CLOSED'
  /** A name or body the codec cannot encode. */
  | 'GATE_CLIENT_BAD_MESSAGE'
  /** A payload from the server that does not decode (the message is dropped, the connection stays). */
  | 'GATE_CLIENT_BAD_PAYLOAD'
  /** `next` or the connect/login step did not complete in time. */
  | 'GATE_CLIENT_TIMEOUT'
  /** A listener or hook threw. */
  | 'GATE_CLIENT_LISTENER'
  /** `GET /gate/protocol` failed. */
  | 'GATE_CLIENT_PROTOCOL'
  /** (`onError`) the resume position store's `get` or `set` failed; the client goes on with the position it has. */
  | 'GATE_CLIENT_POSITION_STORE'
  /**
   * `subscribe` or `request` refused by the server (`serverCode` says why:
   * `NOT_ALLOWED`, `ROOM_LIMIT`, `INVALID_ROOM`, `LOGIN_REQUIRED`, `UNKNOWN`,
   * `FAILED`, or the handler's own code); (`onError`) a room refused when
   * re-subscribed after a reconnect. The connection stays open.
   */
  | 'GATE_CLIENT_REFUSED'

/** Every error the client raises or reports has a stable `code`. */
export class GateClientError extends Error {
  readonly code: GateClientErrorCode
  /** The close code, for `GATE_CLIENT_CLOSED`. */
  readonly closeCode: number | undefined
  /** The server's code, for `GATE_CLIENT_REFUSED` (docs/protocol.md section 10). */
  readonly serverCode: string | undefined
  /** The room, for a refused subscribe. */
  readonly room: string | undefined

  constructor (code: GateClientErrorCode, message: string, opts: { cause?: unknown, closeCode?: number, serverCode?: string, room?: string } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'GateClientError'
    this.code = code
    this.closeCode = opts.closeCode
    this.serverCode = opts.serverCode
    this.room = opts.room
  }
}

/**
 * Thrown by a `login` hook to say the server refused the login: the client
 * stops for good (no reconnect) and reports `closeCode` (default 4003,
 * unauthorized). Any other error thrown by `login` counts as a failed
 * connection attempt and is retried.
 */
export class LoginRefused extends Error {
  readonly closeCode: number
  constructor (message = 'login refused', closeCode = 4003) {
    super(message)
    this.name = 'LoginRefused'
    this.closeCode = closeCode
  }
}
