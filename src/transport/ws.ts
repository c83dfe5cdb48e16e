import type { Socket } from 'node:net'
import { WebSocket } from 'ws'
import type { Agent } from '../agent.js'
import { CloseCode } from '../close-codes.js'
import type { Framing, OutboundMessage } from '../codec/outbound.js'
import type { GateRuntime } from '../runtime.js'
import type { Slot } from '../limits/admission.js'
import { connect, wsFramingOf } from '../pipeline/connect.js'
import { eventsOf, onDrain, reportTo, type Link, type LinkEvents } from '../link.js'
import { leafProtocol } from '../protocol/leaf.js'
import type { Protocol } from '../protocol/protocol.js'
import { rawSocketOf, wsErrorCloseCode } from './ws-internals.js'

const BINARY = { binary: true }
const TEXT = { binary: false }

/**
 * A ws WebSocket as a link: one protocol message per WebSocket message, close
 * frames carry the code.
 *
 * Data frames are written straight to the socket, prebuilt once per message and
 * protocol (`wsFramingOf`): one write per send instead of ws's header and
 * payload writes, and one frame for every receiver of a broadcast. ws itself
 * still writes its control frames (close, ping, pong) to the same socket, in
 * call order. When permessage-deflate was negotiated, the socket is no longer
 * open, or ws's internals are not as expected, `ws.send` does the work.
 */
class WsLink implements Link {
  readonly transport = 'ws' as const
  readonly remoteAddress: string
  private readonly ws: WebSocket
  /** The socket under `ws`; undefined when frames must go through `ws.send`. */
  private readonly socket: Socket | undefined
  private readonly frameFraming: Framing
  private readonly messageFraming: Framing
  private readonly textFrames: boolean

  constructor (ws: WebSocket, remoteAddress: string, protocol: Protocol) {
    this.ws = ws
    this.remoteAddress = remoteAddress
    this.socket = ws.extensions === '' ? rawSocketOf(ws) : undefined
    this.frameFraming = wsFramingOf(protocol)
    this.messageFraming = protocol.message
    this.textFrames = protocol.textFrames
  }

  get bufferedAmount (): number {
    return this.ws.bufferedAmount
  }

  write (msg: OutboundMessage, queued: boolean): boolean {
    const socket = this.socket
    if (socket !== undefined && this.ws.readyState === WebSocket.OPEN) {
      // Behind other bytes, the frame waits in the socket's buffer: give it memory of its own.
      return socket.write(queued || socket.writableLength > 0 ? msg.unpooledFrame(this.frameFraming) : msg.frame(this.frameFraming))
    }
    // Compression (or a closing socket): ws queues it; the agent's byte bound still reads bufferedAmount.
    this.ws.send(msg.frame(this.messageFraming), this.textFrames && msg.text && !msg.raw ? TEXT : BINARY)
    return true
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

  probe (): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false
    this.ws.ping()
    return true
  }

  listen (events: LinkEvents): void {
    const ws = this.ws
    reportTo(ws, events)
    ws.on('message', onMessage)
    // Only the direct path ever waits for the socket to drain.
    if (this.socket !== undefined) {
      reportTo(this.socket, events)
      this.socket.on('drain', onDrain)
    }
    ws.on('ping', onPing)
    ws.on('error', onError)
    ws.on('close', onClose)
  }

  refuse (): void {
    this.ws.close(CloseCode.SERVER_FULL, 'server full')
  }
}

// Listeners shared by every connection (see `reportTo`).
function onMessage (this: WebSocket, data: Buffer): void {
  eventsOf(this).socketData(data)
}

function onPing (this: WebSocket): void {
  eventsOf(this).socketAlive()
}

function onError (this: WebSocket, err: Error & { code?: string }): void {
  eventsOf(this).socketFailed(wsErrorCloseCode(err), err.message)
}

function onClose (this: WebSocket, code: number, reason: Buffer): void {
  eventsOf(this).socketClosed({ code, reason: reason.toString() })
}

/**
 * Hands an upgraded WebSocket to the gate, or closes it with 4005 when it is
 * refused. `slot` is the place reserved for it before the upgrade, if any.
 */
export function attachWebSocket (gate: GateRuntime, ws: WebSocket, remoteAddress: string, slot?: Slot, protocol: Protocol = leafProtocol): Agent<any> | undefined {
  return connect(gate, new WsLink(ws, remoteAddress, protocol), protocol, slot)
}
