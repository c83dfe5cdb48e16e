import { frame, type FramingOptions } from '../framing/length-prefix.js'
import { wsFrame } from '../framing/ws-frame.js'

/**
 * How one protocol on one transport lays a message out on the wire (leaf's
 * length prefix on TCP, an MQTT PUBLISH, a WebSocket frame around either).
 * `OutboundMessage` builds each framing's bytes at most once per message, so a
 * broadcast costs one encode per protocol and transport in use, not one per
 * receiver. A framing object is the cache key: make one per protocol and keep it.
 */
export interface Framing {
  build (msg: OutboundMessage): Buffer
}

/** leaf over a byte stream: `| len | payload |`. */
export const LEAF_STREAM: Framing = { build: msg => msg.framed }
/** leaf over WebSocket: the payload is the message. */
export const LEAF_MESSAGE: Framing = { build: msg => msg.payload }
/** leaf over WebSocket, whole frame (binary, or text when `msg.text`). */
export const LEAF_WS_FRAME: Framing = { build: msg => msg.wsFrame }

/**
 * One encoded message, ready for any number of connections: encoded once, framed
 * for each protocol and transport at most once (lazily), and shared by every
 * send of a push or broadcast.
 *
 * Small buffers come from Node's shared 8 KiB pool, and a slice keeps its whole
 * slab alive. That is harmless for a frame the OS takes at once, but a frame that
 * waits in a slow receiver's queue would pin 8 KiB for a few hundred bytes. So
 * frames that are queued use `unpooledFrame()`: a copy in memory of its own, made
 * at most once per message and framing, shared by every receiver that queues it.
 */
export class OutboundMessage {
  readonly name: string
  /** The payload, as sent in one WebSocket message (leaf's envelope in the gate's encoding). */
  readonly payload: Buffer
  /** Whether WebSocket clients get it as a text frame. */
  readonly text: boolean
  /**
   * A protocol's own control bytes (an MQTT CONNACK, a PUBACK), written as they
   * are by every framing of that protocol; never a message of the registry.
   */
  readonly raw: boolean
  private readonly framing: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'>
  private tcpFrame: Buffer | undefined
  private webSocketFrame: Buffer | undefined
  /**
   * Flat quadruples (framing, frame, unpooled frame, queues holding the unpooled
   * frame); a message meets one to four framings.
   */
  private frames: Array<Framing | Buffer | number | undefined> | undefined

  constructor (name: string, payload: Buffer, text: boolean, framing: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'>, raw = false) {
    this.name = name
    this.payload = payload
    this.text = text
    this.framing = framing
    this.raw = raw
  }

  /** A protocol's control packet, to be written as it is (in order with the messages). */
  static raw (bytes: Buffer): OutboundMessage {
    return new OutboundMessage('', bytes, false, NO_FRAMING, true)
  }

  /** `| len | payload |`, built on first use and then reused. */
  get framed (): Buffer {
    return (this.tcpFrame ??= frame(this.payload, this.framing))
  }

  /** The whole WebSocket frame (binary, or text when `text`), built on first use and then reused. */
  get wsFrame (): Buffer {
    return (this.webSocketFrame ??= wsFrame(this.payload, this.text))
  }

  /** This message's bytes in `framing`, built on first use and then reused. */
  frame (framing: Framing): Buffer {
    // leaf's own framings are fields: no framing table per message on the echo path.
    if (framing === LEAF_STREAM) return this.framed
    if (framing === LEAF_WS_FRAME) return this.wsFrame
    if (framing === LEAF_MESSAGE) return this.payload
    const i = this.slot(framing)
    return (this.frames![i + 1] ??= framing.build(this)) as Buffer
  }

  /** `frame(framing)` in memory of its own, for a frame that will wait in a queue. */
  unpooledFrame (framing: Framing): Buffer {
    const i = this.slot(framing)
    return (this.frames![i + 2] ??= ownMemory(this.frame(framing))) as Buffer
  }

  /**
   * One more outbound queue holds `unpooledFrame(framing)`. True when it is the
   * first: the process-wide backlog then holds its bytes (see `Backlog`).
   */
  hold (framing: Framing): boolean {
    const i = this.slot(framing)
    const n = this.frames![i + 3] as number
    this.frames![i + 3] = n + 1
    return n === 0
  }

  /** Whether some outbound queue holds `unpooledFrame(framing)` already. */
  held (framing: Framing): boolean {
    return this.frames !== undefined && (this.frames[this.slot(framing) + 3] as number) > 0
  }

  /** A queue let `unpooledFrame(framing)` go. True when it was the last. */
  release (framing: Framing): boolean {
    const i = this.slot(framing)
    const n = (this.frames![i + 3] as number) - 1
    this.frames![i + 3] = n
    return n === 0
  }

  private slot (framing: Framing): number {
    const f = (this.frames ??= [])
    for (let i = 0; i < f.length; i += 4) if (f[i] === framing) return i
    f.push(framing, undefined, undefined, 0)
    return f.length - 4
  }
}

const NO_FRAMING = { lenMsgLen: 2, littleEndian: false } as const

/** `buf` itself when it owns its ArrayBuffer, else a copy that does. */
function ownMemory (buf: Buffer): Buffer {
  if (buf.byteOffset === 0 && buf.buffer.byteLength === buf.length) return buf
  const out = Buffer.allocUnsafeSlow(buf.length)
  buf.copy(out)
  return out
}
