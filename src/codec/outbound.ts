import { frame, type FramingOptions } from '../framing/length-prefix.js'
import { wsFrame } from '../framing/ws-frame.js'

/**
 * One encoded message, ready for any number of connections: encoded once, framed
 * for TCP and for WebSocket at most once each (lazily), and shared by every send
 * of a push or broadcast.
 *
 * Small buffers come from Node's shared 8 KiB pool, and a slice keeps its whole
 * slab alive. That is harmless for a frame the OS takes at once, but a frame that
 * waits in a slow receiver's queue would pin 8 KiB for a few hundred bytes. So
 * frames that are queued use `unpooled()`: a copy in memory of its own, made at
 * most once per message and shared by every receiver that queues it.
 */
export class OutboundMessage {
  readonly name: string
  /** The payload, as sent in one WebSocket message. */
  readonly payload: Buffer
  /** Whether WebSocket clients get it as a text frame. */
  readonly text: boolean
  private readonly framing: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'>
  private tcpFrame: Buffer | undefined
  private webSocketFrame: Buffer | undefined
  private tcpQueued: Buffer | undefined
  private wsQueued: Buffer | undefined

  constructor (name: string, payload: Buffer, text: boolean, framing: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'>) {
    this.name = name
    this.payload = payload
    this.text = text
    this.framing = framing
  }

  /** `| len | payload |`, built on first use and then reused. */
  get framed (): Buffer {
    return (this.tcpFrame ??= frame(this.payload, this.framing))
  }

  /** The whole WebSocket frame (binary, or text when `text`), built on first use and then reused. */
  get wsFrame (): Buffer {
    return (this.webSocketFrame ??= wsFrame(this.payload, this.text))
  }

  /** `framed` or `wsFrame` in memory of its own, for a frame that will wait in a queue. */
  unpooled (tcp: boolean): Buffer {
    return tcp
      ? (this.tcpQueued ??= ownMemory(this.framed))
      : (this.wsQueued ??= ownMemory(this.wsFrame))
  }
}

/** `buf` itself when it owns its ArrayBuffer, else a copy that does. */
function ownMemory (buf: Buffer): Buffer {
  if (buf.byteOffset === 0 && buf.buffer.byteLength === buf.length) return buf
  const out = Buffer.allocUnsafeSlow(buf.length)
  buf.copy(out)
  return out
}
