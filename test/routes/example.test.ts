import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildChatApp } from '../../examples/chat/app.js'
import { loadConfig } from '../../examples/chat/config.js'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { TcpClient, WsClient } from '../clients.js'
import { until } from '../helper.js'

/**
 * The README's admin walk-through against the example app, over real HTTP:
 * `GATE_ADMIN_TOKEN=secret npm start`, alice on WebSocket and bob on TCP log in,
 * then the curl lines: stats, users, one user, push to alice, kick bob.
 */
test('example app: two clients online, listed, one pushed to, the other kicked', async (t) => {
  const config = loadConfig({ PORT: '0', GATE_TCP_PORT: '0', GATE_MQTT_PORT: '0', GATE_ADMIN_TOKEN: 'secret', GATE_NODE_ID: 'node-1', GATE_DRAIN_TIME: '0' })
  const app = await buildChatApp(config, { logger: false })
  t.after(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const base = `http://127.0.0.1:${port}/gate`
  const admin = async (path: string, body?: unknown, token = 'secret'): Promise<{ status: number, json: any }> => {
    const res = await fetch(base + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    return { status: res.status, json: await res.json() }
  }

  const sign = tokenSigner(config.tokenSecret)
  const alice = await WsClient.connect(`ws://127.0.0.1:${port}/ws`)
  const bob = await TcpClient.connect(app.gateTcpAddress()!.port)
  alice.send('C2S_UserLogin', { token: sign('alice'), login_plat: 1 })
  bob.send('C2S_UserLogin', { token: sign('bob') })
  assert.deepEqual((await alice.nextOf('S2C_UserLogin')).body, { ret: 1, msg: 'ok', uid: 'alice' })
  assert.deepEqual((await bob.nextOf('S2C_UserLogin')).body, { ret: 1, msg: 'ok', uid: 'bob' })

  assert.equal((await admin('/stats', undefined, 'wrong')).status, 401)
  assert.deepEqual((await admin('/stats')).json, {
    onlineUsers: 2, connections: 2, nodes: 1, transports: { ws: 1, tcp: 1 }, protocols: { leaf: 2, mqtt: 0 }, node: 'node-1', mode: 'local'
  })
  assert.deepEqual((await admin('/users?offset=0&limit=100')).json, {
    total: 2, offset: 0, limit: 100, items: [{ uid: 'alice', connections: 1 }, { uid: 'bob', connections: 1 }]
  })
  const user = (await admin('/users/alice')).json
  assert.equal(user.uid, 'alice')
  assert.deepEqual(user.connections.map((c: { node: string, transport: string }) => [c.node, c.transport]), [['node-1', 'ws']])

  const message = { from_uid: 'admin', to_uid: 'alice', content: 'hello from the admin API', ts: 1700000000000 }
  assert.deepEqual((await admin('/push', { uids: ['alice'], name: 'S2C_Message', body: message })).json, { delivered: 1, stored: 1 })
  assert.deepEqual(await alice.nextOf('S2C_Message'), { name: 'S2C_Message', body: message })
  const bad = await admin('/push', { uids: ['alice'], name: 'S2C_Message', body: { content: 'no sender' } })
  assert.equal(bad.status, 400)
  assert.equal(bad.json.code, 'FST_GATE_INVALID_BODY')

  assert.deepEqual((await admin('/kick', { uids: ['bob'], reason: 'bye bob' })).json, { kicked: 1 })
  await bob.closed
  await until(async () => (await admin('/users')).json.total === 1, 5000, 'bob to be gone')
  assert.equal((await admin('/users/bob')).status, 404)

  const protocol = await fetch(`${base}/protocol`)
  assert.equal(protocol.status, 200)
  assert.deepEqual((await protocol.json()).messages.map((m: { name: string }) => m.name), [
    'C2S_UserHeartBeat', 'C2S_UserLogin', 'S2C_UserLogin', 'C2S_Message', 'S2C_Message', 'C2S_UpdateWatchRoom', 'S2C_UpdateWatchRoom', 'S2C_Error', 'S2C_Close',
    // the request of docs/protocol.md section 6, then the gate's client control messages (section 10)
    'C2S_Online', 'S2C_Online', 'Gate_Subscribe', 'Gate_Unsubscribe', 'Gate_Request', 'Gate_Reply'
  ])
  await alice.close()
})
