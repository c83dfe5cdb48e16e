import websocket from '@fastify/websocket'
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import Fastify from 'fastify'
import gatePlugin from '../../plugins/gate.js'
import { CloseCode } from '../../src/close-codes.js'
import { WsClient } from '../clients.js'
import { assertEchoes, recordCloses, registerTestMessages, startCore } from '../helper.js'

describe('WebSocket upgrade', () => {
  test('the app\'s own hooks run before the upgrade (an auth hook refuses with 401)', async (t) => {
    const s = await startCore(t, {}, (app) => {
      registerTestMessages(app)
      app.addHook('onRequest', async (request, reply) => {
        if (!request.url.includes('key=ok')) await reply.code(401).send({ error: 'no' })
      })
    })
    await assert.rejects(WsClient.connect(s.wsUrl), { statusCode: 401 })
    assert.equal(s.app.gate.connectionCount, 0)
    const client = await WsClient.connect(`${s.wsUrl}?key=ok`)
    await assertEchoes(client)
  })

  test('a plain HTTP GET of the WebSocket path is not upgraded', async (t) => {
    const s = await startCore(t, {}, registerTestMessages)
    const res = await fetch(`${s.httpUrl}${s.app.gate.options.path}`)
    assert.ok(res.status >= 400, `got ${res.status}`)
    assert.equal(s.app.gate.connectionCount, 0)
  })

  test('with an app-wide ws server allowing larger messages, maxMsgLen still closes with 1009', async (t) => {
    const app = Fastify()
    t.after(() => app.close())
    await app.register(websocket, { options: { maxPayload: 1024 * 1024 } })
    await app.register(gatePlugin, { maxMsgLen: 100, admin: false })
    registerTestMessages(app)
    await app.listen({ port: 0, host: '127.0.0.1' })
    const closes = recordCloses(app)
    const { port } = app.server.address() as { port: number }
    const url = `ws://127.0.0.1:${port}/ws`
    const bystander = await WsClient.connect(url)
    const client = await WsClient.connect(url)
    client.sendRaw(Buffer.from(JSON.stringify({ Echo: { text: 'x'.repeat(200) } })))
    assert.equal((await client.closed).code, CloseCode.MESSAGE_TOO_BIG)
    await assertEchoes(bystander)
    assert.deepEqual(closes.map(c => c.code), [CloseCode.MESSAGE_TOO_BIG])
    await bystander.close()
  })
})
