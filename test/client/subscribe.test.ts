import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Type } from '@sinclair/typebox'
import Fastify from 'fastify'
import { createClient, GateClientError, json, webSocket, type GateClient } from '../../client/node.js'
import gatePlugin from '../../plugins/gate.js'
import { deferred, registerTestMessages, until } from '../helper.js'
import { startChat } from '../example/helper.js'
import { addressesOf, chatOn, freePort, reach, sdkClient, type Addresses } from './helper.js'

const fast = { initialDelay: 10, maxDelay: 50 }

for (const encoding of ['json', 'protobuf'] as const) {
  for (const transport of ['ws', 'tcp'] as const) {
    test(`${encoding} over ${transport}: subscribe with the server's permission, a refusal is a coded error (not a close), unsubscribe, and a request answered`, async (t) => {
      const chat = await startChat(t, encoding)
      const at = addressesOf(chat)
      const alice = await sdkClient(t, at, transport, 'alice')
      const bob = await sdkClient(t, at, 'ws', 'bob')
      await alice.connect()
      await bob.connect()
      await alice.subscribe('lobby')
      await alice.subscribe('private:alice')
      assert.deepEqual([...alice.subscriptions].sort(), ['lobby', 'private:alice'])
      const [agent] = chat.app.gate.agentsOf('alice')
      assert.deepEqual([...agent.rooms].sort(), ['lobby', 'private:alice'], 'joined on the server before the promise resolved')

      await assert.rejects(alice.subscribe('private:bob'), (e: GateClientError) => e.code === 'GATE_CLIENT_REFUSED' && e.serverCode === 'NOT_ALLOWED' && e.room === 'private:bob')
      await assert.rejects(alice.subscribe('x'.repeat(101)), (e: GateClientError) => e.serverCode === 'INVALID_ROOM')
      assert.equal(alice.state.status, 'connected', 'a refusal does not close')
      assert.deepEqual([...alice.subscriptions].sort(), ['lobby', 'private:alice'], 'refused rooms are not kept')

      const got = alice.next('S2C_Message')
      bob.send('C2S_Message', { room: 'lobby', content: 'hi lobby' })
      assert.equal((await got).content, 'hi lobby')

      await alice.unsubscribe('lobby')
      assert.deepEqual([...agent.rooms], ['private:alice'])

      const online = await alice.request('C2S_Online', {})
      assert.deepEqual({ total: online.total, uids: [...online.uids].sort() }, { total: 2, uids: ['alice', 'bob'] })
      // A plain C2S_Online (no request) gets the same answer as a plain message.
      const plain = alice.next('S2C_Online')
      alice.send('C2S_Online', {})
      assert.equal((await plain).total, 2)
    })
  }
}

test('rooms are subscribed again after a reconnect, before the client says connected (and before onResume)', async (t) => {
  const [port, tcpPort] = [await freePort(), await freePort()]
  const first = await chatOn(t, 'json', port, tcpPort)
  const at: Addresses = { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws`, tcp: tcpPort }
  const alice = await sdkClient(t, at, 'ws', 'alice', { reconnect: fast, resume: true })
  const early = alice.subscribe('lobby') // before connect: sent after the first login
  await alice.connect()
  await early
  await first.app.close()
  await reach(alice, 'reconnecting')
  const second = await chatOn(t, 'json', port, tcpPort)
  const seen: string[][] = []
  const roomsNow = (): string[] => [...second.app.gate.agentsOf('alice')].flatMap(a => [...a.rooms])
  alice.onResume(() => { seen.push(roomsNow()) })
  alice.onState(s => { if (s.status === 'connected') seen.push(roomsNow()) })
  await reach(alice, 'connected')
  assert.deepEqual(seen, [['lobby'], ['lobby']], 'in the room when onResume and connected were heard')
  const bob = await sdkClient(t, at, 'tcp', 'bob')
  await bob.connect()
  const got = alice.next('S2C_Message')
  bob.send('C2S_Message', { room: 'lobby', content: 'after the restart' })
  assert.equal((await got).content, 'after the restart')
})

/** A gate with `clientControl` on `port` whose canJoin refuses `refused`. */
async function roomGate (t: import('node:test').TestContext, port: number, refused: string): Promise<Awaited<ReturnType<typeof Fastify>>> {
  const app = Fastify()
  await app.register(gatePlugin, { clientControl: true, admin: false, drainTime: 0, canJoin: (_agent, room) => room !== refused })
  await app.listen({ port, host: '127.0.0.1' })
  t.after(() => app.close())
  return app
}

test('a room refused on re-subscribe is reported (onError) and dropped; the others are back, and the client is connected', async (t) => {
  const port = await freePort()
  const first = await roomGate(t, port, 'none')
  const client: GateClient = createClient({ transport: webSocket(`ws://127.0.0.1:${port}/ws`), codec: json(), reconnect: fast })
  t.after(() => client.close())
  const errors: GateClientError[] = []
  client.onError(e => { if (e instanceof GateClientError) errors.push(e) })
  await client.connect()
  await client.subscribe('vip')
  await client.subscribe('lobby')
  await first.close()
  await until(() => client.state.status === 'reconnecting')
  const second = await roomGate(t, port, 'vip')
  await until(() => client.state.status === 'connected', 10_000)
  assert.deepEqual([...client.subscriptions], ['lobby'])
  assert.deepEqual(errors.map(e => [e.code, e.serverCode, e.room]), [['GATE_CLIENT_REFUSED', 'NOT_ALLOWED', 'vip']])
  assert.deepEqual([...second.gate.local.all()].flatMap(a => [...a.rooms]), ['lobby'])
})

/** A gate with `clientControl` and handlers the test holds. */
async function holdingGate (t: import('node:test').TestContext): Promise<{ url: string, release: () => void, app: Awaited<ReturnType<typeof Fastify>> }> {
  const app = Fastify()
  await app.register(gatePlugin, { clientControl: true, admin: false })
  const held = deferred()
  app.gate.message('Slow', { schema: Type.Object({}), answer: 'Answer' }, async () => { await held.promise; return { text: 'late' } })
  app.gate.message('Fail', { schema: Type.Object({}) }, () => { throw Object.assign(new Error('no'), { code: 'NOT_FOUND' }) })
  app.gate.message('Ack', { schema: Type.Object({}) }, () => {})
  app.gate.message('Nobody', { schema: Type.Object({}) })
  app.gate.message('Answer', { schema: Type.Object({ text: Type.String() }) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(async () => { held.resolve(); await app.close() })
  const { port } = app.server.address() as { port: number }
  return { url: `ws://127.0.0.1:${port}/ws`, release: held.resolve, app }
}

test('request: timeout (the late answer is dropped, not handed to listeners), refused with the handler\'s code, unknown, acknowledged', async (t) => {
  const gate = await holdingGate(t)
  const client: GateClient = createClient({ transport: webSocket(gate.url), codec: json(), reconnect: false })
  t.after(() => client.close())
  await client.connect()
  const heard: string[] = []
  client.onAny((_body, name) => { heard.push(name) })
  await assert.rejects(client.request('Slow', {}, { timeout: 200 }), { code: 'GATE_CLIENT_TIMEOUT' })
  // A connection's messages are handled one at a time: the rest waits for Slow's handler.
  gate.release()
  await assert.rejects(client.request('Fail', {}), (e: GateClientError) => e.code === 'GATE_CLIENT_REFUSED' && e.serverCode === 'NOT_FOUND')
  await assert.rejects(client.request('Nobody', {}), (e: GateClientError) => e.code === 'GATE_CLIENT_REFUSED' && e.serverCode === 'UNKNOWN')
  assert.equal(await client.request('Ack', {}), undefined, 'a handler without an answer acknowledges')
  assert.deepEqual(heard, [], 'neither the late answer nor any reply reached the listeners')
  assert.equal(client.state.status, 'connected')
})

test('request: the connection closes before the answer: GATE_CLIENT_CLOSED', async (t) => {
  const gate = await holdingGate(t)
  const client: GateClient = createClient({ transport: webSocket(gate.url), codec: json(), reconnect: fast })
  t.after(() => client.close())
  await client.connect()
  const pending = client.request('Slow', {}, { timeout: 60_000 })
  await until(() => gate.app.gate.connectionCount === 1)
  await gate.app.gate.kick({ agents: [...gate.app.gate.local.all()].map(a => a.id) }, 'bye')
  await assert.rejects(pending, (e: GateClientError) => e.code === 'GATE_CLIENT_CLOSED' && e.closeCode === 4001)
})

test('subscribe: maxRooms and login apply (ROOM_LIMIT, LOGIN_REQUIRED), each a coded error on an open connection', async (t) => {
  const app = Fastify()
  await app.register(gatePlugin, { clientControl: true, admin: false, maxRooms: 1 })
  registerTestMessages(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const { port } = app.server.address() as { port: number }
  const anonymous: GateClient = createClient({ transport: webSocket(`ws://127.0.0.1:${port}/ws`), codec: json(), reconnect: false })
  t.after(() => anonymous.close())
  await anonymous.connect()
  await assert.rejects(anonymous.subscribe('a'), (e: GateClientError) => e.code === 'GATE_CLIENT_REFUSED' && e.serverCode === 'LOGIN_REQUIRED')
  const alice: GateClient = createClient({
    transport: webSocket(`ws://127.0.0.1:${port}/ws`),
    codec: json(),
    reconnect: false,
    login: async (s) => { s.send('Login', { uid: 'alice' }); await s.next('Echo') }
  })
  t.after(() => alice.close())
  await alice.connect()
  await alice.subscribe('a')
  await assert.rejects(alice.subscribe('b'), (e: GateClientError) => e.code === 'GATE_CLIENT_REFUSED' && e.serverCode === 'ROOM_LIMIT')
  await alice.subscribe('a') // already in it: accepted again
  assert.deepEqual([...alice.subscriptions], ['a'])
  assert.equal(alice.state.status, 'connected')
  assert.equal(anonymous.state.status, 'connected')
})
