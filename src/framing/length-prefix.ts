import { protocolError, tooLong, type ProtocolError } from '../protocol-error.js'

/**
 * leaf's TCP framing (network/tcp_msg.go):
 *
 *     | len : lenMsgLen bytes | payload : len bytes |
 *
 * `len` is unsigned, counts the payload only, and is big-endian unless
 * `littleEndian`. This module knows nothing of sockets.
 */
export interface FramingOptions {
  lenMsgLen: 1 | 2 | 4
  littleEndian: boolean
  minMsgLen: number
  maxMsgLen: number
}

/** The largest payload a `lenMsgLen`-byte header can describe. */
export function maxLenFor (lenMsgLen: 1 | 2 | 4): number {
  return lenMsgLen === 1 ? 0xff : lenMsgLen === 2 ? 0xffff : 0xffffffff
}

function readLen (buf: Buffer, offset: number, lenMsgLen: 1 | 2 | 4, littleEndian: boolean): number {
  switch (lenMsgLen) {
    case 1: return buf[offset]
    case 2: return littleEndian ? buf.readUInt16LE(offset) : buf.readUInt16BE(offset)
    default: return littleEndian ? buf.readUInt32LE(offset) : buf.readUInt32BE(offset)
  }
}

/** Writes a frame header for a `len`-byte payload at `offset`. */
export function writeHeader (buf: Buffer, offset: number, len: number, opts: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'>): void {
  switch (opts.lenMsgLen) {
    case 1: buf[offset] = len; break
    case 2: if (opts.littleEndian) buf.writeUInt16LE(len, offset); else buf.writeUInt16BE(len, offset); break
    default: if (opts.littleEndian) buf.writeUInt32LE(len, offset); else buf.writeUInt32BE(len, offset)
  }
}

/** Returns header + payload as one buffer. The caller checks `payload.length` against the limits. */
export function frame (payload: Buffer, opts: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'>): Buffer {
  const out = Buffer.allocUnsafe(opts.lenMsgLen + payload.length)
  writeHeader(out, 0, payload.length, opts)
  payload.copy(out, opts.lenMsgLen)
  return out
}

/**
 * Incremental decoder: feed it socket chunks split or coalesced anywhere; it calls
 * `onFrame` once per complete payload, in order. The length is checked against
 * `minMsgLen`/`maxMsgLen` as soon as the header is read, before any body byte is
 * buffered; a bad length calls `onError` once and the decoder stops for good.
 *
 * A payload that lies wholly inside one chunk is passed as a view of that chunk
 * (no copy); only a payload split across chunks is copied, into a buffer of
 * exactly its length.
 */
export class FrameDecoder {
  private readonly opts: FramingOptions
  private readonly onFrame: (payload: Buffer) => void
  private readonly onError: (err: ProtocolError) => void
  private readonly header: Buffer
  private headerFill = 0
  private body: Buffer | null = null
  private bodyFill = 0
  private stopped = false
  private paused = false
  /** The unread rest of a chunk, kept while paused. */
  private rest: Buffer | undefined

  constructor (opts: FramingOptions, onFrame: (payload: Buffer) => void, onError: (err: ProtocolError) => void) {
    this.opts = opts
    this.onFrame = onFrame
    this.onError = onError
    this.header = Buffer.alloc(opts.lenMsgLen)
  }

  /** Stops decoding: later chunks, and the rest of the current one, are ignored. */
  stop (): void {
    this.stopped = true
    this.body = null
    this.rest = undefined
  }

  /** Bytes held for an incomplete frame or an unread rest. */
  get buffered (): number {
    return this.headerFill + this.bodyFill + (this.rest?.length ?? 0)
  }

  /**
   * Stops emitting frames, even from the chunk being decoded: the unread rest is
   * kept (at most one chunk) until `resume()`. Used for inbound backpressure.
   */
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

  push (chunk: Buffer): void {
    if (this.rest !== undefined) {
      this.rest = Buffer.concat([this.rest, chunk])
      return
    }
    const { lenMsgLen, littleEndian } = this.opts
    let off = 0
    while (off < chunk.length && !this.stopped) {
      if (this.paused) {
        this.rest = chunk.subarray(off)
        return
      }
      if (this.body === null) {
        let len: number
        if (this.headerFill === 0 && chunk.length - off >= lenMsgLen) {
          len = readLen(chunk, off, lenMsgLen, littleEndian)
          off += lenMsgLen
        } else {
          const n = Math.min(lenMsgLen - this.headerFill, chunk.length - off)
          chunk.copy(this.header, this.headerFill, off, off + n)
          this.headerFill += n
          off += n
          if (this.headerFill < lenMsgLen) return
          this.headerFill = 0
          len = readLen(this.header, 0, lenMsgLen, littleEndian)
        }
        if (!this.checkLen(len)) return
        if (chunk.length - off >= len) {
          const payload = chunk.subarray(off, off + len)
          off += len
          this.onFrame(payload)
          continue
        }
        this.body = Buffer.allocUnsafe(len)
        this.bodyFill = 0
      }
      const body = this.body
      const n = Math.min(body.length - this.bodyFill, chunk.length - off)
      chunk.copy(body, this.bodyFill, off, off + n)
      this.bodyFill += n
      off += n
      if (this.bodyFill === body.length) {
        this.body = null
        this.bodyFill = 0
        this.onFrame(body)
      }
    }
  }

  private checkLen (len: number): boolean {
    const { minMsgLen, maxMsgLen } = this.opts
    if (len > maxMsgLen) {
      this.stop()
      this.onError(tooLong(`frame length ${len} is over maxMsgLen ${maxMsgLen}`))
      return false
    }
    if (len < minMsgLen) {
      this.stop()
      this.onError(protocolError('GATE_FRAME_TOO_SHORT', `frame length ${len} is under minMsgLen ${minMsgLen}`))
      return false
    }
    return true
  }
}
