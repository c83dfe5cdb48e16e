import { LEAF_MESSAGE, LEAF_STREAM } from '../codec/outbound.js'
import { FrameDecoder } from '../framing/length-prefix.js'
import { LogLimiter } from '../limits/log-limiter.js'
import { tooLong } from '../protocol-error.js'
import type { Protocol, ProtocolPeer, ProtocolSession } from './protocol.js'

/**
 * leaf's wire (docs/protocol.md sections 1-3): on TCP, `| len | payload |`
 * frames; on WebSocket, one payload per message. The payload is the gate's
 * encoding (leaf's JSON envelope or `| id | protobuf |`).
 */
export const leafProtocol: Protocol = {
  name: 'leaf',
  stream: LEAF_STREAM,
  message: LEAF_MESSAGE,
  textFrames: true,
  open (peer: ProtocolPeer): ProtocolSession {
    return peer.transport === 'tcp' ? new StreamSession(peer) : new MessageSession(peer)
  }
}

/** Close notices that could not be sent, logged with repeats capped (process-wide). */
const noticeLines = new LogLimiter()

/** leaf over a byte stream: `| len | payload |` frames, cut by the decoder. */
class StreamSession implements ProtocolSession {
  private readonly peer: ProtocolPeer
  private readonly decoder: FrameDecoder

  constructor (peer: ProtocolPeer) {
    this.peer = peer
    const header = peer.options.lenMsgLen
    this.decoder = new FrameDecoder(peer.options, payload => peer.receive(payload, payload.length + header), err => peer.reject(err))
  }

  data (chunk: Buffer): void {
    this.decoder.push(chunk)
  }

  pause (): void {
    this.decoder.pause()
  }

  resume (): void {
    this.decoder.resume()
  }

  /**
   * Raw TCP has no close codes: the `closeNotice` message, when configured,
   * says why (`{ code, reason }`). One that cannot be encoded (its schema
   * refuses the body) is not sent, and logged.
   */
  closing (code: number, reason: string): void {
    const name = this.peer.options.closeNotice
    if (name === undefined) return
    const agent = this.peer.agent
    try {
      agent.send(name, { code, reason })
    } catch (err) {
      const suppressed = noticeLines.allow('close-notice')
      if (suppressed >= 0) agent.log.warn({ err, msgName: name, suppressed }, 'close notice not sent')
    }
  }

  stop (): void {
    this.decoder.stop()
  }

  /** Bytes the decoder holds (a partial frame, or the rest of a read kept while paused): `agent.inboundBytes`. */
  get buffered (): number {
    return this.decoder.buffered
  }
}

/** leaf over WebSocket: one payload per message. */
class MessageSession implements ProtocolSession {
  private readonly peer: ProtocolPeer
  private readonly maxMsgLen: number

  constructor (peer: ProtocolPeer) {
    this.peer = peer
    this.maxMsgLen = peer.options.maxMsgLen
  }

  data (payload: Buffer): void {
    // ws enforces maxPayload from the frame header; this guards a shared ws server with a larger one.
    if (payload.length > this.maxMsgLen) {
      this.peer.reject(tooLong(`message of ${payload.length} bytes is over maxMsgLen ${this.maxMsgLen}`))
      return
    }
    this.peer.receive(payload, payload.length)
  }
}
