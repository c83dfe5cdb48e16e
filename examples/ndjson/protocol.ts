import { CloseCode, ProtocolError, type Framing, type Protocol, type ProtocolPeer, type ProtocolSession } from '../../plugins/gate.js'

const NEWLINE = 0x0a

/**
 * Newline-delimited JSON over TCP, for devices that cannot write a length
 * prefix: one leaf JSON envelope per line, both ways.
 *
 *     {"C2S_UserHeartBeat":{"ptime":1}}\n
 *
 * Built on the public protocol API only. The gate must use the JSON encoding:
 * the payload it hands out is already the envelope, so a message's line is
 * that payload and a newline, built once per message for every receiver.
 */
export function ndjsonProtocol (): Protocol {
  const line: Framing = {
    build: msg => Buffer.concat([msg.payload, Buffer.from([NEWLINE])])
  }
  return {
    name: 'ndjson',
    stream: line,
    message: line,
    textFrames: true,
    open: peer => {
      if (peer.processor.encoding !== 'json') throw new Error('ndjson needs the gate\'s JSON encoding')
      return new LineSession(peer)
    }
  }
}

/** Splits the byte stream at newlines; a line longer than `maxMsgLen` closes the connection (1009) before it is complete. */
class LineSession implements ProtocolSession {
  private readonly peer: ProtocolPeer
  private readonly max: number
  /** The start of a line whose end has not arrived yet. */
  private partial: Buffer[] = []
  private partialBytes = 0
  private stopped = false

  constructor (peer: ProtocolPeer) {
    this.peer = peer
    this.max = peer.options.maxMsgLen
  }

  data (chunk: Buffer): void {
    let start = 0
    while (!this.stopped) {
      const end = chunk.indexOf(NEWLINE, start)
      const piece = chunk.subarray(start, end === -1 ? chunk.length : end)
      if (this.partialBytes + piece.length > this.max) {
        this.stop()
        this.peer.reject(new ProtocolError('NDJSON_LINE_TOO_LONG', CloseCode.MESSAGE_TOO_BIG, `a line over ${this.max} bytes`))
        return
      }
      if (end === -1) {
        if (piece.length > 0) {
          this.partial.push(piece)
          this.partialBytes += piece.length
        }
        return
      }
      const payload = this.partial.length === 0 ? piece : Buffer.concat([...this.partial, piece])
      this.partial = []
      this.partialBytes = 0
      start = end + 1
      // Blank lines (a bare "\r\n" or "\n" from a terminal) are skipped, a trailing "\r" is dropped.
      const text = payload.length > 0 && payload[payload.length - 1] === 0x0d ? payload.subarray(0, -1) : payload
      if (text.length > 0) this.peer.receive(text, payload.length + 1)
    }
  }

  stop (): void {
    this.stopped = true
    this.partial = []
  }
}
