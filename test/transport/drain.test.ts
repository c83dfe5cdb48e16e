/**
 * Rolling restarts (docs/protocol.md section 9): `app.close()` stops accepting,
 * then closes the connections spread over `drainTime` with 1012 (WebSocket:
 * the close frame; leaf over TCP: the close notice; MQTT: the socket ends).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import { CloseCode } from '../../src/close-codes.js'
import { TcpClient, WsClient } from '../clients.js'
import { startChat } from '../example/helper.js'
import { registerTestMessages, startCore, until } from '../helper.js'
import { RawMqtt } from '../protocol/mqtt-raw.js'

const DRAIN = 1500

test('app.close() closes WebSocket, leaf TCP and MQTT connections with 1012, spread over drainTime, and accepts nothing meanwhile', { timeout: 30000 }, async (t) => {
  const chat = await startChat(t, 'json', { GATE_DRAIN_TIME: String(DRAIN), GATE_CONN_RATE_PER_IP: '0' })
  const { port } = chat.app.server.address() as net.AddressInfo
  const tcpPort = chat.app.gateTcpAddress()!.port
  const mqttPort = chat.app.gateAddress('mqtt')!.port
  const served: number[] = []
  chat.app.gate.onDisconnect(() => { served.push(Date.now()) })

  const ws = await Promise.all(Array.from({ length: 16 }, async () => await chat.ws()))
  const tcp = await Promise.all(Array.from({ length: 4 }, async () => await chat.tcp()))
  const mqtt = await Promise.all(Array.from({ length: 2 }, async () => {
    const c = await RawMqtt.connect(mqttPort)
    assert.equal(await c.handshake(), 0)
    return c
  }))
  const n = ws.length + tcp.length + mqtt.length
  await until(() => chat.app.gate.connectionCount === n)

  // How many are still open each time one closes, seen from the clients.
  let open = n
  const openAtClose: number[] = []
  const seen = (p: Promise<unknown>): Promise<unknown> => p.then(v => { openAtClose.push(--open); return v })
  const wsCloses = ws.map(async c => await seen(c.closed) as { code: number, reason: string })
  const tcpNotices = tcp.map(async c => await c.nextOf('S2C_Close', 10000))
  const tcpCloses = tcp.map(async c => await seen(c.closed))
  const mqttCloses = mqtt.map(async c => await seen(c.closed))

  const closing = chat.app.close()
  await until(() => openAtClose.length > 0, 10000, 'the first close')
  // Stopped accepting: nothing listens on the HTTP, TCP and MQTT ports while the drain runs.
  for (const p of [port, tcpPort, mqttPort]) {
    const socket = net.connect(p, '127.0.0.1')
    const [err] = await once(socket, 'error') as [NodeJS.ErrnoException]
    assert.equal(err.code, 'ECONNREFUSED')
  }
  assert.ok(chat.app.gate.connectionCount > 0, 'the drain is still under way')
  await closing

  for (const c of await Promise.all(wsCloses)) assert.deepEqual(c, { code: CloseCode.SERVICE_RESTART, reason: 'service restart' })
  for (const notice of await Promise.all(tcpNotices)) assert.deepEqual(notice.body, { code: CloseCode.SERVICE_RESTART, reason: 'service restart' })
  await Promise.all([...tcpCloses, ...mqttCloses])
  assert.deepEqual(new Set(chat.closes.map(c => c.code)), new Set([CloseCode.SERVICE_RESTART]))
  assert.equal(chat.closes.length, n)

  // Spread, not all at once: when the first client saw its close, most were still open,
  // and the gate's closes span at least half the drain time (a slow machine only widens it).
  assert.ok(openAtClose[0] >= n / 2, `open when the first closed: ${openAtClose[0]} of ${n}`)
  const span = Math.max(...served) - Math.min(...served)
  t.diagnostic(`${n} closes over ${span} ms (drainTime ${DRAIN})`)
  assert.ok(span >= DRAIN / 2, `closes spread over ${span} ms`)
})

test('with a drain, app.close() still finishes with a stalled WebSocket and a TCP client that never ends', { timeout: 30000 }, async (t) => {
  const s = await startCore(t, { drainTime: 400, closeTimeout: 200, shutdownTimeout: 1000 }, registerTestMessages)
  const ws = await Promise.all(Array.from({ length: 3 }, async () => await s.ws()))
  const stalled = await s.ws()
  const stubborn = net.connect({ port: s.tcpPort, host: '127.0.0.1', allowHalfOpen: true })
  stubborn.on('error', () => {})
  await once(stubborn, 'connect')
  t.after(() => stubborn.destroy())
  await until(() => s.app.gate.connectionCount === 5)
  stalled.ws.pause()
  stubborn.pause()
  await s.app.close()
  assert.equal(s.app.gate.connectionCount, 0)
  for (const c of ws) assert.equal((await c.closed).code, CloseCode.SERVICE_RESTART)
})

test('drainTime is checked like every option', async (t) => {
  for (const bad of [-1, 1.5, '5000']) {
    await assert.rejects(startCore(t, { drainTime: bad as number }), { code: 'FST_GATE_INVALID_OPTION' })
  }
  // And 0 closes everything at once.
  const s = await startCore(t, { drainTime: 0 }, registerTestMessages)
  const clients: Array<WsClient | TcpClient> = [await s.ws(), await s.ws(), await s.tcp()]
  await until(() => s.app.gate.connectionCount === 3)
  await s.app.close()
  for (const c of clients) await c.closed
})
