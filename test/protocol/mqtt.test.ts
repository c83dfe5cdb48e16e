import mqtt, { type MqttClient } from 'mqtt'
import mqttPacket from 'mqtt-packet'
import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { SECRET, startChat, type Chat } from '../example/helper.js'
import { mockGateClock, until } from '../helper.js'
import { RawMqtt } from './mqtt-raw.js'

const sign = tokenSigner(SECRET)
type Via = 'tcp' | 'ws'

function mqttUrl (chat: Chat, via: Via): string {
  if (via === 'tcp') return `mqtt://127.0.0.1:${chat.app.gateAddress('mqtt')!.port}`
  const { port } = chat.app.server.address() as { port: number }
  return `ws://127.0.0.1:${port}/mqtt`
}

/** An MQTT.js client, connected (CONNACK 0), closed after the test. */
async function client (t: TestContext, chat: Chat, via: Via, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(mqttUrl(chat, via), { reconnectPeriod: 0, connectTimeout: 5000, ...opts })
  t.after(() => c.end(true))
  return c
}

/** Resolves with the next PUBLISH on `topic`, its payload parsed as JSON. */
async function nextOn (c: MqttClient, topic: string): Promise<any> {
  return await new Promise(resolve => {
    const on = (t: string, payload: Buffer): void => {
      if (t !== topic) return
      c.off('message', on)
      resolve(JSON.parse(payload.toString()))
    }
    c.on('message', on)
  })
}

async function admin (chat: Chat, method: string, path: string, body?: unknown): Promise<any> {
  const { port } = chat.app.server.address() as { port: number }
  const res = await fetch(`http://127.0.0.1:${port}/gate${path}`, {
    method,
    headers: { authorization: 'Bearer admin', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return { status: res.status, body: await res.json() }
}

for (const via of ['tcp', 'ws'] as const) {
  describe(`MQTT 3.1.1 over ${via}, with MQTT.js`, () => {
    test('CONNECT with a token logs in; a heartbeat at QoS 0, 1 and 2 is answered as a PUBLISH', async (t) => {
      const chat = await startChat(t, 'json')
      const c = await client(t, chat, via, { username: 'ignored', password: sign('alice') })
      await until(() => chat.app.gate.agentsOf('alice').size === 1, 5000, 'alice bound')
      for (const qos of [0, 1, 2] as const) {
        const answer = nextOn(c, 'C2S_UserHeartBeat')
        await c.publishAsync('C2S_UserHeartBeat', JSON.stringify({ ptime: 1 }), { qos })
        assert.equal(typeof (await answer).ptime, 'number')
      }
      const [agent] = chat.app.gate.agentsOf('alice')
      assert.equal(agent!.protocol, 'mqtt')
      assert.equal(agent!.transport, via)
    })

    test('a bad token gets CONNACK 5 and the close is 4003', async (t) => {
      const chat = await startChat(t, 'json')
      await assert.rejects(mqtt.connectAsync(mqttUrl(chat, via), { reconnectPeriod: 0, username: 'x', password: 'not-a-token' }), { code: 5 })
      await until(() => chat.closes.length === 1)
      assert.equal(chat.closes[0]!.code, 4003)
    })

    test('leaf and MQTT clients message each other; SUBSCRIBE room/<name> joins the room', async (t) => {
      const chat = await startChat(t, 'json')
      const bob = await client(t, chat, via, { username: 'bob', password: sign('bob') })
      const alice = await chat.ws()
      alice.send('C2S_UserLogin', { token: sign('alice'), login_plat: 1 })
      assert.equal((await alice.next()).body.ret, 1)

      const toBob = nextOn(bob, 'S2C_Message')
      alice.send('C2S_Message', { to_uid: 'bob', content: 'hi bob' })
      assert.deepEqual({ ...(await toBob), ts: 0 }, { from_uid: 'alice', to_uid: 'bob', content: 'hi bob', ts: 0 })

      bob.publish('C2S_Message', JSON.stringify({ to_uid: 'alice', content: 'hi alice' }))
      const got = await alice.next()
      assert.equal(got.name, 'S2C_Message')
      assert.equal(got.body.content, 'hi alice')

      const granted = await bob.subscribeAsync(['room/lobby', 'anything/#'])
      assert.deepEqual(granted.map(g => g.qos), [0, 0])
      assert.deepEqual([...[...chat.app.gate.agentsOf('bob')][0]!.rooms], ['lobby'])
      const inRoom = nextOn(bob, 'S2C_Message')
      alice.send('C2S_Message', { room: 'lobby', content: 'hello room' })
      assert.equal((await inRoom).room, 'lobby')
      await bob.unsubscribeAsync('room/lobby')
      assert.equal([...chat.app.gate.agentsOf('bob')][0]!.rooms.size, 0)
      await alice.close()
    })

    test('SUBSCRIBE room/<name> before login is refused (0x80); other filters are granted', async (t) => {
      const chat = await startChat(t, 'json')
      const c = await client(t, chat, via)
      await assert.rejects(c.subscribeAsync(['room/lobby', 'x']), (err: { packet?: { granted?: number[] } }) => {
        assert.deepEqual(err.packet?.granted, [128, 0])
        return true
      })
    })

    test('wildcard filters that could match a room (room/+, room/#, #, +/lobby) are refused with 0x80, not joined literally', async (t) => {
      const chat = await startChat(t, 'json')
      const c = await client(t, chat, via, { username: 'dave', password: sign('dave') })
      const filters = ['room/+', 'room/#', '#', '+/lobby', 'room/lobby', 'anything/#', '+', 'S2C_Message']
      await assert.rejects(c.subscribeAsync(filters), (err: { packet?: { granted?: number[] } }) => {
        assert.deepEqual(err.packet?.granted, [128, 128, 128, 128, 0, 0, 0, 0])
        return true
      })
      assert.deepEqual([...[...chat.app.gate.agentsOf('dave')][0]!.rooms], ['lobby'])
      await c.unsubscribeAsync(['room/+', 'room/#'])
      assert.deepEqual([...[...chat.app.gate.agentsOf('dave')][0]!.rooms], ['lobby'], 'a wildcard UNSUBSCRIBE leaves no room')
    })

    test('listed, pushed to and kicked through the admin API, with protocol mqtt', async (t) => {
      const chat = await startChat(t, 'json')
      const c = await client(t, chat, via, { username: 'carol', password: sign('carol') })
      await until(() => chat.app.gate.agentsOf('carol').size === 1)
      const user = await admin(chat, 'GET', '/users/carol')
      assert.equal(user.status, 200)
      assert.equal(user.body.connections[0].protocol, 'mqtt')
      assert.equal(user.body.connections[0].transport, via)
      const stats = await admin(chat, 'GET', '/stats')
      assert.equal(stats.body.protocols.mqtt, 1)
      const pushed = nextOn(c, 'S2C_Message')
      const push = await admin(chat, 'POST', '/push', { uids: ['carol'], name: 'S2C_Message', body: { from_uid: 'admin', content: 'hey', ts: 1 } })
      assert.equal(push.body.delivered, 1)
      assert.equal((await pushed).content, 'hey')
      const kicked = await admin(chat, 'POST', '/kick', { uids: ['carol'] })
      assert.equal(kicked.body.kicked, 1)
      await until(() => chat.closes.length === 1)
      assert.equal(chat.closes[0]!.code, 4001)
    })
  })
}

describe('MQTT rules, raw packets over TCP', () => {
  const start = async (t: TestContext, env: Record<string, string> = {}): Promise<{ chat: Chat, raw: () => Promise<RawMqtt> }> => {
    const chat = await startChat(t, 'json', env)
    return { chat, raw: async () => await RawMqtt.connect(chat.app.gateAddress('mqtt')!.port) }
  }

  test('protocol levels 3 (MQTT 3.1), 5, 6 and 7 get CONNACK 1, then close', async (t) => {
    const { chat, raw } = await start(t)
    const c = await raw()
    assert.equal(await c.handshake({ protocolId: 'MQIsdp', protocolVersion: 3 }), 1)
    await c.closed
    for (const level of [5, 6, 7]) {
      // mqtt-packet generates no level past 5: a level 4 CONNECT with its level byte changed.
      const bytes = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: `l${level}`, keepalive: 0 })
      bytes[bytes.indexOf('MQTT') + 4] = level
      const d = await raw()
      d.send(bytes)
      const p = await d.next()
      assert.deepEqual([p.cmd, (p as { returnCode?: number }).returnCode], ['connack', 1], `level ${level}`)
      await d.closed
    }
    await until(() => chat.closes.length === 4)
    assert.deepEqual(chat.closes.map(c => c.code), [1002, 1002, 1002, 1002])
  })

  test('QoS 1: the PUBACK comes before the handler\'s answer', async (t) => {
    const { raw } = await start(t)
    const c = await raw()
    assert.equal(await c.handshake(), 0)
    for (let id = 1; id <= 3; id++) {
      c.send({ cmd: 'publish', topic: 'C2S_UserHeartBeat', payload: Buffer.from('{"ptime":1}'), qos: 1, messageId: id, retain: false, dup: false })
      const first = await c.next()
      assert.deepEqual([first.cmd, (first as { messageId?: number }).messageId], ['puback', id])
      assert.equal((await c.next()).cmd, 'publish')
    }
  })

  test('a packet before CONNECT, a second CONNECT, an unknown or wildcard topic, and a malformed packet close with 1002', async (t) => {
    const { chat, raw } = await start(t)
    const early = await raw()
    early.send({ cmd: 'pingreq' })
    await early.closed
    const cases: Array<(c: RawMqtt) => void> = [
      c => c.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'again', keepalive: 0 }),
      c => c.send({ cmd: 'publish', topic: 'Nope', payload: Buffer.from('{}'), qos: 0, retain: false, dup: false }),
      c => c.send({ cmd: 'publish', topic: 'C2S_UserHeartBeat/#', payload: Buffer.from('{}'), qos: 0, retain: false, dup: false }),
      c => c.send(Buffer.from([0x80, 0x02, 0x00, 0x01])), // SUBSCRIBE with reserved flags 0000 (must be 0010): malformed
      c => c.send(Buffer.from([0x82, 0x02, 0x00, 0x01])) // SUBSCRIBE without a filter
    ]
    for (const bad of cases) {
      const c = await raw()
      assert.equal(await c.handshake(), 0)
      bad(c)
      await c.closed
    }
    await until(() => chat.closes.length === 6)
    assert.deepEqual(chat.closes.map(c => c.code), [1002, 1002, 1002, 1002, 1002, 1002])
  })

  test('a body that fails its schema closes with 1007; a message that needs login before login with 4003', async (t) => {
    const { chat, raw } = await start(t)
    const a = await raw()
    assert.equal(await a.handshake(), 0)
    a.send({ cmd: 'publish', topic: 'C2S_UserHeartBeat', payload: Buffer.from('{"ptime":"x"}'), qos: 0, retain: false, dup: false })
    await a.closed
    const b = await raw()
    assert.equal(await b.handshake(), 0)
    b.send({ cmd: 'publish', topic: 'C2S_Message', payload: Buffer.from('{"to_uid":"x","content":"y"}'), qos: 0, retain: false, dup: false })
    await b.closed
    await until(() => chat.closes.length === 2)
    assert.deepEqual(chat.closes.map(c => c.code), [1007, 4003])
  })

  test('an oversize packet is refused from its header (1009), before its body arrives', async (t) => {
    const { chat, raw } = await start(t)
    const c = await raw()
    assert.equal(await c.handshake(), 0)
    // PUBLISH, remaining length 1,000,000 (varint c0 84 3d), no body sent.
    c.send(Buffer.from([0x30, 0xc0, 0x84, 0x3d]))
    await c.closed
    await until(() => chat.closes.length === 1)
    assert.equal(chat.closes[0]!.code, 1009)
  })

  test('QoS 2: PUBREC, PUBREL, PUBCOMP, and a resent PUBLISH is handled once', async (t) => {
    const { chat, raw } = await start(t)
    let handled = 0
    chat.app.gate.onDisconnect(() => {})
    const c = await raw()
    assert.equal(await c.handshake(), 0)
    const publish = { cmd: 'publish', topic: 'C2S_UserHeartBeat', payload: Buffer.from('{"ptime":1}'), qos: 2, messageId: 7, retain: false, dup: false } as const
    c.send(publish)
    const seen: string[] = []
    for (let i = 0; i < 2; i++) {
      const p = await c.next()
      seen.push(p.cmd)
      if (p.cmd === 'publish') handled++
    }
    assert.deepEqual(seen, ['pubrec', 'publish'], 'PUBREC before the answer')
    c.send({ ...publish, dup: true })
    assert.equal((await c.next()).cmd, 'pubrec')
    c.send({ cmd: 'pubrel', messageId: 7 })
    assert.equal((await c.next()).cmd, 'pubcomp')
    c.send({ cmd: 'pingreq' })
    assert.equal((await c.next()).cmd, 'pingresp', 'nothing else came: the resent PUBLISH was not answered again')
    assert.equal(handled, 1)
  })

  test('keep-alive: nothing received for 1.5 x keepalive closes with 4000; PINGREQ keeps it open', { timeout: 60_000 }, async (t) => {
    // On the gate's mocked clock: a PINGREQ (answered) every 0.5 s of it, for 2 s.
    const advance = mockGateClock(t)
    const { chat, raw } = await start(t)
    const pinged = await raw()
    assert.equal(await pinged.handshake({ keepalive: 1, clientId: 'pinged' }), 0)
    const silent = await raw()
    assert.equal(await silent.handshake({ keepalive: 1, clientId: 'silent' }), 0)
    for (let i = 0; i < 4; i++) {
      pinged.send({ cmd: 'pingreq' })
      assert.equal((await pinged.next()).cmd, 'pingresp')
      advance(500)
    }
    await silent.closed
    await until(() => chat.closes.length === 1)
    assert.equal(chat.closes[0]!.code, 4000)
    pinged.send({ cmd: 'pingreq' })
    assert.equal((await pinged.next()).cmd, 'pingresp', 'the pinged one is still served')
  })

  test('no CONNECT within the connect timeout closes with 4003', async (t) => {
    const { chat, raw } = await start(t)
    chat.app.gate.options.connectTimeout = 300
    const c = await raw()
    await c.closed
    await until(() => chat.closes.length === 1)
    assert.deepEqual(chat.closes[0], { code: 4003, reason: 'connect timeout' })
  })

  test('a full gate answers CONNACK 3, then closes', async (t) => {
    const { raw } = await start(t, { GATE_MAX_CONN: '1' })
    const first = await raw()
    assert.equal(await first.handshake(), 0)
    const second = await raw()
    assert.equal((await second.next() as { returnCode?: number }).returnCode, 3)
    await second.closed
  })

  test('a client that stops reading is closed as a slow consumer (4004)', async (t) => {
    const { chat, raw } = await start(t)
    const c = await raw()
    assert.equal(await c.handshake({ username: 'slow', password: Buffer.from(sign('slow')) }), 0)
    c.socket.pause()
    const big = { from_uid: 'x', to_uid: 'slow', content: 'y'.repeat(500), ts: 1 }
    for (let i = 0; i < 20000 && chat.closes.length === 0; i++) {
      await chat.app.gate.pushToUids(['slow'], 'S2C_Message', big)
    }
    await until(() => chat.closes.length === 1)
    assert.equal(chat.closes[0]!.code, 4004)
  })
})
