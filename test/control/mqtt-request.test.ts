/**
 * MQTT requests as mqant's gate answers them: a PUBLISH on `<name>/<id>` is
 * answered on the same topic (a refusal on `<name>/<id>/error`), with MQTT.js;
 * and `canJoin` on `room/<name>` filters (SUBACK 0x80 when refused).
 */
import { Type } from '@sinclair/typebox'
import mqtt, { type MqttClient } from 'mqtt'
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { SECRET, startChat } from '../example/helper.js'
import { startCore } from '../helper.js'

const sign = tokenSigner(SECRET)

async function connect (t: TestContext, url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts })
  t.after(() => c.end(true))
  return c
}

/** The next PUBLISH on `topic`: its raw payload. */
async function nextOn (c: MqttClient, topic: string): Promise<Buffer> {
  return await new Promise(resolve => {
    const on = (t: string, payload: Buffer): void => {
      if (t !== topic) return
      c.off('message', on)
      resolve(payload)
    }
    c.on('message', on)
  })
}

for (const via of ['tcp', 'ws'] as const) {
  test(`MQTT over ${via}: C2S_Online/<id> is answered on the same topic; room/ filters go through canJoin`, async (t) => {
    const chat = await startChat(t, 'json')
    const { port } = chat.app.server.address() as { port: number }
    const url = via === 'tcp' ? `mqtt://127.0.0.1:${chat.app.gateAddress('mqtt')!.port}` : `ws://127.0.0.1:${port}/mqtt`
    const alice = await connect(t, url, { username: 'alice', password: sign('alice') })

    for (const [id, qos] of [['42', 1], ['req-7', 0]] as const) {
      const answer = nextOn(alice, `C2S_Online/${id}`)
      await alice.publishAsync(`C2S_Online/${id}`, '{}', { qos })
      assert.deepEqual(JSON.parse((await answer).toString()), { total: 1, uids: ['alice'] })
    }
    // A handler without an answer acknowledges: an empty payload on the topic.
    const ack = nextOn(alice, 'C2S_UpdateWatchRoom/9')
    await alice.publishAsync('C2S_UpdateWatchRoom/9', JSON.stringify({ rooms: [] }))
    assert.equal((await ack).length, 0)

    const granted = await alice.subscribeAsync(['room/lobby', 'room/private:alice'])
    assert.deepEqual(granted.map(g => [g.topic, g.qos]), [['room/lobby', 0], ['room/private:alice', 0]])
    // MQTT.js rejects a SUBACK with a failure code: 0x80 for the room canJoin refuses.
    await assert.rejects(alice.subscribeAsync('room/private:bob'), (e: { packet?: { granted?: number[] } }) => e.packet?.granted?.[0] === 0x80)
    const [agent] = chat.app.gate.agentsOf('alice')
    assert.deepEqual([...agent.rooms].sort(), ['lobby', 'private:alice'])
  })
}

test('MQTT: a refused request is answered on <name>/<id>/error with a Gate_Reply body; without clientControl, <name>/<id> is an unknown topic as before', async (t) => {
  const s = await startCore(t, { clientControl: true, mqtt: { tcp: { port: 0 } } }, app => {
    app.gate.message('Fail', { schema: Type.Object({}) }, () => { throw Object.assign(new Error('no'), { code: 'NOT_FOUND' }) })
  })
  const c = await connect(t, `mqtt://127.0.0.1:${s.app.gateAddress('mqtt')!.port}`)
  const error = nextOn(c, 'Fail/3/error')
  await c.publishAsync('Fail/3', '{}', { qos: 1 })
  assert.deepEqual(JSON.parse((await error).toString()), { id: 3, code: 'NOT_FOUND' })

  const off = await startCore(t, { mqtt: { tcp: { port: 0 } } }, app => { app.gate.message('Fail', { schema: Type.Object({}) }) })
  const d = await connect(t, `mqtt://127.0.0.1:${off.app.gateAddress('mqtt')!.port}`)
  const closed = new Promise<void>(resolve => d.once('close', () => { resolve() }))
  d.publish('Fail/3', '{}')
  await closed
})
