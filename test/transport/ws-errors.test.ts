/**
 * When ws itself closes a connection over a bad frame, the disconnect hook and
 * the metrics record the code ws sent, not a generic 1002. Frames are written
 * by hand on a raw socket, as a hostile client would.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import { CloseCode } from '../../src/close-codes.js'
import { closeOf, recordCloses, registerTestMessages, startCore, until } from '../helper.js'

/** Opens a WebSocket by hand; resolves with the socket and everything it receives after the 101. */
async function rawWebSocket (port: number): Promise<{ socket: net.Socket, received: () => Buffer }> {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')
  let buf = Buffer.alloc(0)
  socket.on('data', (chunk: Buffer) => { buf = Buffer.concat([buf, chunk]) })
  await until(() => buf.includes('\r\n\r\n'))
  assert.match(buf.toString('latin1'), /^HTTP\/1\.1 101/)
  const start = buf.indexOf('\r\n\r\n') + 4
  return { socket, received: () => buf.subarray(start) }
}

/** One client frame (masked with a zero key, so the payload reads as is). */
function frame (opcode: number, payload: Buffer = Buffer.alloc(0), { fin = true, rsv1 = false, length = payload.length } = {}): Buffer {
  const b0 = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode
  const header = length < 126
    ? Buffer.from([b0, 0x80 | length])
    : length < 65536
      ? Buffer.from([b0, 0x80 | 126, length >> 8, length & 0xff])
      : Buffer.concat([Buffer.from([b0, 0x80 | 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(length)); return b })()])
  return Buffer.concat([header, Buffer.alloc(4), payload])
}

/** The code in the first close frame the server sent. */
function closeCodeIn (data: Buffer): number | undefined {
  let off = 0
  while (off + 2 <= data.length) {
    const opcode = data[off] & 0x0f
    let len = data[off + 1] & 0x7f
    let at = off + 2
    if (len === 126) { len = data.readUInt16BE(at); at += 2 } else if (len === 127) { len = Number(data.readBigUInt64BE(at)); at += 8 }
    if (opcode === 0x8) return len >= 2 ? data.readUInt16BE(at) : 1005
    off = at + len
  }
  return undefined
}

const cases: Array<[string, () => Buffer, number]> = [
  ['too many fragments of one message (ws: 1008)', () => Buffer.concat([
    frame(0x1, Buffer.alloc(0), { fin: false }),
    ...Array.from({ length: 16400 }, () => frame(0x0, Buffer.alloc(0), { fin: false }))
  ]), CloseCode.POLICY_VIOLATION],
  ['a frame header over maxMsgLen (1009)', () => frame(0x2, Buffer.alloc(0), { length: 100000 }), CloseCode.MESSAGE_TOO_BIG],
  ['invalid UTF-8 in a text frame (1007)', () => frame(0x1, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), CloseCode.INVALID_PAYLOAD],
  ['a reserved opcode (1002)', () => frame(0x3, Buffer.from('x')), CloseCode.PROTOCOL_ERROR],
  ['RSV1 without an extension (1002)', () => frame(0x2, Buffer.from('x'), { rsv1: true }), CloseCode.PROTOCOL_ERROR]
]

describe('ws closes a connection itself: the code it sent is the code recorded', () => {
  for (const [name, bytes, code] of cases) {
    test(name, async (t) => {
      const s = await startCore(t, { msgRate: 0 }, registerTestMessages)
      const closes = recordCloses(s.app)
      const { port } = s.app.server.address() as net.AddressInfo
      const { socket, received } = await rawWebSocket(port)
      await until(() => s.app.gate.connectionCount === 1)
      const [agent] = [...s.app.gate.local.all()]
      socket.write(bytes())
      const closed = await closeOf(closes, agent)
      await until(() => closeCodeIn(received()) !== undefined)
      assert.equal(closeCodeIn(received()), code, 'the close frame ws sent')
      assert.equal(closed.code, code, 'what the disconnect hook saw')
      assert.equal(s.app.gate.counters.closes.get(code), 1, 'what the metrics count')
      socket.destroy()
    })
  }
})
