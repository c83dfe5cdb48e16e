import assert from 'node:assert/strict'
import { test } from 'node:test'
import { GateClientError, json } from '../../client/node.js'
import { until } from '../helper.js'
import { startChat } from '../example/helper.js'
import { addressesOf, chatOn, freePort, reach, sdkClient, type Addresses } from './helper.js'

const fast = { initialDelay: 10, maxDelay: 50 }

for (const transport of ['ws', 'tcp'] as const) {
  test(`${transport}: after a server restart the client reconnects, logs in again and rejoins its rooms`, async (t) => {
    const [port, tcpPort] = [await freePort(), await freePort()]
    const first = await chatOn(t, 'json', port, tcpPort)
    const at: Addresses = { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws`, tcp: tcpPort }
    const alice = await sdkClient(t, at, transport, 'alice', { rooms: () => ['lobby'], reconnect: fast })
    await alice.connect()

    await first.app.close()
    const lost = await reach(alice, 'reconnecting')
    assert.equal(lost.status === 'reconnecting' && lost.code, transport === 'ws' ? 1012 : 1006, 'shutdown is 1012 on WebSocket; TCP has no close code')
    await chatOn(t, 'json', port, tcpPort)
    await reach(alice, 'connected')

    const bob = await sdkClient(t, at, 'ws', 'bob')
    await bob.connect()
    const got = alice.next('S2C_Message')
    bob.send('C2S_Message', { room: 'lobby', content: 'after the restart' })
    assert.equal((await got).content, 'after the restart', 'the room was rejoined by the login hook')
    assert.equal(alice.states.filter(s => s.status === 'connected').length, 2)
  })
}

for (const transport of ['ws', 'tcp'] as const) {
  // TCP has no close codes: the example app's close notice (S2C_Close) carries the 4001.
  test(`${transport}: kicked (4001), the client stops and never reconnects`, async (t) => {
    const chat = await startChat(t, 'json')
    const at = addressesOf(chat)
    const alice = await sdkClient(t, at, transport, 'alice', { reconnect: fast, closeNotice: 'S2C_Close' })
    await alice.connect()
    const res = await fetch(`${at.http}/gate/kick`, { method: 'POST', headers: { authorization: 'Bearer admin', 'content-type': 'application/json' }, body: JSON.stringify({ uids: ['alice'], reason: 'bye' }) })
    assert.equal(res.status, 200)
    assert.deepEqual(await reach(alice, 'disconnected'), { status: 'disconnected', code: 4001, reason: 'bye' })
    assert.equal(alice.states.filter(s => s.status === 'reconnecting').length, 0)
    assert.equal(alice.states.filter(s => s.status === 'connecting').length, 1)
    assert.throws(() => alice.send('C2S_Message', { to_uid: 'bob', content: 'x' }), (e: GateClientError) => e.code === 'GATE_CLIENT_CLOSED' && e.closeCode === 4001)
    await assert.rejects(alice.connect(), { code: 'GATE_CLIENT_CLOSED' })
    await until(() => chat.app.gate.connectionCount === 0, 5000, 'the kicked connection to close')
    assert.equal(alice.states.filter(s => s.status === 'connecting').length, 1, 'still no new attempt')
  })
}

test('a refused login stops the client (4003), without retrying', async (t) => {
  const chat = await startChat(t, 'json')
  const mallory = await sdkClient(t, addressesOf(chat), 'tcp', '', { reconnect: fast })
  await assert.rejects(mallory.connect(), (e: GateClientError) => e.code === 'GATE_CLIENT_CLOSED' && e.closeCode === 4003)
  assert.equal(mallory.states.filter(s => s.status === 'connecting').length, 1)
  assert.equal(mallory.states.at(-1)?.status, 'disconnected')
})

test('backoff: with the server down, maxAttempts retries with delays within their bounds, then it gives up', async (t) => {
  const port = await freePort()
  const at: Addresses = { http: 'http://127.0.0.1:1', ws: `ws://127.0.0.1:${port}/ws`, tcp: port }
  for (const [random, transport] of [[() => 0, 'ws'], [() => 0.999, 'tcp']] as const) {
    const reconnect = { initialDelay: 8, maxDelay: 40, factor: 2, jitter: 0.5, maxAttempts: 5, random }
    const client = await sdkClient(t, at, transport, 'alice', { reconnect, codec: json() })
    await assert.rejects(client.connect(), { code: 'GATE_CLIENT_CLOSED' })
    const retries = client.states.filter(s => s.status === 'reconnecting')
    assert.equal(retries.length, 5)
    assert.equal(client.states.filter(s => s.status === 'connecting').length, 6, 'the first attempt and 5 retries')
    const ceilings = [8, 16, 32, 40, 40]
    retries.forEach((s, i) => {
      assert.ok(s.status === 'reconnecting')
      assert.equal(s.attempt, i + 1)
      assert.equal(s.code, 1006)
      assert.ok(s.delay <= ceilings[i] && s.delay >= ceilings[i] * 0.5, `retry ${i + 1}: ${s.delay} in [${ceilings[i] / 2}, ${ceilings[i]}]`)
      if (random() === 0) assert.equal(s.delay, ceilings[i])
    })
    assert.equal(client.state.status, 'disconnected')
  }
})
