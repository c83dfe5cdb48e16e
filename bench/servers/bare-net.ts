/**
 * Baseline: `node:net` with a plain length-prefixed decoder (2-byte big-endian
 * length, as the gate's defaults), with the same chat logic.
 */
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { BareChat, type BareConn } from './bare-chat.js'
import { serveServer } from './control.js'

const MAX_LEN = 4096
const chat = new BareChat()

const server = net.createServer(socket => {
  socket.setNoDelay(true)
  const conn: BareConn = {
    send: payload => {
      const out = Buffer.allocUnsafe(2 + payload.length)
      out.writeUInt16BE(payload.length, 0)
      payload.copy(out, 2)
      socket.write(out)
    },
    close: () => socket.end()
  }
  chat.add(conn)
  let rest: Buffer | undefined
  socket.on('data', (chunk: Buffer) => {
    const buf = rest === undefined ? chunk : Buffer.concat([rest, chunk])
    let off = 0
    while (buf.length - off >= 2) {
      const len = buf.readUInt16BE(off)
      if (len < 1 || len > MAX_LEN) return socket.destroy()
      if (buf.length - off - 2 < len) break
      chat.receive(conn, buf.subarray(off + 2, off + 2 + len))
      off += 2 + len
    }
    rest = off < buf.length ? buf.subarray(off) : undefined
  })
  socket.on('close', () => chat.remove(conn))
  socket.on('error', () => {})
})

server.listen(0, '127.0.0.1', () => {
  const port = (server.address() as AddressInfo).port
  serveServer({ port, tcpPort: port }, () => chat.conns.size)
})
