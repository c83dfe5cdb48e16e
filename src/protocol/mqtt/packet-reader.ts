/**
 * Cuts an MQTT byte stream into whole packets before mqtt-packet parses them,
 * from each packet's fixed header:
 *
 *     | type+flags : 1 byte | remaining length : 1-4 bytes, 7 bits each | rest |
 *
 * - An oversize packet is refused from its header, before its body is buffered
 *   (mqtt-packet has no size limit).
 * - A packet split over many reads is copied into one buffer of its own size:
 *   what a connection holds of an unfinished packet is at most `limit` bytes,
 *   however many reads it trickles in (mqtt-packet would keep every read).
 * - Reading can pause between two packets (inbound backpressure, the message
 *   rate): the unread rest of the current read is kept until `resume`.
 */
export class PacketReader {
  private readonly limit: number
  private readonly onPacket: (packet: Buffer) => void
  private readonly onOversize: (length: number) => void
  /** The fixed header read so far (type byte and length bytes). */
  private readonly header = Buffer.alloc(5)
  private headerFill = 0
  private body: Buffer | undefined
  private bodyFill = 0
  private paused = false
  private stopped = false
  /** The unread rest of a read, kept while paused. */
  private rest: Buffer | undefined

  constructor (limit: number, onPacket: (packet: Buffer) => void, onOversize: (length: number) => void) {
    this.limit = limit
    this.onPacket = onPacket
    this.onOversize = onOversize
  }

  /** Bytes held: an unfinished packet, and the rest of a read kept while paused. */
  get buffered (): number {
    return this.headerFill + this.bodyFill + (this.rest?.length ?? 0)
  }

  pause (): void {
    this.paused = true
  }

  resume (): void {
    if (!this.paused) return
    this.paused = false
    const rest = this.rest
    this.rest = undefined
    if (rest !== undefined) this.push(rest)
  }

  stop (): void {
    this.stopped = true
    this.body = undefined
    this.rest = undefined
  }

  push (chunk: Buffer): void {
    if (this.rest !== undefined) {
      this.rest = Buffer.concat([this.rest, chunk])
      return
    }
    let off = 0
    while (off < chunk.length && !this.stopped) {
      if (this.paused) {
        this.rest = chunk.subarray(off)
        return
      }
      if (this.body === undefined) {
        // A whole packet inside this read: passed as a view, no copy.
        if (this.headerFill === 0) {
          const len = remainingLength(chunk, off + 1)
          if (len >= 0) {
            const start = off
            const headerLen = 1 + lengthUsed
            if (len > this.limit) {
              this.stop()
              this.onOversize(len)
              return
            }
            if (chunk.length - off >= headerLen + len) {
              off += headerLen + len
              this.onPacket(chunk.subarray(start, off))
              continue
            }
          }
        }
        // The header arrives a byte at a time until its length is complete.
        this.header[this.headerFill++] = chunk[off++]!
        if (this.headerFill === 1) continue
        const len = remainingLength(this.header.subarray(0, this.headerFill), 1)
        if (len < 0) {
          // A fifth length byte is malformed: mqtt-packet reports it (1002).
          if (this.headerFill === 5) this.flushHeader()
          continue
        }
        if (len > this.limit) {
          this.stop()
          this.onOversize(len)
          return
        }
        this.body = Buffer.allocUnsafe(this.headerFill + len)
        this.header.copy(this.body, 0, 0, this.headerFill)
        this.bodyFill = this.headerFill
        this.headerFill = 0
      }
      const body = this.body
      const n = Math.min(body.length - this.bodyFill, chunk.length - off)
      chunk.copy(body, this.bodyFill, off, off + n)
      this.bodyFill += n
      off += n
      if (this.bodyFill === body.length) {
        this.body = undefined
        this.bodyFill = 0
        this.onPacket(body)
      }
    }
  }

  /** Hands a malformed header to the parser as it is, so that it reports the error. */
  private flushHeader (): void {
    const bytes = Buffer.from(this.header.subarray(0, this.headerFill))
    this.headerFill = 0
    this.onPacket(bytes)
  }
}

/** Bytes the last length read by `remainingLength` took (1-4). */
let lengthUsed = 0

/** The remaining length encoded from `at` on (its bytes in `lengthUsed`); -1 while incomplete (or malformed past 4 bytes). */
function remainingLength (buf: Buffer, at: number): number {
  let len = 0
  let mul = 1
  for (let i = 0; i < 4; i++) {
    if (at + i >= buf.length) return -1
    const b = buf[at + i]!
    len += (b & 0x7f) * mul
    if ((b & 0x80) === 0) {
      lengthUsed = i + 1
      return len
    }
    mul *= 128
  }
  return -1
}
