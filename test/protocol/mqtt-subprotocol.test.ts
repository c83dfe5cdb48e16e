/**
 * MQTT over WebSocket needs the subprotocol `mqtt` (MQTT 3.1.1 section 6,
 * docs/protocol.md section 7): an upgrade to `/mqtt` that does not offer it is
 * refused with 400 FST_GATE_SUBPROTOCOL before the upgrade (and before
 * admission), and `mqtt` is what the gate selects. leaf's path is unchanged.
 */
import websocket from '@fastify/websocket'
import Fastify from 'fastify'
import mqtt from 'mqtt'
import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import { WebSocket } from 'ws'
import gatePlugin from '../../plugins/gate.js'
import { leafProtocol } from '../../src/protocol/leaf.js'
import { registerTestMessages, startCore, type Started } from '../helper.js'

/** What an upgrade came to: 101 and the protocol the server selected, or the refusal's status and code. */
interface Upgrade {
  status: number
  protocol?: string
  code?: string
}

/**
 * A raw ws client's upgrade to `url` offering `protocols`: the protocol ws
 * selected, or the refusal's status and JSON body. An opened socket is kept
 * open (it holds its place) until the test ends.
 */
async function handshake (t: TestContext, url: string, protocols: string[] = []): Promise<{ status: number, protocol?: string, body?: Record<string, unknown> }> {
  const ws = new WebSocket(url, protocols)
  t.after(() => ws.terminate())
  return await new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ status: 101, protocol: ws.protocol }))
    ws.once('unexpected-response', (req, res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => {
        req.destroy()
        resolve({ status: res.statusCode!, body: JSON.parse(body) })
      })
    })
    ws.once('error', reject)
  })
}

/** `handshake`, with a refusal reduced to its status and code. */
async function upgrade (t: TestContext, url: string, protocols: string[] = []): Promise<Upgrade> {
  const { status, protocol, body } = await handshake(t, url, protocols)
  return body === undefined ? { status, protocol } : { status, code: body.code as string }
}

/** The gate with the test messages and MQTT on WebSocket `/mqtt`; the protocols the server selected, in order. */
async function start (t: TestContext, opts: Parameters<typeof startCore>[1] = {}): Promise<Started & { mqttUrl: string, selected: string[] }> {
  const s = await startCore(t, { mqtt: {}, ...opts }, registerTestMessages)
  const selected: string[] = []
  s.app.websocketServer.on('connection', (ws: WebSocket) => { selected.push(ws.protocol) })
  return { ...s, mqttUrl: `${s.httpUrl.replace('http:', 'ws:')}/mqtt`, selected }
}

describe('MQTT over WebSocket: the subprotocol mqtt', () => {
  test('MQTT.js connects to /mqtt, the server selects mqtt, and a PUBLISH is answered', async (t) => {
    const s = await start(t)
    const c = await mqtt.connectAsync(s.mqttUrl, { reconnectPeriod: 0, connectTimeout: 5000 })
    t.after(() => c.end(true))
    assert.deepEqual(s.selected, ['mqtt'])
    const answer = new Promise<{ topic: string, body: unknown }>(resolve => {
      c.once('message', (topic, payload) => resolve({ topic, body: JSON.parse(payload.toString()) }))
    })
    await c.publishAsync('Echo', JSON.stringify({ text: 'over ws' }))
    assert.deepEqual(await answer, { topic: 'Echo', body: { text: 'over ws' } })
  })

  test('an upgrade offering no subprotocol, or none the gate speaks, is refused with 400 FST_GATE_SUBPROTOCOL', async (t) => {
    const s = await start(t)
    for (const offer of [[], ['foo'], ['mqttv3.1'], ['MQTT'], ['foo', 'bar']]) {
      assert.deepEqual(await upgrade(t, s.mqttUrl, offer), { status: 400, code: 'FST_GATE_SUBPROTOCOL' }, `offering ${JSON.stringify(offer)}`)
    }
    assert.deepEqual(s.selected, [], 'nothing was upgraded')
    assert.equal(s.app.gate.connectionCount, 0)
  })

  test('the 400 answer names the expected subprotocol', async (t) => {
    const s = await start(t)
    const { status, body } = await handshake(t, s.mqttUrl, ['foo'])
    assert.equal(status, 400)
    assert.deepEqual({ ...body, message: undefined }, { statusCode: 400, code: 'FST_GATE_SUBPROTOCOL', error: 'Bad Request', message: undefined })
    assert.match(String(body!.message), /: mqtt$/)
  })

  test('offering mqtt among others selects mqtt, wherever it is in the list', async (t) => {
    const s = await start(t)
    assert.deepEqual(await upgrade(t, s.mqttUrl, ['mqtt']), { status: 101, protocol: 'mqtt' })
    assert.deepEqual(await upgrade(t, s.mqttUrl, ['foo', 'mqtt']), { status: 101, protocol: 'mqtt' })
    assert.deepEqual(await upgrade(t, s.mqttUrl, ['mqtt', 'foo']), { status: 101, protocol: 'mqtt' })
    assert.deepEqual(s.selected, ['mqtt', 'mqtt', 'mqtt'])
  })

  test('the query string does not change the check or the selection', async (t) => {
    const s = await start(t)
    assert.deepEqual(await upgrade(t, `${s.mqttUrl}?x=1`, ['foo']), { status: 400, code: 'FST_GATE_SUBPROTOCOL' })
    assert.deepEqual(await upgrade(t, `${s.mqttUrl}?x=1`, ['foo', 'mqtt']), { status: 101, protocol: 'mqtt' })
  })

  test('a plain HTTP GET of /mqtt is not upgraded, and not answered as a refused upgrade', async (t) => {
    const s = await start(t)
    const res = await fetch(`${s.httpUrl}/mqtt`)
    assert.equal(res.status, 404)
    await res.body?.cancel()
  })

  test('refused upgrades take no admission place: with maxConnPerIp 2 and connRatePerIp 1, two good ones still connect after many refusals', async (t) => {
    const s = await start(t, { maxConnPerIp: 2, connRatePerIp: 1 })
    for (let i = 0; i < 20; i++) {
      assert.deepEqual(await upgrade(t, s.mqttUrl, i % 2 === 0 ? [] : ['foo']), { status: 400, code: 'FST_GATE_SUBPROTOCOL' })
    }
    assert.equal(s.app.gate.admission.usedBy('127.0.0.1'), 0)
    assert.equal(s.app.gate.refusals.size, 0, 'no admission refusal was counted')
    assert.deepEqual(await upgrade(t, s.mqttUrl, ['mqtt']), { status: 101, protocol: 'mqtt' })
    assert.deepEqual(await upgrade(t, s.mqttUrl, ['mqtt']), { status: 101, protocol: 'mqtt' })
    // The cap is real: a third open one from the address is over it.
    assert.deepEqual(await upgrade(t, s.mqttUrl, ['mqtt']), { status: 503, code: 'FST_GATE_IP_LIMIT' })
  })
})

describe('the leaf path is unchanged', () => {
  test('ws echoes the first offer, and an upgrade without one has no protocol', async (t) => {
    const s = await start(t)
    assert.deepEqual(await upgrade(t, s.wsUrl, ['foo']), { status: 101, protocol: 'foo' })
    assert.deepEqual(await upgrade(t, s.wsUrl, ['foo', 'mqtt']), { status: 101, protocol: 'foo' })
    assert.deepEqual(await upgrade(t, s.wsUrl), { status: 101, protocol: '' })
    assert.deepEqual(s.selected, ['foo', 'foo', ''])
  })
})

describe('a custom protocol with subprotocols', () => {
  test('the client\'s first offer that the protocol speaks is selected; an upgrade offering none is refused', async (t) => {
    const chat = { ...leafProtocol, name: 'chat', subprotocols: ['chat.v2', 'chat.v1'] }
    const s = await start(t, { protocols: [{ protocol: chat, path: '/chat' }] })
    const url = `${s.httpUrl.replace('http:', 'ws:')}/chat`
    assert.deepEqual(await upgrade(t, url, ['x', 'chat.v1', 'chat.v2']), { status: 101, protocol: 'chat.v1' })
    assert.deepEqual(await upgrade(t, url, ['chat.v2']), { status: 101, protocol: 'chat.v2' })
    assert.deepEqual(await upgrade(t, url, ['mqtt']), { status: 400, code: 'FST_GATE_SUBPROTOCOL' })
  })

  test('a subprotocol that is not an HTTP token is refused at register time', async (t) => {
    const app = Fastify()
    t.after(() => app.close())
    const bad = { ...leafProtocol, name: 'bad', subprotocols: ['a b'] }
    await assert.rejects(async () => { await app.register(gatePlugin, { admin: false, protocols: [{ protocol: bad, path: '/bad' }] }) }, { code: 'FST_GATE_INVALID_OPTION' })
  })
})

describe('with the application\'s own @fastify/websocket', () => {
  test('the 400 check still runs on /mqtt; an upgrade offering only mqtt gets mqtt', async (t) => {
    const app = Fastify()
    t.after(() => app.close())
    await app.register(websocket)
    await app.register(gatePlugin, { admin: false, mqtt: {} })
    registerTestMessages(app)
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as { port: number }
    const url = `ws://127.0.0.1:${port}/mqtt`
    assert.deepEqual(await upgrade(t, url), { status: 400, code: 'FST_GATE_SUBPROTOCOL' })
    assert.deepEqual(await upgrade(t, url, ['foo']), { status: 400, code: 'FST_GATE_SUBPROTOCOL' })
    assert.deepEqual(await upgrade(t, url, ['mqtt']), { status: 101, protocol: 'mqtt' })
  })
})
