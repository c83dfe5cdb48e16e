/**
 * The close notice (`closeNotice`): raw TCP has no close codes, so before the
 * gate closes a leaf TCP connection it sends the configured message with the
 * code and reason. WebSocket clients get the close frame instead.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Type } from '@sinclair/typebox'
import Fastify from 'fastify'
import gatePlugin from '../../plugins/gate.js'
import { CloseCode } from '../../src/close-codes.js'
import { captureLogs, connectAgent, registerTestMessages, startCore } from '../helper.js'

const Bye = Type.Object({ code: Type.Integer(), reason: Type.String() })

test('a TCP client gets the notice with the code and reason before the socket ends; a WebSocket client gets the close frame', async (t) => {
  const s = await startCore(t, { closeNotice: 'Bye' }, (app) => {
    registerTestMessages(app)
    app.gate.message('Bye', { schema: Bye })
  })
  const tcp = await connectAgent(s, 'tcp')
  const ws = await connectAgent(s, 'ws')
  await s.app.gate.kick({ agents: [tcp.agent.id, ws.agent.id] }, 'see you')
  assert.deepEqual(await tcp.client.next(), { name: 'Bye', body: { code: CloseCode.KICKED, reason: 'see you' } })
  await tcp.client.closed
  assert.equal((await ws.client.closed).code, CloseCode.KICKED)
  assert.equal(ws.client.pending, 0, 'no notice on WebSocket')
})

test('bad input closes with its code in the notice too', async (t) => {
  const s = await startCore(t, { closeNotice: 'Bye' }, (app) => {
    registerTestMessages(app)
    app.gate.message('Bye', { schema: Bye })
  })
  const { client } = await connectAgent(s, 'tcp')
  client.sendRaw(client.wire.frame(Buffer.from('{"Nope":{}}')))
  const notice = await client.next()
  assert.equal(notice.name, 'Bye')
  assert.equal(notice.body.code, CloseCode.PROTOCOL_ERROR)
  await client.closed
})

test('a notice its schema refuses is not sent: the socket just ends, and one warning says why', async (t) => {
  const logs = captureLogs('warn')
  const s = await startCore(t, { closeNotice: 'Bye' }, (app) => {
    registerTestMessages(app)
    app.gate.message('Bye', { schema: Type.Object({ code: Type.Integer(), reason: Type.String(), when: Type.String() }) })
  }, { logger: logs.logger })
  const { client, agent } = await connectAgent(s, 'tcp')
  assert.deepEqual(await s.app.gate.kick({ agents: [agent.id] }, 'see you'), { kicked: 1 })
  await client.closed
  assert.equal(client.pending, 0, 'nothing came before the end')
  assert.deepEqual(logs.lines.map(line => ({ level: line.level, msg: line.msg, msgName: line.msgName, code: line.err?.code })),
    [{ level: 40, msg: 'close notice not sent', msgName: 'Bye', code: 'FST_GATE_INVALID_BODY' }])
})

test('a closeNotice that is not a registered message fails when the app gets ready', async () => {
  const app = Fastify({ logger: false })
  await app.register(gatePlugin, { admin: false, closeNotice: 'Missing' })
  await assert.rejects(async () => { await app.ready() }, { code: 'FST_GATE_INVALID_OPTION' })
  await app.close()
})
