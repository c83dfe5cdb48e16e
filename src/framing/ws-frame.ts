import * as ws from 'ws'

/**
 * ws's own framer (exported by ws, missing from its type definitions). For an
 * unmasked frame it returns `[header, payload]` (just `[header]` when the payload
 * is empty) without copying the payload.
 */
const frameOf = (ws as unknown as {
  Sender: {
    frame: (data: Buffer, opts: { fin: boolean, rsv1: boolean, opcode: number, mask: boolean, readOnly: boolean }) => Buffer[]
  }
}).Sender.frame

const BINARY = { fin: true, rsv1: false, opcode: 2, mask: false, readOnly: true }
const TEXT = { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: true }

/**
 * A whole, unmasked WebSocket data frame, as a server sends it, in one buffer.
 * Server frames carry no mask, so one frame serves every connection of a push or
 * broadcast. The header comes from ws's `Sender.frame`; this module knows nothing
 * of sockets.
 */
export function wsFrame (payload: Buffer, text: boolean): Buffer {
  const [header] = frameOf(payload, text ? TEXT : BINARY)
  const out = Buffer.allocUnsafe(header.length + payload.length)
  header.copy(out, 0)
  payload.copy(out, header.length)
  return out
}
