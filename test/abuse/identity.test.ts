/**
 * Issue 21, attack 9 and the long names: uids with lone surrogates collided
 * (U+FFFD) in Redis keys, MQTT accepted room names the admin API could not
 * address (414), and uid `..` was unreachable. Now uids and room names are
 * well-formed, 1-100 characters, not `.` or `..`, on every protocol and admin path.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import mqttPacket from 'mqtt-packet'
import { CloseCode } from '../../src/close-codes.js'
import { closeOf, connectAgent, recordCloses, registerTestMessages, startCore } from '../helper.js'
import { RawMqtt } from '../protocol/mqtt-raw.js'
import { sign, startChat } from './chat.js'

test('a login whose sub holds a lone surrogate gets ret 0 and 4003, on WebSocket and TCP', async (t) => {
  const chat = await startChat(t)
  const closes = recordCloses(chat.app)
  for (const sub of ['\ud800lone', '\udffflone']) {
    for (const transport of ['ws', 'tcp'] as const) {
      const before = new Set(chat.app.gate.local.all())
      const client = transport === 'ws' ? await chat.ws() : await chat.tcp()
      const agent = [...chat.app.gate.local.all()].find(a => !before.has(a))!
      client.send('C2S_UserLogin', { token: sign(sub), login_plat: 1 })
      assert.equal((await client.nextOf('S2C_UserLogin')).body.ret, 0)
      assert.equal((await closeOf(closes, agent)).code, CloseCode.UNAUTHORIZED)
    }
  }
  // U+FFFD itself is a well-formed uid, and it stays its own.
  const { client } = await chat.user('\ufffdlone')
  client.send('C2S_UserHeartBeat', { ptime: 1 })
  await client.nextOf('C2S_UserHeartBeat')
  assert.equal(chat.app.gate.agentsOf('\ud800lone').size, 0)
})

test('the core refuses what no admin path can name: lone surrogates, over 100 characters, "." and ".."', async (t) => {
  const s = await startCore(t, {}, registerTestMessages)
  const { agent } = await connectAgent(s, 'tcp')
  for (const bad of ['\ud800x', 'x\udc00', 'u'.repeat(101), '.', '..', '']) {
    await assert.rejects(agent.bind(bad), { code: 'FST_GATE_INVALID_UID' }, JSON.stringify(bad))
    assert.throws(() => agent.join(bad), { code: 'FST_GATE_INVALID_ROOM' })
    await assert.rejects(s.app.gate.pushToUids([bad], 'Echo', { text: 'x' }), { code: 'FST_GATE_INVALID_UID' })
    await assert.rejects(s.app.gate.pushToRoom(bad, 'Echo', { text: 'x' }), { code: 'FST_GATE_INVALID_ROOM' })
  }
  await agent.bind('u'.repeat(100))
  agent.join('...')
  agent.join('😀'.repeat(50)) // a surrogate pair is one character, two code units
})

test('MQTT: a room name over 100 characters gets 0x80; one of 100 is addressable by the admin API; a lone surrogate is refused there too', async (t) => {
  const chat = await startChat(t)
  const raw = await RawMqtt.connect(chat.app.gateAddress('mqtt')!.port)
  assert.equal(await raw.handshake({ clientId: 'm', username: 'm', password: Buffer.from(sign('mallory')) }), 0)
  const long = 'r'.repeat(100)
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `room/${long}`, qos: 0 }, { topic: `room/${long}x`, qos: 0 }, { topic: 'room/..', qos: 0 }] })
  const ack = await raw.next() as mqttPacket.ISubackPacket
  assert.deepEqual(ack.granted, [0, 0x80, 0x80])
  const admin = { authorization: 'Bearer admin', 'content-type': 'application/json' }
  const base = `http://127.0.0.1:${chat.port}/gate`
  const ok = await fetch(`${base}/rooms/${long}/push`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'S2C_Error', body: { code: 'x', msg: 'hi' } }) })
  assert.equal(ok.status, 200)
  assert.deepEqual(await ok.json(), { delivered: 1 })
  const bad = await fetch(`${base}/push`, { method: 'POST', headers: admin, body: '{"uids":["\\ud800lone"],"name":"S2C_Error","body":{"code":"x","msg":"hi"}}' })
  assert.equal(bad.status, 400)
  assert.equal((await bad.json()).code, 'FST_GATE_INVALID_UID')
  raw.destroy()
})
