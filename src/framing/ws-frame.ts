import { wsFrameHeader } from '../transport/ws-internals.js'

/**
 * A whole, unmasked WebSocket data frame, as a server sends it, in one buffer.
 * Server frames carry no mask, so one frame serves every connection of a push or
 * broadcast. The header comes from ws's `Sender.frame` (see ws-internals); this
 * module knows nothing of sockets. Used only where that check passed.
 */
export function wsFrame (payload: Buffer, text: boolean): Buffer {
  const header = wsFrameHeader(payload, text)
  const out = Buffer.allocUnsafe(header.length + payload.length)
  header.copy(out, 0)
  payload.copy(out, header.length)
  return out
}
