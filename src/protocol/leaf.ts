import { LEAF_MESSAGE, LEAF_STREAM } from '../codec/outbound.js'
import { FrameDecoder } from '../framing/length-prefix.js'
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
    return peer.transport === 'tcp' ? streamSession(peer) : messageSession(peer)
  }
}

function streamSession (peer: ProtocolPeer): ProtocolSession & { readonly buffered: number } {
  const header = peer.options.lenMsgLen
  const decoder = new FrameDecoder(peer.options, payload => peer.receive(payload, payload.length + header), err => peer.reject(err))
  return {
    data: chunk => decoder.push(chunk),
    pause: () => decoder.pause(),
    resume: () => decoder.resume(),
    stop: () => decoder.stop(),
    /** Bytes the decoder holds (a partial frame, or the rest of a read kept while paused). */
    get buffered (): number { return decoder.buffered }
  }
}

function messageSession (peer: ProtocolPeer): ProtocolSession {
  const maxMsgLen = peer.options.maxMsgLen
  return {
    data (payload) {
      // ws enforces maxPayload from the frame header; this guards a shared ws server with a larger one.
      if (payload.length > maxMsgLen) {
        peer.reject(tooLong(`message of ${payload.length} bytes is over maxMsgLen ${maxMsgLen}`))
        return
      }
      peer.receive(payload, payload.length)
    }
  }
}
