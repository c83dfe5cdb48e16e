import mqtt from 'mqtt'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { SECRET, startChat } from '../example/helper.js'
import { until } from '../helper.js'
import { startRedis } from '../redis-helper.js'

const sign = tokenSigner(SECRET)

test('across two nodes on Redis: leaf <-> MQTT messages, room pushes, listing with protocol, and a kick from the other node', async (t) => {
  const redis = await startRedis(t)
  const a = await startChat(t, 'json', { REDIS_URL: redis.url, GATE_NODE_ID: 'a' })
  const b = await startChat(t, 'json', { REDIS_URL: redis.url, GATE_NODE_ID: 'b' })

  const alice = await a.ws()
  alice.send('C2S_UserLogin', { token: sign('alice'), login_plat: 1 })
  assert.equal((await alice.next()).body.ret, 1)
  const bob = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.app.gateAddress('mqtt')!.port}`, { reconnectPeriod: 0, username: 'bob', password: sign('bob') })
  t.after(() => bob.end(true))
  await bob.subscribeAsync('room/lobby')
  const messages: any[] = []
  bob.on('message', (topic, payload) => { if (topic === 'S2C_Message') messages.push(JSON.parse(payload.toString())) })

  await until(async () => (await a.app.gate.user('bob'))?.connections.length === 1, 5000, 'bob listed on node a')
  const listed = await a.app.gate.user('bob')
  assert.deepEqual([listed!.connections[0]!.node, listed!.connections[0]!.protocol, listed!.connections[0]!.transport], ['b', 'mqtt', 'tcp'])
  await until(async () => (await a.app.gate.stats()).protocols.mqtt === 1, 5000, 'stats by protocol')

  alice.send('C2S_Message', { to_uid: 'bob', content: 'to bob on b' })
  alice.send('C2S_Message', { room: 'lobby', content: 'to the lobby' })
  await until(() => messages.length === 2, 5000, 'both messages at bob')
  assert.deepEqual(messages.map(m => m.content), ['to bob on b', 'to the lobby'])

  bob.publish('C2S_Message', JSON.stringify({ to_uid: 'alice', content: 'to alice on a' }))
  const got = await alice.next()
  assert.deepEqual([got.name, got.body.from_uid, got.body.content], ['S2C_Message', 'bob', 'to alice on a'])

  const kicked = await a.app.gate.kick({ uids: ['bob'] })
  assert.equal(kicked.kicked, 1)
  await until(() => b.closes.length === 1)
  assert.equal(b.closes[0]!.code, 4001)
  await alice.close()
})
