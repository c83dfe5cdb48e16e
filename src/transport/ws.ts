import type { Socket } from 'node:net'
import { WebSocket } from 'ws'
import type { Agent, Connection } from '../agent.js'
import { CloseCode } from '../close-codes.js'
import type { OutboundMessage } from '../codec/outbound.js'
import type { Gate } from '../gate.js'
import type { Slot } from '../limits/admission.js'
import { ProtocolError } from '../protocol-error.js'
import { rawSocketOf, wsErrorCloseCode } from './ws-internals.js'

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
    this.socket = ws.extensions === '' ? rawSocketOf(ws) : undefined
  }

  get bufferedAmount (): number {
    return this.ws.bufferedAmount
  }

  write (msg: OutboundMessage, queued: boolean): boolean {
    const socket = this.socket
    if (socket !== undefined && this.ws.readyState === WebSocket.OPEN) {
      // Behind other bytes, the frame waits in the socket's buffer: give it memory of its own.
      return socket.write(queued || socket.writableLength > 0 ? msg.unpooled(false) : msg.wsFrame)
    }
    // Compression (or a closing socket): ws queues it; the agent's byte bound still reads bufferedAmount.
    this.ws.send(msg.payload, msg.text ? TEXT : BINARY)
    return true
  }

  /** Calls `fn` whenever the socket's buffer has drained (only the direct path ever waits for it). */
  onDrain (fn: () => void): void {
    this.socket?.on('drain', fn)
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

/**
 * Hands an upgraded WebSocket to the gate, or closes it with 4005 when it is
 * refused. `slot` is the place reserved for it before the upgrade, if any.
 */
export function attachWebSocket (gate: Gate, ws: WebSocket, remoteAddress: string, slot?: Slot): Agent | undefined {
  const conn = new WsConnection(ws, remoteAddress)
  const agent = gate.accept(conn, slot)
  if (typeof agent === 'string') {
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
  conn.onDrain(() => agent.drained())
  ws.on('ping', () => agent.touch())
  ws.on('error', (err: Error & { code?: string }) => {
    const closeCode = wsErrorCloseCode(err)
    agent.log.warn({ code: err.code, closeCode, reason: err.message }, 'bad websocket frame; closing connection')
    agent.closedByTransport(closeCode, err.message)
  })
  ws.on('close', (code: number, reason: Buffer) => {
    agent.transportClosed({ code, reason: reason.toString() })
  })
  return agent
}
