import { ABNORMAL_CLOSE, type Payload, type Transport, type TransportConnection, type TransportHandlers } from './transport.js'

/** The part of the WHATWG WebSocket API the transport uses (browsers' WebSocket, and `ws` in Node). */
export interface WebSocketLike {
  binaryType: string
  send: (data: string | ArrayBufferView | ArrayBuffer) => void
  close: (code?: number, reason?: string) => void
  onopen: ((ev: any) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onclose: ((ev: { code: number, reason: string }) => void) | null
  onerror: ((ev: any) => void) | null
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike

export interface WebSocketTransportOptions {
  /** The WebSocket class. Default: the global `WebSocket` (browsers; in Node the `fastify-gate/client` entry passes `ws`). */
  WebSocket?: WebSocketConstructor
  protocols?: string | string[]
}

/**
 * The WebSocket transport: one payload per WebSocket message
 * (docs/protocol.md section 3), `binaryType` arraybuffer, text and binary
 * messages both accepted. `url` may be a function, read at each connect.
 */
export function webSocket (url: string | (() => string), opts: WebSocketTransportOptions = {}): Transport {
  return {
    name: 'ws',
    open (handlers: TransportHandlers): TransportConnection {
      const Ctor = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
      let closed = false
      const finish = (code: number, reason: string): void => {
        if (closed) return
        closed = true
        handlers.onClose(code, reason)
      }
      let ws: WebSocketLike
      try {
        if (Ctor === undefined) throw new Error('no WebSocket class: pass { WebSocket } (in Node, import from fastify-gate/client, which uses ws)')
        ws = new Ctor(typeof url === 'function' ? url() : url, opts.protocols)
      } catch (err) {
        queueMicrotask(() => finish(ABNORMAL_CLOSE, (err as Error).message))
        return { send () {}, close () {} }
      }
      ws.binaryType = 'arraybuffer'
      ws.onopen = () => { if (!closed) handlers.onOpen() }
      ws.onmessage = (ev) => {
        if (closed) return
        const data = ev.data
        if (typeof data === 'string') handlers.onPayload(data)
        else if (data instanceof ArrayBuffer) handlers.onPayload(new Uint8Array(data))
        else if (ArrayBuffer.isView(data)) handlers.onPayload(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
      }
      ws.onclose = (ev) => finish(ev.code, ev.reason)
      // An error is always followed by a close event.
      ws.onerror = () => {}
      return {
        send (payload: Payload): void { ws.send(payload) },
        close (code: number, reason: string): void {
          try {
            ws.close(code, reason)
          } catch {
            ws.close()
          }
        }
      }
    }
  }
}
