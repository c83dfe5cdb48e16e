/**
 * The raw TCP transport, for Node only (`fastify-gate/client/tcp`; browsers have
 * no raw sockets, and this entry imports node:net). leaf's framing,
 * docs/protocol.md section 2:
 *
 *     | len : lenMsgLen bytes | payload : len bytes |
 */
import net from 'node:net'
import { FrameDecoder, frame } from '../src/framing/length-prefix.js'
import { ABNORMAL_CLOSE, type Payload, type Transport, type TransportConnection, type TransportHandlers } from './transport.js'

export interface TcpTransportOptions {
  port: number
  /** Default 127.0.0.1. */
  host?: string
  /** As the gate's (see `GET /gate/protocol`). Default 2. */
  lenMsgLen?: 1 | 2 | 4
  /** Default false. */
  littleEndian?: boolean
  /** The largest payload accepted from the server. Default 4096, the gate's default. */
  maxMsgLen?: number
}

/** TCP has no close frame: every close is reported as 1006, with the socket's error as the reason when there was one. */
export function tcp (opts: TcpTransportOptions): Transport {
  const framing = { lenMsgLen: opts.lenMsgLen ?? 2, littleEndian: opts.littleEndian ?? false, minMsgLen: 0, maxMsgLen: opts.maxMsgLen ?? 4096 }
  return {
    name: 'tcp',
    open (handlers: TransportHandlers): TransportConnection {
      const socket = net.connect({ port: opts.port, host: opts.host ?? '127.0.0.1' })
      let error: Error | undefined
      let closed = false
      const decoder = new FrameDecoder(framing, payload => {
        if (!closed) handlers.onPayload(new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength))
      }, err => {
        error = err
        socket.destroy()
      })
      socket.setNoDelay(true)
      socket.on('connect', () => handlers.onOpen())
      socket.on('data', (chunk: Buffer) => decoder.push(chunk))
      socket.on('error', err => { error = err })
      socket.on('close', () => {
        closed = true
        decoder.stop()
        handlers.onClose(ABNORMAL_CLOSE, error?.message ?? 'connection ended')
      })
      return {
        send (payload: Payload): void {
          const bytes = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
          socket.write(frame(bytes, framing))
        },
        // Written data goes out first; then the socket is destroyed, even if the server never answers the FIN.
        close (): void {
          if (socket.connecting) socket.destroy()
          else socket.destroySoon()
        }
      }
    }
  }
}
