/**
 * `fastify-gate/client` in Node (the package's "node" export condition): the
 * same API as the browser entry, with `webSocket` using the `ws` package
 * (Node 20 has no global WebSocket).
 */
import WebSocket from 'ws'
import type { Transport } from './transport.js'
import { webSocket as webSocketWith, type WebSocketConstructor, type WebSocketTransportOptions } from './ws.js'

export * from './index.js'

/** The WebSocket transport over `ws`. See the browser entry's `webSocket`. */
export function webSocket (url: string | (() => string), opts: WebSocketTransportOptions = {}): Transport {
  return webSocketWith(url, { WebSocket: WebSocket as unknown as WebSocketConstructor, ...opts })
}
