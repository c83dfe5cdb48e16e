import { frame, type FramingOptions } from '../framing/length-prefix.js'
import { wsFrame } from '../framing/ws-frame.js'

/**
 * One encoded message, ready for any number of connections: encoded once, framed
 * for TCP and for WebSocket at most once each (lazily), and shared by every send
 * of a push or broadcast.
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
}
