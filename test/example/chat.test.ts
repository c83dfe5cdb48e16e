/**
 * The example chat gateway end to end, as a client written from docs/protocol.md sees
 * it: login, heartbeat, uid and room messages, over TCP and WebSocket, in JSON
 * and protobuf; a failed login; a message before login.
 */
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import protobuf from 'protobufjs'
import { buildChatApp, PROTO_PATH } from '../../examples/chat/app.js'
import { loadConfig } from '../../examples/chat/config.js'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { TcpClient, Wire, WsClient } from '../clients.js'
import { until } from '../helper.js'

const SECRET = 'test-secret'
const sign = tokenSigner(SECRET)
const MESSAGE_ORDER = ['C2S_UserHeartBeat', 'C2S_UserLogin', 'S2C_UserLogin', 'C2S_Message', 'S2C_Message', 'C2S_UpdateWatchRoom', 'S2C_UpdateWatchRoom', 'S2C_Error', 'S2C_Close']

async function startChat (t: TestContext, encoding: 'json' | 'protobuf', env: Record<string, string> = {}) {
  const config = loadConfig({ GATE_TOKEN_SECRET: SECRET, PORT: '0', GATE_TCP_PORT: '0', GATE_MQTT_PORT: '0', GATE_ENCODING: encoding, GATE_ADMIN_TOKEN: 'admin', GATE_DRAIN_TIME: '0', ...env })
  const app = await buildChatApp(config, { logger: { level: process.env.LOG_LEVEL ?? 'silent' } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const { port } = app.server.address() as { port: number }
  const wire = encoding === 'json'
    ? new Wire()
    : new Wire({ encoding: 'protobuf', root: new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true }), ids: Object.fromEntries(MESSAGE_ORDER.map((n, i) => [n, i])) })
  return {
    app,
    ws: async () => await WsClient.connect(`ws://127.0.0.1:${port}/ws`, wire),
    tcp: async () => await TcpClient.connect(app.gateTcpAddress()!.port, wire)
  }
}

type Client = WsClient | TcpClient

async function login (client: Client, uid: string): Promise<void> {
  client.send('C2S_UserLogin', { token: sign(uid), login_plat: 1 })
  const answer = await client.nextOf('S2C_UserLogin')
  assert.deepEqual(answer.body, { ret: 1, msg: 'ok', uid })
}

for (const encoding of ['json', 'protobuf'] as const) {
  test(`${encoding}: login, heartbeat, uid and room messages across TCP and WebSocket`, async (t) => {
    const chat = await startChat(t, encoding)
    const alice = await chat.ws()
    const bob = await chat.tcp()
    const carol = await chat.ws()

    // heartbeat is allowed before login
    bob.send('C2S_UserHeartBeat', { ptime: 1 })
    const beat = await bob.nextOf('C2S_UserHeartBeat')
    assert.ok(Math.abs(beat.body.ptime - Date.now() / 1000) < 60, 'ptime is server unix seconds')

    await login(alice, 'alice')
    await login(bob, 'bob')
    await login(carol, 'carol')

    // uid to uid, TCP -> WS
    const before = Date.now()
    bob.send('C2S_Message', { to_uid: 'alice', content: 'hi alice' })
    const direct = await alice.nextOf('S2C_Message')
    assert.equal(direct.body.from_uid, 'bob')
    assert.equal(direct.body.to_uid, 'alice')
    assert.equal(direct.body.content, 'hi alice')
    assert.ok(direct.body.ts >= before && direct.body.ts <= Date.now(), 'ts is server unix ms')

    // rooms: alice (ws) and bob (tcp) watch "lobby"; carol does not
    alice.send('C2S_UpdateWatchRoom', { rooms: ['lobby', 'news'] })
    assert.deepEqual((await alice.nextOf('S2C_UpdateWatchRoom')).body.rooms.sort(), ['lobby', 'news'])
    bob.send('C2S_UpdateWatchRoom', { rooms: ['lobby'] })
    assert.deepEqual((await bob.nextOf('S2C_UpdateWatchRoom')).body.rooms, ['lobby'])
    alice.send('C2S_UpdateWatchRoom', { rooms: ['lobby'] })
    assert.deepEqual((await alice.nextOf('S2C_UpdateWatchRoom')).body.rooms, ['lobby'], 'the list replaces the old one')

    carol.send('C2S_Message', { room: 'lobby', content: 'hello lobby' })
    for (const member of [alice, bob]) {
      const m = await member.nextOf('S2C_Message')
      assert.equal(m.body.room, 'lobby')
      assert.equal(m.body.from_uid, 'carol')
      assert.equal(m.body.content, 'hello lobby')
    }
    // carol is not in the room and hears nothing; a heartbeat round trip proves her queue is empty
    carol.send('C2S_UserHeartBeat', { ptime: 0 })
    assert.equal((await carol.next()).name, 'C2S_UserHeartBeat')

    const stats = await chat.app.gate.stats()
    assert.equal(stats.onlineUsers, 3)
    assert.deepEqual(stats.transports, { ws: 2, tcp: 1 })

    await Promise.all([alice.close(), bob.close(), carol.close()])
  })

  test(`${encoding}: a bad token answers ret 0 and closes with 4003; messages before login close with 4003`, async (t) => {
    const chat = await startChat(t, encoding)
    const ws = await chat.ws()
    ws.send('C2S_UserLogin', { token: tokenSigner('wrong-secret')('mallory'), login_plat: 1 })
    const answer = await ws.nextOf('S2C_UserLogin')
    assert.equal(answer.body.ret, 0)
    assert.equal((await ws.closed).code, 4003)

    const early = await chat.ws()
    early.send('C2S_Message', { to_uid: 'x', content: 'too early' })
    assert.equal((await early.closed).code, 4003)

    const tcp = await chat.tcp()
    tcp.send('C2S_UpdateWatchRoom', { rooms: ['a'] })
    await tcp.closed // TCP: the socket ends
    await until(() => chat.app.gate.connectionCount === 0, 5000, 'all connections gone')
  })
}

test('json: expired tokens are refused; a token whose field is a number is a schema error (1007)', async (t) => {
  const chat = await startChat(t, 'json')
  const expired = await chat.ws()
  const { createSigner } = await import('fast-jwt')
  const old = createSigner({ key: SECRET, algorithm: 'HS256', clockTimestamp: Date.now() - 3_600_000, expiresIn: 60_000 })({ sub: 'late' })
  expired.send('C2S_UserLogin', { token: old })
  assert.equal((await expired.nextOf('S2C_UserLogin')).body.ret, 0)
  assert.equal((await expired.closed).code, 4003)

  const numeric = await chat.ws()
  numeric.send('C2S_UserLogin', { token: 12345, login_plat: 1 })
  assert.equal((await numeric.closed).code, 1007)
})

test('config: bad environment values are refused with a readable error', () => {
  assert.throws(() => loadConfig({ GATE_ENCODING: 'xml' }), /GATE_ENCODING/)
  assert.throws(() => loadConfig({ PORT: 'abc' }), /PORT/)
  assert.throws(() => loadConfig({ GATE_IDLE_TIMEOUT: '-1' }), /GATE_IDLE_TIMEOUT/)
  const c = loadConfig({})
  assert.equal(c.port, 3000)
  assert.equal(c.tcpPort, 3001)
  assert.equal(c.tokenSecretDefaulted, true)
  assert.equal(loadConfig({ GATE_TCP_PORT: 'off' }).tcpPort, false)
  assert.equal(c.mqttPort, 3002)
  assert.equal(loadConfig({ GATE_MQTT_PORT: 'off' }).mqttPort, false)
  assert.throws(() => loadConfig({ GATE_MQTT_PORT: 'x' }), /GATE_MQTT_PORT/)
})
