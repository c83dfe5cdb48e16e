import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'
import { CloseCode } from '../close-codes.js'

/**
 * The ws internals the gate reads, in one place, each with a fallback to what
 * ws documents. Checked by the tests against the installed ws.
 */

/** The socket under a ws WebSocket (ws keeps it in `_socket`), or undefined. */
export function rawSocketOf (ws: WebSocket): Socket | undefined {
  const socket = (ws as unknown as { _socket?: unknown })._socket
  return socket !== null && typeof socket === 'object' && typeof (socket as Socket).write === 'function' ? socket as Socket : undefined
}

/**
 * ws's documented error codes and the close code it sends for each
 * (ws/lib/receiver.js; also permessage-deflate). ws marks the code it sent on
 * the error under a private symbol; this table is the fallback.
 */
const WS_ERROR_CLOSE_CODES: Record<string, number> = {
  WS_ERR_INVALID_OPCODE: CloseCode.PROTOCOL_ERROR,
  WS_ERR_UNEXPECTED_RSV_1: CloseCode.PROTOCOL_ERROR,
  WS_ERR_UNEXPECTED_RSV_2_3: CloseCode.PROTOCOL_ERROR,
  WS_ERR_EXPECTED_FIN: CloseCode.PROTOCOL_ERROR,
  WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH: CloseCode.PROTOCOL_ERROR,
  WS_ERR_EXPECTED_MASK: CloseCode.PROTOCOL_ERROR,
  WS_ERR_UNEXPECTED_MASK: CloseCode.PROTOCOL_ERROR,
  WS_ERR_INVALID_CLOSE_CODE: CloseCode.PROTOCOL_ERROR,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: CloseCode.MESSAGE_TOO_BIG,
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: CloseCode.MESSAGE_TOO_BIG,
  WS_ERR_INVALID_UTF8: CloseCode.INVALID_PAYLOAD,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: CloseCode.POLICY_VIOLATION
}

/** The close code ws sent when it closed a connection for `err` itself. */
export function wsErrorCloseCode (err: Error & { code?: string }): number {
  for (const sym of Object.getOwnPropertySymbols(err)) {
    if (sym.description === 'status-code') {
      const code = (err as unknown as Record<symbol, unknown>)[sym]
      if (typeof code === 'number') return code
    }
  }
  return (err.code !== undefined ? WS_ERROR_CLOSE_CODES[err.code] : undefined) ?? CloseCode.PROTOCOL_ERROR
}
