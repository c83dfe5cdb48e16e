import type { Socket } from 'node:net'
import { WebSocket } from 'ws'
import type { Agent, Connection } from '../agent.js'
import { CloseCode } from '../close-codes.js'
import type { OutboundMessage } from '../codec/outbound.js'
import type { Gate } from '../gate.js'
import { ProtocolError } from '../protocol-error.js'

const BINARY = { binary: true }
const TEXT = { binary: false }

/**
 * A ws WebSocket as a gate `Connection`: one payload per message, close frames carry the code.
 *
 * Data frames are written straight to the socket, prebuilt once per message
 * (`OutboundMessage.wsFrame`): one write per send instead of ws's header and
 * payload writes, and one frame for every receiver of a broadcast. ws itself
 * still writes its control frames (close, ping, pong) to the same socket, in
 * call order. When permessage-deflate was negotiated, or the socket is no
 * longer open, `ws.send` does the work (compression, errors after close).
 */
class WsConnection implements Connection {
  readonly transport = 'ws' as const
  readonly remoteAddress: string
  private readonly ws: WebSocket
  /** The socket under `ws` (ws keeps it in `_socket`); undefined when frames must go through `ws.send`. */
  private readonly socket: Socket | undefined

  constructor (ws: WebSocket, remoteAddress: string) {
    this.ws = ws
    this.remoteAddress = remoteAddress
    this.socket = ws.extensions === '' ? (ws as unknown as { _socket?: Socket })._socket : undefined
  }

  write (msg: OutboundMessage, done: () => void): void {
    if (this.socket !== undefined && this.ws.readyState === WebSocket.OPEN) this.socket.write(msg.wsFrame, done)
    else this.ws.send(msg.payload, msg.text ? TEXT : BINARY, done)
  }

  close (code: number, reason: string): void {
    this.ws.close(code, reason)
  }

  destroy (): void {
    this.ws.terminate()
  }

  pause (): void {
    this.ws.pause()
  }

  resume (): void {
    this.ws.resume()
  }
}

/** Close codes for the errors ws raises on bad frames (it closes the socket itself). */
function wsErrorCloseCode (code: string | undefined): number {
  switch (code) {
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH': return CloseCode.MESSAGE_TOO_BIG
    case 'WS_ERR_INVALID_UTF8': return CloseCode.INVALID_PAYLOAD
    default: return CloseCode.PROTOCOL_ERROR
  }
}

/** Hands an upgraded WebSocket to the gate, or closes it with 4005 when the gate is full. */
export function attachWebSocket (gate: Gate, ws: WebSocket, remoteAddress: string): Agent | undefined {
  const agent = gate.accept(new WsConnection(ws, remoteAddress))
  if (agent === undefined) {
    gate.log.warn({ remoteAddress }, 'websocket refused after upgrade: gate full or not serving')
    ws.close(CloseCode.SERVER_FULL, 'server full')
    return undefined
  }
  const maxMsgLen = gate.options.maxMsgLen
  ws.on('message', (data: Buffer) => {
    // ws enforces maxPayload from the frame header; this guards a shared ws server with a larger one.
    if (data.length > maxMsgLen) {
      gate.reject(agent, new ProtocolError('GATE_FRAME_TOO_LONG', CloseCode.MESSAGE_TOO_BIG, `message of ${data.length} bytes is over maxMsgLen ${maxMsgLen}`))
      return
    }
    agent.receive(data, data.length)
  })
  ws.on('ping', () => agent.touch())
  ws.on('error', (err: Error & { code?: string }) => {
    const closeCode = wsErrorCloseCode(err.code)
    agent.log.warn({ code: err.code, closeCode, reason: err.message }, 'bad websocket frame; closing connection')
    agent.closedByTransport(closeCode, err.message)
  })
  ws.on('close', (code: number, reason: Buffer) => {
    agent.transportClosed({ code, reason: reason.toString() })
  })
  return agent
}
