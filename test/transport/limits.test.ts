import assert from 'node:assert/strict'
import { setImmediate as tick } from 'node:timers/promises'
import { describe, test } from 'node:test'
import { CloseCode } from '../../src/close-codes.js'
import type { WsClient } from '../clients.js'
import {
  assertEchoes, closeOf, connectAgent, expectOnlyOffenderClosed, recordCloses, registerTestMessages, startCore,
  transports, until, type Client
} from '../helper.js'

/** Writes raw bytes under the client library: a hand-made WebSocket frame, or bytes on the TCP stream. */
function writeWire (client: Client, bytes: Buffer): void {
  if ('ws' in client) (client.ws as unknown as { _socket: import('node:net').Socket })._socket.write(bytes)
  else client.socket.write(bytes)
}

describe('TCP frame limits', () => {
  test('a header announcing more than maxMsgLen closes with 1009 before any body byte', async (t) => {
    await expectOnlyOffenderClosed(t, { transport: 'tcp', code: CloseCode.MESSAGE_TOO_BIG, send: c => writeWire(c, Buffer.from([0x10, 0x01])) })
  })

  test('the same with lenMsgLen 4, little-endian, and a small maxMsgLen', async (t) => {
    const header = Buffer.alloc(4)
    header.writeUInt32LE(101)
    await expectOnlyOffenderClosed(t, {
      transport: 'tcp',
      opts: { lenMsgLen: 4, littleEndian: true, maxMsgLen: 100 },
      code: CloseCode.MESSAGE_TOO_BIG,
      send: c => writeWire(c, header)
    })
  })

  test('a frame of maxMsgLen bytes exactly is accepted', async (t) => {
    const s = await startCore(t, { maxMsgLen: 100 }, registerTestMessages)
    const client = await s.tcp()
    const text = 'x'.repeat(100 - '{"Echo":{"text":""}}'.length)
    await assertEchoes(client, text)
  })

  test('a zero-length frame is under minMsgLen 1 → 1002', async (t) => {
    await expectOnlyOffenderClosed(t, { transport: 'tcp', code: CloseCode.PROTOCOL_ERROR, send: c => writeWire(c, Buffer.from([0, 0])) })
  })

  test('a frame under a larger minMsgLen → 1002', async (t) => {
    await expectOnlyOffenderClosed(t, { transport: 'tcp', opts: { minMsgLen: 8 }, code: CloseCode.PROTOCOL_ERROR, send: c => writeWire(c, Buffer.from([0, 7])) })
  })

  test('frames split at every byte on a real socket are all answered, in order', async (t) => {
    const s = await startCore(t, {}, registerTestMessages)
    const client = await s.tcp()
    const bytes = Buffer.concat(['a', 'bb', 'ccc'].map(text => client.wire.frame(client.wire.encode('Echo', { text }))))
    for (let i = 0; i < bytes.length; i++) {
      client.sendRaw(bytes.subarray(i, i + 1))
      await tick()
    }
    for (const text of ['a', 'bb', 'ccc']) assert.equal((await client.next()).body.text, text)
  })

  test('many frames coalesced in one write are all answered, in order', async (t) => {
    const s = await startCore(t, {}, registerTestMessages)
    const client = await s.tcp()
    const texts = Array.from({ length: 200 }, (_, i) => `m${i}`)
    client.sendRaw(Buffer.concat(texts.map(text => client.wire.frame(client.wire.encode('Echo', { text })))))
    for (const text of texts) assert.equal((await client.next()).body.text, text)
  })
})

describe('WebSocket message limits', () => {
  test('a message over maxMsgLen closes with 1009', async (t) => {
    await expectOnlyOffenderClosed(t, { transport: 'ws', code: CloseCode.MESSAGE_TOO_BIG, send: c => c.sendRaw(Buffer.alloc(4097, 0x20)) })
  })

  test('a frame header announcing too much closes with 1009 before the body arrives', async (t) => {
    // FIN + binary, masked, 16-bit length 5000, mask key; no body at all.
    const header = Buffer.from([0x82, 0x80 | 126, 0x13, 0x88, 1, 2, 3, 4])
    await expectOnlyOffenderClosed(t, { transport: 'ws', opts: { maxMsgLen: 1000 }, code: CloseCode.MESSAGE_TOO_BIG, send: c => writeWire(c, header) })
  })

  test('a message of maxMsgLen bytes exactly is accepted', async (t) => {
    const s = await startCore(t, { maxMsgLen: 100 }, registerTestMessages)
    const client = await s.ws()
    await assertEchoes(client, 'x'.repeat(100 - '{"Echo":{"text":""}}'.length))
  })
})

for (const transport of transports) {
  describe(`login required (${transport})`, () => {
    test('a message that needs login, before login → 4003', async (t) => {
      await expectOnlyOffenderClosed(t, { transport, code: CloseCode.UNAUTHORIZED, send: c => c.send('Secret', { text: 'too early' }) })
    })

    test('public messages are served before login, and the same message after login', async (t) => {
      const s = await startCore(t, {}, registerTestMessages)
      const { client, agent } = await connectAgent(s, transport)
      await assertEchoes(client)
      client.send('Login', { uid: 'u1' })
      assert.equal((await client.next()).body.text, 'welcome u1')
      assert.equal(agent.uid, 'u1')
      client.send('Secret', { text: 'now' })
      assert.equal((await client.next()).body.text, 'secret now')
    })

    test('a message sent right behind the login, without waiting for its answer, sees the login', async (t) => {
      // Messages are handled in arrival order, so the login check of the second
      // message must come after the (async) login handler of the first.
      const s = await startCore(t, {}, (app) => {
        registerTestMessages(app)
        app.gate.handle<{ uid: string }>('Login', async (msg, agent) => {
          await tick() // e.g. verifying a token
          await agent.bind(msg.uid)
          agent.send('Echo', { text: `welcome ${msg.uid}` })
        })
      })
      const { client } = await connectAgent(s, transport)
      client.send('Login', { uid: 'u1' })
      client.send('Secret', { text: 'pipelined' })
      assert.equal((await client.next()).body.text, 'welcome u1')
      assert.equal((await client.next()).body.text, 'secret pipelined')
    })

    test('after a failed login, a pipelined message that needs login → 4003', async (t) => {
      const s = await startCore(t, {}, (app) => {
        registerTestMessages(app)
        app.gate.handle('Login', async () => { await tick() })
      })
      const closes = recordCloses(s.app)
      const { client, agent } = await connectAgent(s, transport)
      client.send('Login', { uid: 'nobody' })
      client.send('Secret', { text: 'too early' })
      assert.equal((await closeOf(closes, agent)).code, CloseCode.UNAUTHORIZED)
      if (transport === 'ws') assert.equal((await client.closed).code, CloseCode.UNAUTHORIZED)
    })

    test('with no login message configured, nothing needs login', async (t) => {
      const s = await startCore(t, {}, app => {
        app.gate.message('Secret', {}, (msg, agent) => { agent.send('Secret', msg) })
      })
      const { client } = await connectAgent(s, transport)
      client.send('Secret', { text: 'open' })
      assert.deepEqual(await client.next(), { name: 'Secret', body: { text: 'open' } })
    })
  })

  describe(`slow consumer (${transport})`, () => {
    test('a client that stops reading is closed with 4004 once its waiting bytes pass maxBufferedBytes; others are unaffected', async (t) => {
      const maxBufferedBytes = 64 * 1024
      const s = await startCore(t, { maxBufferedBytes, closeTimeout: 300 }, registerTestMessages)
      const closes = recordCloses(s.app)
      const bystanders = [await s.ws(), await s.tcp()]
      const { client, agent } = await connectAgent(s, transport)
      if ('ws' in client) (client as WsClient).ws.pause(); else client.socket.pause()
      const text = 'y'.repeat(4000)
      let sent = 0
      let most = 0
      while (agent.send('Echo', { text })) {
        sent++
        most = Math.max(most, agent.bufferedBytes)
        assert.ok(sent < 20000, 'the outbound queue is bounded')
        if (sent % 16 === 0) await tick()
      }
      assert.ok(most <= maxBufferedBytes, `never more than maxBufferedBytes waiting (saw ${most})`)
      assert.equal(s.app.gate.backlog.bytes, 0, 'its queue left the process-wide backlog when it closed')
      assert.equal(agent.send('Echo', { text }), false, 'send reports the closed connection')
      assert.equal((await closeOf(closes, agent)).code, CloseCode.SLOW_CONSUMER)
      for (const b of bystanders) await assertEchoes(b)
      assert.deepEqual(closes.map(c => c.id), [agent.id])
    })

    test('a client that reads keeps receiving a long stream paced by the event loop', async (t) => {
      const s = await startCore(t, { maxBufferedBytes: 16 * 1024 }, registerTestMessages)
      const { client, agent } = await connectAgent(s, transport)
      for (let i = 0; i < 500; i++) {
        assert.equal(agent.send('Echo', { text: `n${i}` }), true)
        await tick()
        // Read as we go, as a healthy client does.
        while (client.pending > 0) await client.next()
        if (agent.bufferedBytes > 0) await until(() => agent.bufferedBytes === 0)
      }
      assert.equal(agent.isOpen, true)
    })
  })
}

describe('maxConnNum (both transports together)', () => {
  test('over the limit: WS upgrade refused with 503, TCP closed at once; a slot frees after a close', async (t) => {
    const s = await startCore(t, { maxConnNum: 2 }, registerTestMessages)
    const ws = await s.ws()
    const tcp = await s.tcp()
    await until(() => s.app.gate.connectionCount === 2)

    await assert.rejects(s.ws(), { statusCode: 503 })
    const refused = await s.tcp()
    await refused.closed
    assert.equal(s.app.gate.counters.refused, 2)
    assert.equal(s.app.gate.connectionCount, 2)
    await assertEchoes(ws)
    await assertEchoes(tcp)

    await ws.close()
    await until(() => s.app.gate.connectionCount === 1)
    const tcp2 = await s.tcp()
    await assertEchoes(tcp2)
    await assert.rejects(s.ws(), { statusCode: 503 })

    await tcp.close()
    await until(() => s.app.gate.connectionCount === 1)
    const ws2 = await s.ws()
    await assertEchoes(ws2)
  })

  test('the limit counts TCP connections against WebSocket upgrades', async (t) => {
    const s = await startCore(t, { maxConnNum: 1 }, registerTestMessages)
    const tcp = await s.tcp()
    await until(() => s.app.gate.connectionCount === 1)
    await assert.rejects(s.ws(), { statusCode: 503 })
    await assertEchoes(tcp)
  })
})
