/**
 * A whole, unmasked WebSocket data frame, as a server sends it, in one buffer
 * (RFC 6455 section 5.2): FIN set, no RSV bits, opcode 1 (text) or 2 (binary),
 * no mask, and the payload length in 7 bits, or 126 and 16 bits, or 127 and 64
 * bits (network order). Server frames carry no mask, so one frame serves every
 * connection of a push or broadcast. This module knows nothing of sockets.
 */
export function wsFrame (payload: Buffer, text: boolean): Buffer {
  const len = payload.length
  const headerLength = len < 126 ? 2 : len <= 0xffff ? 4 : 10
  const out = Buffer.allocUnsafe(headerLength + len)
  out[0] = text ? 0x81 : 0x82
  if (headerLength === 2) {
    out[1] = len
  } else if (headerLength === 4) {
    out[1] = 126
    out.writeUInt16BE(len, 2)
  } else {
    out[1] = 127
    // A Buffer is at most 2^53 - 1 bytes: the high 32 bits, then the low 32.
    out.writeUInt32BE(Math.floor(len / 0x100000000), 2)
    out.writeUInt32BE(len >>> 0, 6)
  }
  payload.copy(out, headerLength)
  return out
}
