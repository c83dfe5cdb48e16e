/**
 * A whole, unmasked WebSocket data frame, as a server sends it (RFC 6455, 5.2):
 *
 *     | FIN + opcode : 1 | len7 : 1 | len16 : 2 or len64 : 8 (when len7 is 126 or 127) | payload |
 *
 * Server frames carry no mask, so one frame serves every connection of a push
 * or broadcast. This module knows nothing of sockets.
 */
export function wsFrame (payload: Buffer, text: boolean): Buffer {
  const len = payload.length
  const header = len < 126 ? 2 : len < 0x10000 ? 4 : 10
  const out = Buffer.allocUnsafe(header + len)
  out[0] = text ? 0x81 : 0x82
  if (header === 2) {
    out[1] = len
  } else if (header === 4) {
    out[1] = 126
    out.writeUInt16BE(len, 2)
  } else {
    out[1] = 127
    out.writeUInt32BE(Math.floor(len / 0x100000000), 2)
    out.writeUInt32BE(len >>> 0, 6)
  }
  payload.copy(out, header)
  return out
}
