/**
 * Finds each MQTT packet's remaining length in a byte stream, so that an
 * oversize packet is refused from its fixed header, before its body is
 * buffered (mqtt-packet has no size limit). It only reads the fixed header:
 *
 *     | type+flags : 1 byte | remaining length : 1-4 bytes, 7 bits each | rest |
 *
 * and skips the rest; mqtt-packet parses every packet.
 */
export class LengthGuard {
  private readonly limit: number
  /** Bytes of the current packet's rest still to skip. */
  private skip = 0
  /** 0: at a packet's first byte; 1..4: reading the remaining length's bytes. */
  private state = 0
  private len = 0
  private mul = 1

  constructor (limit: number) {
    this.limit = limit
  }

  /** Scans a chunk; returns the first remaining length over the limit, or -1. */
  scan (chunk: Buffer): number {
    let i = 0
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i)
        this.skip -= n
        i += n
        continue
      }
      const b = chunk[i++]!
      if (this.state === 0) {
        this.state = 1
        this.len = 0
        this.mul = 1
        continue
      }
      this.len += (b & 0x7f) * this.mul
      this.mul *= 128
      // A fifth length byte is malformed: mqtt-packet reports it (1002).
      if ((b & 0x80) !== 0 && this.state < 4) {
        this.state++
        continue
      }
      if (this.len > this.limit) return this.len
      this.skip = this.len
      this.state = 0
    }
    return -1
  }
}
