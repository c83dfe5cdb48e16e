/**
 * Issue 21, attacks 4 and 5, and QoS 2 ids never released: MQTT SUBSCRIBE had
 * no room cap, control packets skipped the message rate, and QoS 2 ids were
 * kept without bound. Raw MQTT packets (mqtt-packet) against the example app;
 * the figures are the gate's own.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import mqttPacket, { type Packet } from 'mqtt-packet'
import { CloseCode } from '../../src/close-codes.js'
import type { Agent } from '../../src/agent.js'
import { closeOf, recordCloses, until } from '../helper.js'
import { RawMqtt } from '../protocol/mqtt-raw.js'
import { sign, startChat } from './chat.js'

const gen = (p: Packet): Buffer => mqttPacket.generate(p)

async function mqttUser (port: number, uid: string): Promise<RawMqtt> {
  const raw = await RawMqtt.connect(port)
  assert.equal(await raw.handshake({ clientId: uid, username: uid, password: Buffer.from(sign(uid)) }), 0)
  return raw
}

test('SUBSCRIBE: rooms past the cap (64) get 0x80, as a leaf join past it is refused', async (t) => {
  const chat = await startChat(t)
  const port = chat.app.gateAddress('mqtt')!.port
  const raw = await mqttUser(port, 'mallory')
  const [agent] = chat.app.gate.agentsOf('mallory')
  // 1,000 room filters in 10 packets of 100.
  for (let p = 0; p < 10; p++) {
    raw.send({ cmd: 'subscribe', messageId: p + 1, subscriptions: Array.from({ length: 100 }, (_, i) => ({ topic: `room/r${p * 100 + i}`, qos: 0 as const })) })
  }
  const granted: number[] = []
  for (let p = 0; p < 10; p++) {
    const ack = await raw.next()
    assert.equal(ack.cmd, 'suback')
    granted.push(...(ack as mqttPacket.ISubackPacket).granted as number[])
  }
  assert.equal(granted.filter(g => g === 0).length, 64)
  assert.equal(granted.filter(g => g === 0x80).length, 936)
  assert.equal(agent!.rooms.size, 64)
  assert.throws(() => agent!.join('one-more'), { code: 'FST_GATE_ROOM_LIMIT' })
})

test('PINGREQ, SUBSCRIBE and UNSUBSCRIBE floods are rated like messages; a bystander on another address is answered', async (t) => {
  const chat = await startChat(t, { GATE_MSG_RATE: '100', GATE_MSG_RATE_PER_IP: '1000' })
  const gate = chat.app.gate
  const port = chat.app.gateAddress('mqtt')!.port
  const raw = await mqttUser(port, 'mallory')
  const [agent] = gate.agentsOf('mallory') as ReadonlySet<Agent>
  const pings = Buffer.concat(Array.from({ length: 5000 }, () => gen({ cmd: 'pingreq' })))
  const unsubs = Buffer.concat(Array.from({ length: 1000 }, (_, i) => gen({ cmd: 'unsubscribe', messageId: i + 1, unsubscriptions: ['room/x'] })))
  const started = Date.now()
  raw.send(Buffer.concat([pings, unsubs]))
  await until(() => gate.counters.throttled > 0, 5000, 'the flood to be throttled')
  const bystander = await chat.tcp('127.0.0.3')
  for (let i = 0; i < 10; i++) {
    bystander.send('C2S_UserHeartBeat', { ptime: i })
    await bystander.nextOf('C2S_UserHeartBeat')
  }
  const elapsed = (Date.now() - started) / 1000
  const answered = agent!.msgsOut
  t.diagnostic(`6,000 control packets pipelined: ${answered} answered in ${elapsed.toFixed(2)} s (burst 200 + 100/s); throttled ${gate.counters.throttled} times`)
  assert.ok(answered <= 200 + 100 * elapsed + 1, `control packets took tokens of the connection's rate (${answered})`)
  assert.ok(answered >= 200, 'the burst was answered')
  raw.destroy()
})

test('QoS 2 PUBLISHes never released: past maxInflight (256) the connection is closed (1008)', async (t) => {
  const chat = await startChat(t, { GATE_MSG_RATE: '0', GATE_MSG_RATE_PER_IP: '0' })
  const closes = recordCloses(chat.app)
  const port = chat.app.gateAddress('mqtt')!.port
  const raw = await mqttUser(port, 'mallory')
  const [agent] = chat.app.gate.agentsOf('mallory') as ReadonlySet<Agent>
  const publishes = Array.from({ length: 300 }, (_, i) => gen({ cmd: 'publish', topic: 'C2S_UserHeartBeat', payload: '{"ptime":1}', qos: 2, messageId: i + 1, retain: false, dup: false }))
  raw.send(Buffer.concat(publishes))
  const closed = await closeOf(closes, agent!)
  assert.equal(closed.code, CloseCode.POLICY_VIOLATION)
  assert.match(closed.reason, /QoS 2/)

  // Released ones do not count: 300 PUBLISH + PUBREL pairs are all answered.
  const ok = await mqttUser(port, 'alice')
  for (let i = 1; i <= 300; i++) {
    ok.send(publishes[i - 1]!)
    ok.send({ cmd: 'pubrel', messageId: i })
  }
  let comps = 0
  while (comps < 300) if ((await ok.next()).cmd === 'pubcomp') comps++
})
