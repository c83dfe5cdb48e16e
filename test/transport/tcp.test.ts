import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { describe, test } from 'node:test'
import tls from 'node:tls'
import { CloseCode } from '../../src/close-codes.js'
import { Wire } from '../clients.js'
import { closeOf, connectAgent, recordCloses, registerTestMessages, startCore, until } from '../helper.js'

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/${name}`, import.meta.url))
const cert = fixture('tls-cert.pem')
const key = fixture('tls-key.pem')

/** Reads one `| len:2 | payload |` frame from a socket (and leaves the socket open). */
async function readFrame (socket: net.Socket): Promise<Buffer> {
  return await new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk])
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return
      socket.off('data', onData).off('close', onClose)
      resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)))
    }
    const onClose = (): void => reject(new Error('closed before a whole frame'))
    socket.on('data', onData).on('close', onClose)
  })
}

describe('TCP over TLS (tcp.tls)', () => {
  test('a TLS client is served with the same framing; a plain one gets nothing', async (t) => {
    const s = await startCore(t, { tcp: { port: 0, tls: { cert, key } } }, registerTestMessages)
    const closes = recordCloses(s.app)
    const wire = new Wire()

    const secure = tls.connect({ port: s.tcpPort, host: '127.0.0.1', ca: cert })
    t.after(() => secure.destroy())
    await once(secure, 'secureConnect')
    secure.write(wire.frame(wire.encode('Echo', { text: 'over tls' })))
    assert.deepEqual(wire.decode(await readFrame(secure)), { name: 'Echo', body: { text: 'over tls' } })

    const plain = net.connect(s.tcpPort, '127.0.0.1')
    plain.on('error', () => {})
    plain.write(wire.frame(wire.encode('Echo', { text: 'in clear' })))
    await once(plain, 'close')
    assert.equal(closes.length, 0, 'the plain socket never became a connection')
    assert.equal(s.app.gate.connectionCount, 1)

    // Bad input over TLS closes with the same code.
    secure.write(Buffer.from([0xff, 0xff]))
    await once(secure, 'close')
    await until(() => closes.length > 0)
    assert.deepEqual(closes.map(c => c.code), [CloseCode.MESSAGE_TOO_BIG])
  })
})

describe('TCP connection details', () => {
  test('the TCP listener binds 127.0.0.1 by default, and the agent sees the peer address', async (t) => {
    const s = await startCore(t, {}, registerTestMessages)
    assert.equal(s.app.gateTcpAddress()?.address, '127.0.0.1')
    const { agent } = await connectAgent(s, 'tcp')
    assert.equal(agent.remoteAddress, '127.0.0.1')
  })

  test('a client that ends its side is closed with 1000', async (t) => {
    const s = await startCore(t, {}, registerTestMessages)
    const closes = recordCloses(s.app)
    const { client, agent } = await connectAgent(s, 'tcp')
    await client.close()
    assert.equal((await closeOf(closes, agent)).code, CloseCode.NORMAL)
  })
})
