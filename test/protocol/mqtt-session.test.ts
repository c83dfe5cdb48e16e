/**
 * MQTT sessions (docs/protocol.md section 7): resume after a login by the
 * CONNECT password, persistent sessions (clean session 0) on one node and
 * across two nodes on a private Redis, and the takeover of a client id.
 */
import mqtt, { type MqttClient } from 'mqtt'
import mqttPacket from 'mqtt-packet'
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { SECRET, startChat } from '../example/helper.js'
import { mqttProtocol } from '../../src/protocol/mqtt/mqtt.js'
import { sessionKey } from '../../src/protocol/mqtt/sessions.js'
import { MemorySessionStore } from '../../src/session/store.js'
import { startCore, until } from '../helper.js'
import { startRedis } from '../redis-helper.js'
import { RawMqtt } from './mqtt-raw.js'
import { connectMqtt as connect, type Got } from './mqtt-clients.js'

const sign = tokenSigner(SECRET)

async function end (c: MqttClient): Promise<void> {
  await c.endAsync()
}

describe('MQTT: a login message after the CONNECT password', () => {
  test('C2S_UserLogin with resume_pos after CONNACK answers recovered and gate_pos, and replays what was missed', { timeout: 30_000 }, async (t) => {
    const chat = await startChat(t, 'json')
    const first = await connect(t, chat, { username: 'bob', password: sign('bob') })
    first.c.publish('C2S_UserLogin', JSON.stringify({ token: sign('bob'), resume_pos: '' }))
    await until(() => first.got.some(g => g.topic === 'S2C_UserLogin'), 5000, 'login answer')
    const login = first.got.find(g => g.topic === 'S2C_UserLogin')!.body
    assert.equal(login.recovered, false)
    assert.match(login.gate_pos, /^.+:0$/)
    await end(first.c)

    await chat.app.gate.pushToUids(['bob'], 'S2C_Message', { from_uid: 'x', to_uid: 'bob', content: 'missed', ts: 1 })
    const back = await connect(t, chat, { username: 'bob', password: sign('bob') })
    back.c.publish('C2S_UserLogin', JSON.stringify({ token: sign('bob'), resume_pos: login.gate_pos }))
    await until(() => back.got.some(g => g.topic === 'S2C_UserLogin'), 5000, 'login answer')
    assert.deepEqual(back.got.map(g => g.topic), ['S2C_Message', 'S2C_UserLogin'])
    assert.equal(back.got[0]!.body.content, 'missed')
    assert.equal(back.got[1]!.body.recovered, true)
    assert.equal(back.got[1]!.body.gate_pos, back.got[0]!.body.gate_pos)
  })
})

/** Messages that reached `got` on `topic`, their contents. */
const contents = (got: Got[], topic = 'S2C_Message'): string[] => got.filter(g => g.topic === topic).map(g => g.body.content)

describe('MQTT persistent sessions (clean session 0), one node', () => {
  for (const via of ['tcp', 'ws'] as const) {
    test(`over ${via}: session present 1 when the client id has a session; it resumes uid history and rooms from where it left off`, { timeout: 30_000 }, async (t) => {
      const chat = await startChat(t, 'json')
      const opts = { clientId: 'phone-1', clean: false, username: 'bob', password: sign('bob') }
      const first = await connect(t, chat, opts, via)
      assert.equal(first.present, false, 'no session yet')
      await first.c.subscribeAsync('room/lobby')
      await chat.app.gate.pushToUids(['bob'], 'S2C_Message', { from_uid: 'x', to_uid: 'bob', content: 'seen', ts: 1 })
      await until(() => contents(first.got).includes('seen'), 5000, 'seen')
      await end(first.c)
      await until(() => chat.app.gate.agentsOf('bob').size === 0)

      for (const content of ['missed 1', 'missed 2']) await chat.app.gate.pushToUids(['bob'], 'S2C_Message', { from_uid: 'x', to_uid: 'bob', content, ts: 1 })
      const back = await connect(t, chat, opts, via)
      assert.equal(back.present, true)
      await until(() => contents(back.got).length === 2, 5000, 'the replay')
      assert.deepEqual(contents(back.got), ['missed 1', 'missed 2'], 'what was missed, once, in order: not what the first connection had')
      assert.match(back.got[0]!.body.gate_pos, /:2$/)
      const [agent] = chat.app.gate.agentsOf('bob')
      assert.deepEqual([...agent!.rooms], ['lobby'], 'the session\'s rooms, without a SUBSCRIBE')
      await chat.app.gate.pushToRoom('lobby', 'S2C_Message', { from_uid: 'x', room: 'lobby', content: 'room live', ts: 1 })
      await until(() => contents(back.got).length === 3, 5000, 'the room message')
      assert.equal(contents(back.got)[2], 'room live')
      await end(back.c)

      const clean = await connect(t, chat, { ...opts, clean: true }, via)
      assert.equal(clean.present, false, 'clean session 1')
      await end(clean.c)
      const after = await connect(t, chat, opts, via)
      assert.equal(after.present, false, 'a clean session ended the stored one')
    })
  }

  test('a session belongs to the uid that made it: another uid with the same client id gets none of it', { timeout: 30_000 }, async (t) => {
    const chat = await startChat(t, 'json')
    const bob = await connect(t, chat, { clientId: 'shared', clean: false, username: 'bob', password: sign('bob') })
    await bob.c.subscribeAsync('room/secret')
    await end(bob.c)
    const eve = await connect(t, chat, { clientId: 'shared', clean: false, username: 'eve', password: sign('eve') })
    assert.equal(eve.present, false)
    assert.equal([...chat.app.gate.agentsOf('eve')][0]!.rooms.size, 0)
    await end(eve.c)
    const again = await connect(t, chat, { clientId: 'shared', clean: false, username: 'bob', password: sign('bob') })
    assert.equal(again.present, true, 'bob\'s session is still there')
  })

  test('clean session 0 without a client id gets CONNACK 2 (identifier rejected)', { timeout: 30_000 }, async (t) => {
    const chat = await startChat(t, 'json')
    const raw = await RawMqtt.connect(chat.app.gateAddress('mqtt')!.port)
    // mqtt-packet refuses to generate it: a clean CONNECT with its clean session flag (0x02) cleared.
    const bytes = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: '', keepalive: 0 })
    bytes[bytes.indexOf('MQTT') + 5] &= ~0x02
    raw.send(bytes)
    const p = await raw.next()
    assert.deepEqual([p.cmd, (p as { returnCode?: number }).returnCode], ['connack', 2])
    await raw.closed
  })
})

describe('MQTT client id takeover', () => {
  for (const clean of [true, false]) {
    test(`clean session ${clean ? 1 : 0}: a new CONNECT with a connected client id closes the old connection (4002), logged once`, { timeout: 30_000 }, async (t) => {
      const lines: any[] = []
      const stream = { write: (line: string) => { lines.push(JSON.parse(line)) } }
      const chat = await startChat(t, 'json', {}, { level: 'info', stream })
      const opts = { clientId: 'laptop', clean, username: 'bob', password: sign('bob') }
      const old = await connect(t, chat, opts)
      const closed = new Promise<void>(resolve => old.c.once('close', () => resolve()))
      const other = await connect(t, chat, { ...opts, clientId: 'other' })
      const next = await connect(t, chat, opts)
      await closed
      await until(() => chat.closes.length === 1)
      assert.equal(chat.closes[0]!.code, 4002)
      assert.equal(chat.app.gate.agentsOf('bob').size, 2, 'the new one and the other client id')
      assert.equal(next.c.connected && other.c.connected, true)
      assert.equal(lines.filter(l => /taken over/.test(l.msg)).length, 1)
    })
  }

  test('without a password, a client id takes nothing over', { timeout: 30_000 }, async (t) => {
    const chat = await startChat(t, 'json')
    const a = await connect(t, chat, { clientId: 'anon' })
    await connect(t, chat, { clientId: 'anon' })
    assert.equal(a.c.connected, true)
    assert.equal(chat.closes.length, 0)
  })
})

describe('MQTT persistent sessions across two nodes on Redis', () => {
  test('made on node a, resumed on node b (history and rooms); then taken over from node b by a CONNECT on node a', { timeout: 30_000 }, async (t) => {
    const redis = await startRedis(t)
    const a = await startChat(t, 'json', { REDIS_URL: redis.url, GATE_NODE_ID: 'a' })
    const b = await startChat(t, 'json', { REDIS_URL: redis.url, GATE_NODE_ID: 'b' })
    const opts = { clientId: 'tab', clean: false, username: 'bob', password: sign('bob') }
    const first = await connect(t, a, opts)
    assert.equal(first.present, false)
    await first.c.subscribeAsync('room/lobby')
    await a.app.gate.pushToUids(['bob'], 'S2C_Message', { from_uid: 'x', to_uid: 'bob', content: 'seen', ts: 1 })
    await until(() => contents(first.got).includes('seen'), 5000, 'seen')
    await end(first.c)
    await until(async () => !(await b.app.gate.isOnline('bob')), 5000, 'bob offline')

    await b.app.gate.pushToUids(['bob'], 'S2C_Message', { from_uid: 'x', to_uid: 'bob', content: 'missed', ts: 1 })
    const onB = await connect(t, b, opts)
    assert.equal(onB.present, true, 'the session made on node a, found on node b')
    await until(() => contents(onB.got).length === 1, 5000, 'the replay')
    assert.deepEqual(contents(onB.got), ['missed'])
    assert.deepEqual([...[...b.app.gate.agentsOf('bob')][0]!.rooms], ['lobby'])
    await a.app.gate.pushToRoom('lobby', 'S2C_Message', { from_uid: 'x', room: 'lobby', content: 'room from a', ts: 1 })
    await until(() => contents(onB.got).length === 2, 5000, 'the room push from node a')

    const store = b.app.gate.sessions.store!
    await until(async () => (await store.load('\0mqtt\0tab'))?.pos.endsWith(':2') === true, 5000, 'the replay saved')
    // [room history] and the room's position (saved at most every second while it moves): the takeover then replays nothing of the room
    await until(async () => (JSON.parse((await store.load('\0mqtt\0tab'))?.roomPos ?? '{}') as Record<string, string>).lobby?.endsWith(':1') === true, 5000, 'the room position saved')
    const closed = new Promise<void>(resolve => onB.c.once('close', () => resolve()))
    const onA = await connect(t, a, opts)
    assert.equal(onA.present, true)
    await closed
    await until(() => b.closes.length === 1, 5000, 'node b closed its connection')
    assert.equal(b.closes[0]!.code, 4002)
    await a.app.gate.pushToUids(['bob'], 'S2C_Message', { from_uid: 'x', to_uid: 'bob', content: 'after', ts: 1 })
    await until(() => contents(onA.got).length === 1, 5000, 'live after the takeover')
    assert.deepEqual(contents(onA.got), ['after'], 'nothing replayed twice')
    assert.deepEqual([...[...a.app.gate.agentsOf('bob')][0]!.rooms], ['lobby'])
  })
})

describe('MQTT persistent sessions through a drain', () => {
  test('a node that drains saves its sessions: the client resumes on the other node from where it was', { timeout: 30_000 }, async (t) => {
    const redis = await startRedis(t)
    const a = await startChat(t, 'json', { REDIS_URL: redis.url, GATE_NODE_ID: 'a' })
    const b = await startChat(t, 'json', { REDIS_URL: redis.url, GATE_NODE_ID: 'b' })
    const opts = { clientId: 'kiosk', clean: false, username: 'bob', password: sign('bob') }
    const onA = await connect(t, a, opts)
    await onA.c.subscribeAsync('room/hall')
    for (const content of ['one', 'two']) await b.app.gate.pushToUids(['bob'], 'S2C_Message', { from_uid: 'x', to_uid: 'bob', content, ts: 1 })
    await until(() => contents(onA.got).length === 2, 5000, 'both live on a')
    await a.app.close()
    await b.app.gate.pushToUids(['bob'], 'S2C_Message', { from_uid: 'x', to_uid: 'bob', content: 'three', ts: 1 })
    const onB = await connect(t, b, opts)
    assert.equal(onB.present, true)
    await until(() => contents(onB.got).length === 1, 5000, 'the replay on b')
    assert.deepEqual(contents(onB.got), ['three'], 'what a had written is not sent again')
    assert.deepEqual([...[...b.app.gate.agentsOf('bob')][0]!.rooms], ['hall'])
  })
})

describe('MQTT session expiry', () => {
  test('a session is kept mqtt.sessionExpiry after its connection closed, not longer', { timeout: 30_000 }, async (t) => {
    let now = Date.now()
    const store = new MemorySessionStore(1000, () => now)
    const s = await startCore(t, { tcp: false, mqtt: { tcp: { port: 0 }, path: false, sessionExpiry: 5000 }, session: { store } }, app => {
      app.gate.authenticate(async (agent, credentials) => {
        await agent.bind(credentials.password!.toString())
        return true
      })
    })
    const url = `mqtt://127.0.0.1:${s.app.gateAddress('mqtt')!.port}`
    const connectOnce = async (): Promise<boolean> => {
      const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, clientId: 'dev', clean: false, username: 'u', password: 'u1' })
      const present = (c as unknown as { connackPacket?: { sessionPresent?: boolean } }).connackPacket?.sessionPresent === true
      await c.endAsync()
      await until(async () => s.app.gate.agentsOf('u1').size === 0 && (await store.load(sessionKey('dev')))?.agent === '', 5000, 'saved at close')
      return present
    }
    assert.equal(await connectOnce(), false)
    now += 4000
    assert.equal(await connectOnce(), true, 'within the expiry')
    now += 5001
    assert.equal(await connectOnce(), false, 'expired')
    assert.throws(() => mqttProtocol(s.app.gate, { sessionExpiry: 10 }), { code: 'FST_GATE_INVALID_OPTION' })
  })
})
