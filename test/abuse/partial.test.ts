/**
 * Issue 21, weaker item: partial inbound messages. 980 WebSocket connections
 * holding 4,095 one-byte fragments each without FIN took 434 KiB apiece. Now
 * the pieces one message may arrive in are bounded (`maxMessageParts`), and
 * leaf frames and MQTT packets trickled a byte at a time are held in one
 * buffer of their own size.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import mqttPacket from 'mqtt-packet'
import { CloseCode } from '../../src/close-codes.js'
import { defaults } from '../../src/options.js'
import { closeOf, connectAgent, recordCloses, registerTestMessages, startCore, until } from '../helper.js'
import { WsClient } from '../clients.js'
import { RawMqtt } from '../protocol/mqtt-raw.js'

/** Opens a WebSocket by hand, so that frames can be written as they are. */
async function rawWebSocket (port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')
  let head = ''
  socket.on('data', (chunk: Buffer) => { head += chunk.toString('latin1') })
  await until(() => head.includes('\r\n\r\n'))
  assert.match(head, /^HTTP\/1\.1 101/)
  return socket
}

/** One masked client frame (zero key) of a one-byte payload. */
function oneByteFrame (opcode: number, fin: boolean): Buffer {
  return Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 1, 0, 0, 0, 0, 0x61])
}

test('WebSocket: a message in more fragments than maxMessageParts closes the connection (1008); a fragmented message within it is answered', async (t) => {
  const s = await startCore(t, {}, registerTestMessages)
  const closes = recordCloses(s.app)
  const parts = defaults.maxMessageParts
  const socket = await rawWebSocket(Number(new URL(s.httpUrl).port))
  await until(() => s.app.gate.connectionCount === 1)
  const [agent] = s.app.gate.local.all()
  // 4,095 one-byte fragments without FIN, in one write: the attack of the issue.
  const frames = [oneByteFrame(0x2, false)]
  for (let i = 1; i < 4095; i++) frames.push(oneByteFrame(0x0, false))
  socket.write(Buffer.concat(frames))
  const closed = await closeOf(closes, agent!)
  assert.equal(closed.code, CloseCode.POLICY_VIOLATION)
  assert.match(closed.reason, /fragments/)

  // An honest client fragmenting a message into fewer parts is served.
  const client = await WsClient.connect(s.wsUrl)
  const text = JSON.stringify({ Echo: { text: 'in pieces' } })
  const pieces = text.match(/.{1,3}/g)!
  assert.ok(pieces.length < parts)
  pieces.forEach((piece, i) => { client.ws.send(piece, { fin: i === pieces.length - 1 }) })
  assert.equal((await client.next()).body.text, 'in pieces')
})

test('leaf over TCP: a frame trickled in holds only its own bytes, and completes', async (t) => {
  const s = await startCore(t, {}, registerTestMessages)
  const { client, agent } = await connectAgent(s, 'tcp')
  const frame = client.wire.frame(client.wire.encode('Echo', { text: 'x'.repeat(3000) }))
  for (let i = 0; i < 1500; i += 50) client.sendRaw(frame.subarray(i, i + 50))
  await until(() => agent.inboundBytes === 1500 - 2, 5000, 'the partial frame to arrive')
  client.sendRaw(frame.subarray(1500))
  assert.equal((await client.next()).body.text.length, 3000)
  assert.equal(agent.inboundBytes, 0)
})

test('MQTT: a packet trickled in is held in one buffer of its size (mqtt-packet kept every read); over the limit from its header: 1009', async (t) => {
  const s = await startCore(t, { mqtt: { tcp: { port: 0 }, path: false } }, registerTestMessages)
  const closes = recordCloses(s.app)
  const port = s.app.gateAddress('mqtt')!.port
  const raw = await RawMqtt.connect(port)
  assert.equal(await raw.handshake(), 0)
  const [agent] = s.app.gate.local.all()
  const packet = mqttPacket.generate({ cmd: 'publish', topic: 'Echo', payload: JSON.stringify({ text: 'y'.repeat(3000) }), qos: 0, retain: false, dup: false })
  for (let i = 0; i < 2000; i += 20) {
    raw.send(packet.subarray(i, i + 20))
    // Every read arrives on its own: a byte count, not a count of reads, is held.
    if (i % 200 === 0) await until(() => agent!.inboundBytes === i + 20, 5000, 'the read to arrive')
  }
  await until(() => agent!.inboundBytes === 2000, 5000, 'the partial packet')
  raw.send(packet.subarray(2000))
  const answer = await raw.next()
  assert.equal(answer.cmd, 'publish')
  assert.equal(agent!.inboundBytes, 0)

  // A remaining length over the limit closes at the header, with nothing of the body held.
  raw.send(Buffer.from([0x30, 0xff, 0xff, 0x03]))
  assert.equal((await closeOf(closes, agent!)).code, CloseCode.MESSAGE_TOO_BIG)
})
