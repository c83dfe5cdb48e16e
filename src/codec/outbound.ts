import { frame, type FramingOptions } from '../framing/length-prefix.js'

/**
 * One encoded message, ready for any number of connections: encoded once, framed
 * for TCP at most once (lazily), and shared by every send of a push or broadcast.
 */
export class OutboundMessage {
  readonly name: string
  /** The payload, as sent in one WebSocket message. */
  readonly payload: Buffer
  /** Whether WebSocket clients get it as a text frame. */
  readonly text: boolean
  private readonly framing: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'>
  private tcpFrame: Buffer | undefined

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
}
