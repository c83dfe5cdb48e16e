/**
 * MQTT sessions (docs/protocol.md section 7): resume after a login by the
 * CONNECT password, persistent sessions (clean session 0) on one node and
 * across two nodes on a private Redis, and the takeover of a client id.
 */
import mqtt, { type MqttClient } from 'mqtt'
import assert from 'node:assert/strict'
import { describe, test, type TestContext } from 'node:test'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { SECRET, startChat, type Chat } from '../example/helper.js'
import { until } from '../helper.js'

const sign = tokenSigner(SECRET)

interface Got { topic: string, body: any }

/** An MQTT.js client over TCP (no reconnect), every PUBLISH it gets kept in `got`. */
async function connect (t: TestContext, chat: Chat, opts: mqtt.IClientOptions): Promise<{ c: MqttClient, got: Got[], present: boolean }> {
  const got: Got[] = []
  const c = mqtt.connect(`mqtt://127.0.0.1:${chat.app.gateAddress('mqtt')!.port}`, { reconnectPeriod: 0, connectTimeout: 5000, ...opts })
  c.on('message', (topic, payload) => { got.push({ topic, body: JSON.parse(payload.toString()) }) })
  t.after(() => c.end(true))
  const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
    c.once('connect', resolve)
    c.once('error', reject)
  })
  return { c, got, present: connack.sessionPresent }
}

async function end (c: MqttClient): Promise<void> {
  await c.endAsync()
}

describe('MQTT: a login message after the CONNECT password', () => {
  test('C2S_UserLogin with resume_pos after CONNACK answers recovered and gate_pos, and replays what was missed', async (t) => {
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
