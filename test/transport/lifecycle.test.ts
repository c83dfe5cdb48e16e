import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import { describe, test } from 'node:test'
import type { Agent } from '../../src/agent.js'
import { CloseCode } from '../../src/close-codes.js'
import { leafProtocol } from '../../src/protocol/leaf.js'
import { TcpClient, WsClient } from '../clients.js'
import {
  assertEchoes, deferred, captureLogs, closeOf, connectAgent, mockGateClock, recordCloses, registerTestMessages, startCore, transports, until
} from '../helper.js'

/**
 * On the gate's mocked clock: `act` (real traffic) after every 0.6 idle period,
 * for three idle periods; the sweeps run in between.
 */
async function keepBusy (advance: (ms: number) => void, idleTimeout: number, agent: Agent, act: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 5; i++) {
    advance(idleTimeout * 0.6)
    assert.equal(agent.isOpen, true, `open after ${(i + 1) * 0.6} idle periods`)
    await act()
  }
}

for (const transport of transports) {
  describe(`idle timeout (${transport})`, () => {
    test('a silent connection is closed with 4000', async (t) => {
      const s = await startCore(t, { idleTimeout: 200 }, registerTestMessages)
      const closes = recordCloses(s.app)
      const { client, agent } = await connectAgent(s, transport)
      assert.equal((await closeOf(closes, agent)).code, CloseCode.IDLE_TIMEOUT)
      const seen = await client.closed
      if (transport === 'ws') assert.equal(seen.code, CloseCode.IDLE_TIMEOUT)
    })

    test('traffic keeps a connection alive; silence then closes it', { timeout: 30_000 }, async (t) => {
      const idleTimeout = 300
      const advance = mockGateClock(t)
      const s = await startCore(t, { idleTimeout }, registerTestMessages)
      const closes = recordCloses(s.app)
      const { client, agent } = await connectAgent(s, transport)
      await keepBusy(advance, idleTimeout, agent, async () => { await assertEchoes(client, 'keepalive') })
      assert.equal(agent.isOpen, true)
      assert.deepEqual(closes, [])
      advance(idleTimeout * 1.5)
      assert.equal(agent.isOpen, false)
      assert.equal((await closeOf(closes, agent)).code, CloseCode.IDLE_TIMEOUT)
    })

    test('idleTimeout 0 disables it: a minute on the gate\'s clock closes nobody, where 150 closes with 4000', { timeout: 30_000 }, async (t) => {
      const advance = mockGateClock(t)
      const reference = await startCore(t, { idleTimeout: 150 }, registerTestMessages)
      const referenceCloses = recordCloses(reference.app)
      // (The login timeout is off too: it would close this connection after 10 s.)
      const s = await startCore(t, { idleTimeout: 0, loginTimeout: 0 }, registerTestMessages)
      const closes = recordCloses(s.app)
      const { client, agent } = await connectAgent(s, transport)
      const ref = await connectAgent(reference, transport)
      advance(60_000)
      assert.deepEqual(closes, [])
      assert.equal(agent.isOpen, true)
      assert.equal((await closeOf(referenceCloses, ref.agent)).code, CloseCode.IDLE_TIMEOUT)
      await assertEchoes(client)
      assert.deepEqual(closes, [])
    })
  })
}

describe('idle timeout while the handler is busy', () => {
  for (const transport of transports) {
    test(`a connection whose handler still works is not idle (${transport})`, async (t) => {
      const gate = deferred()
      const s = await startCore(t, { idleTimeout: 150 }, app => {
        registerTestMessages(app)
        app.gate.message('Slow', { needsLogin: false }, async (_msg, agent) => {
          await gate.promise
          agent.send('Echo', { text: 'done' })
        })
      })
      const closes = recordCloses(s.app)
      const busy = await connectAgent(s, transport)
      busy.client.send('Slow', {})
      await until(() => s.app.gate.dispatch.busy(busy.agent), 5000, 'the slow handler to start')
      // A silent connection on the same gate shows an idle period has passed.
      const silent = await connectAgent(s, transport)
      assert.equal((await closeOf(closes, silent.agent)).code, CloseCode.IDLE_TIMEOUT)
      assert.equal(busy.agent.isOpen, true, 'not closed while its handler runs')
      gate.resolve()
      assert.deepEqual(await busy.client.next(), { name: 'Echo', body: { text: 'done' } })
    })
  }
})

describe('idle timeout (WebSocket pings)', () => {
  test('pings alone keep a WebSocket alive', { timeout: 30_000 }, async (t) => {
    const idleTimeout = 300
    const advance = mockGateClock(t)
    const s = await startCore(t, { idleTimeout }, registerTestMessages)
    const closes = recordCloses(s.app)
    const { client, agent } = await connectAgent(s, 'ws')
    const ws = (client as WsClient).ws
    await keepBusy(advance, idleTimeout, agent, async () => {
      ws.ping()
      await once(ws, 'pong')
    })
    assert.equal(agent.isOpen, true)
    assert.deepEqual(closes, [])
  })
})

for (const transport of transports) {
  test(`a server-side close that the client never answers is finished after closeTimeout (${transport})`, async (t) => {
    // Without closeTimeout, ws would wait 30 s for the close frame and a TCP half-close forever.
    const s = await startCore(t, { closeTimeout: 200 }, registerTestMessages)
    const closes = recordCloses(s.app)
    const { client, agent } = await connectAgent(s, transport)
    if (client instanceof WsClient) client.ws.pause(); else client.socket.pause()
    agent.close(CloseCode.KICKED, 'gone')
    assert.equal(agent.isOpen, false)
    assert.deepEqual(await closeOf(closes, agent, 10000), { id: agent.id, transport, code: CloseCode.KICKED, reason: 'gone' })
    assert.equal(s.app.gate.connectionCount, 0)
  })
}

describe('graceful shutdown', () => {
  test('app.close() closes WebSocket clients with 1012 and ends TCP clients', async (t) => {
    const s = await startCore(t, {}, registerTestMessages)
    const closes = recordCloses(s.app)
    const ws = await s.ws()
    const tcp = await s.tcp()
    await until(() => s.app.gate.connectionCount === 2)
    await s.app.close()
    assert.equal((await ws.closed).code, CloseCode.SERVICE_RESTART)
    await tcp.closed
    assert.deepEqual(closes.map(c => [c.transport, c.code]).sort(), [['tcp', CloseCode.SERVICE_RESTART], ['ws', CloseCode.SERVICE_RESTART]])
    assert.equal(s.app.gate.connectionCount, 0)
    // Nothing listens any more, on either port.
    await assert.rejects(WsClient.connect(s.wsUrl))
    await assert.rejects(TcpClient.connect(s.tcpPort))
  })

  test('app.close() resolves even when clients never answer the close handshake', { timeout: 15000 }, async (t) => {
    // ws would wait 30 s for a silent peer; closeTimeout bounds it.
    const s = await startCore(t, { closeTimeout: 200 }, registerTestMessages)
    const closes = recordCloses(s.app)
    const ws = await s.ws()
    const tcp = await s.tcp()
    await until(() => s.app.gate.connectionCount === 2)
    ws.ws.pause() // reads nothing: never sees the close frame, never answers it
    tcp.socket.pause() // never reads the end, so never ends its side
    await s.app.close()
    assert.equal(s.app.gate.connectionCount, 0)
    assert.deepEqual(closes.map(c => c.code), [CloseCode.SERVICE_RESTART, CloseCode.SERVICE_RESTART])
  })

  test('app.close() resolves with a raw socket that upgraded and then went silent', { timeout: 15000 }, async (t) => {
    const s = await startCore(t, { closeTimeout: 200 }, registerTestMessages)
    const { port } = s.app.server.address() as net.AddressInfo
    const socket = net.connect(port, '127.0.0.1')
    socket.on('error', () => {})
    t.after(() => socket.destroy())
    await once(socket, 'connect')
    socket.write(`GET ${s.app.gate.options.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')
    const [head] = await once(socket, 'data') as [Buffer]
    assert.match(head.toString(), /^HTTP\/1\.1 101/)
    socket.pause()
    await until(() => s.app.gate.connectionCount === 1)
    await s.app.close()
    assert.equal(s.app.gate.connectionCount, 0)
  })

  test('app.close() with no connections resolves', async (t) => {
    const s = await startCore(t, {}, registerTestMessages)
    await s.app.close()
    assert.equal(s.app.gate.connectionCount, 0)
  })
})

for (const transport of transports) {
  describe(`connect and disconnect hooks (${transport})`, () => {
    test('onConnect runs before the first message; onDisconnect runs once with the reason', async (t) => {
      const s = await startCore(t, {}, (app) => {
        registerTestMessages(app)
        app.gate.onConnect((agent) => { agent.data.greeting = `hello ${agent.transport}` })
        app.gate.handle<{ text: string }>('Echo', (msg, agent) => { agent.send('Echo', { text: agent.data.greeting as string }) })
      })
      const closes = recordCloses(s.app)
      const { client, agent } = await connectAgent(s, transport)
      await assertEchoes(client, `hello ${transport}`)
      await client.close()
      assert.deepEqual(await closeOf(closes, agent), { id: agent.id, transport, code: CloseCode.NORMAL, reason: transport === 'ws' ? '' : 'client closed' })
      // Once the app has closed (every hook has run), there is still only the one.
      await s.app.close()
      assert.equal(closes.length, 1, 'once')
    })

    test('the disconnect hook gets the code and reason the server closed with', async (t) => {
      const s = await startCore(t, {}, registerTestMessages)
      const closes = recordCloses(s.app)
      const { client, agent } = await connectAgent(s, transport)
      agent.close(4321, 'app says bye')
      assert.deepEqual(await closeOf(closes, agent), { id: agent.id, transport, code: 4321, reason: 'app says bye' })
      const seen = await client.closed
      if (transport === 'ws') assert.deepEqual(seen, { code: 4321, reason: 'app says bye' })
    })

    test('hooks that throw or reject are logged and change nothing', async (t) => {
      const logs = captureLogs('error')
      const s = await startCore(t, {}, (app) => {
        registerTestMessages(app)
        app.gate.onConnect(() => { throw new Error('connect hook fails') })
        app.gate.onConnect(async () => { throw new Error('async connect hook fails') })
        app.gate.onDisconnect(() => { throw new Error('disconnect hook fails') })
      }, { logger: logs.logger })
      const closes = recordCloses(s.app)
      const { client, agent } = await connectAgent(s, transport)
      await assertEchoes(client)
      await client.close()
      await closeOf(closes, agent)
      await until(() => logs.lines.filter(l => l.level === 50 && l.agent === agent.id).length === 3)
      const other = await s.ws()
      await assertEchoes(other)
    })
  })
}

describe('a connection that cannot be set up', () => {
  test('a protocol whose open throws: the connection is closed, its agent removed (onDisconnect with 1011), nothing escapes', async (t) => {
    const logs = captureLogs('error')
    const escaped: unknown[] = []
    const onEscape = (err: unknown): void => { escaped.push(err) }
    process.on('uncaughtException', onEscape)
    t.after(() => { process.off('uncaughtException', onEscape) })
    const broken = { ...leafProtocol, name: 'broken', open: () => { throw new Error('open failed on purpose') } }
    const s = await startCore(t, { protocols: [{ protocol: broken, tcp: { port: 0 }, path: '/broken' }] }, registerTestMessages, { logger: logs.logger })
    const closes = recordCloses(s.app)
    const tcp = await TcpClient.connect(s.app.gateAddress('broken')!.port)
    await tcp.closed
    const ws = await WsClient.connect(`${s.httpUrl.replace('http:', 'ws:')}/broken`)
    assert.equal((await ws.closed).code, 1006, 'the socket is destroyed: no close frame')
    await until(() => closes.length === 2, 5000, 'both disconnects')
    assert.deepEqual(closes.map(c => c.code), [CloseCode.INTERNAL_ERROR, CloseCode.INTERNAL_ERROR])
    assert.equal(s.app.gate.connectionCount, 0)
    assert.deepEqual(escaped, [])
    assert.equal(logs.lines.filter(l => l.level === 50 && (l.err as { message?: string })?.message === 'open failed on purpose').length, 2)
    // The gate goes on serving its other protocols.
    await assertEchoes(await s.ws())
  })
})
