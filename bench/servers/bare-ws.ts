/** Baseline: the `ws` library used bare, on a `node:http` server, with the same chat logic. */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'
import { adminRoutes, BareChat, type BareConn } from './bare-chat.js'
import { serveServer } from './control.js'

const chat = new BareChat()
const http = createServer(adminRoutes(chat))
const wss = new WebSocketServer({ server: http, path: '/ws', maxPayload: 4096 })

wss.on('connection', ws => {
  const conn: BareConn = {
    send: payload => ws.send(payload),
    close: code => ws.close(code)
  }
  chat.add(conn)
  ws.on('message', (data: Buffer) => chat.receive(conn, data))
  ws.on('close', () => chat.remove(conn))
  ws.on('error', () => {})
})

http.listen(0, '127.0.0.1', () => {
  serveServer({ port: (http.address() as AddressInfo).port, path: '/ws', adminApi: 'node:http' }, () => chat.conns.size)
})
