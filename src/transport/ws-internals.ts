import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'
import { CloseCode } from '../close-codes.js'

/**
 * The ws and Node internals the gate reads, in one place, each with a fallback
 * to what ws and Node document:
 *
 * - ws's `_socket`: the socket under a WebSocket, so that one frame built per
 *   message (src/framing/ws-frame.ts) is written straight to it. Fallback: `ws.send`.
 * - ws's error status-code symbol: the close code ws sent. Fallback: a table.
 * - Node's `socket._httpMessage`: the upgrade's response, detached once the
 *   WebSocket is open. Fallback: nothing is detached (a few KiB per connection).
 */

/**
 * Lets the upgrade's HTTP response go once the WebSocket is open: Node keeps it
 * on the socket (`_httpMessage`) for the connection's life otherwise.
 */
export function detachUpgradeResponse (socket: Socket): void {
  const res = (socket as Socket & { _httpMessage?: unknown })._httpMessage
  if (res !== null && typeof res === 'object' && typeof (res as ServerResponse).detachSocket === 'function') (res as ServerResponse).detachSocket(socket)
}

/** The socket under a ws WebSocket (ws keeps it in `_socket`), or undefined (then frames go through `ws.send`). */
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
