import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { GateClientError } from '../../client/node.js'
import { until } from '../helper.js'
import { startChat } from '../example/helper.js'
import { addressesOf, sdkClient } from './helper.js'

test('offline queue: bounded; what it holds is sent in order once logged in', async (t) => {
  const at = addressesOf(await startChat(t, 'json'))
  const bob = await sdkClient(t, at, 'ws', 'bob')
  await bob.connect()
  const got: string[] = []
  bob.on('S2C_Message', m => got.push(m.content))
  const alice = await sdkClient(t, at, 'tcp', 'alice', { offline: { queue: 2 } })
  const connected = alice.connect()
  assert.equal(alice.state.status, 'connecting')
  alice.send('C2S_Message', { to_uid: 'bob', content: 'one' })
  alice.send('C2S_Message', { to_uid: 'bob', content: 'two' })
  assert.throws(() => alice.send('C2S_Message', { to_uid: 'bob', content: 'three' }), (e: GateClientError) => e.code === 'GATE_CLIENT_QUEUE_FULL')
  assert.equal(alice.queued, 2)
  await connected
  assert.equal(alice.queued, 0)
  // a probe after the queue: "three" was never sent
  alice.send('C2S_Message', { to_uid: 'bob', content: 'four' })
  await until(() => got.length >= 3, 5000, 'three messages')
  assert.deepEqual(got, ['one', 'two', 'four'])
})

test("offline: 'error' throws at once while not connected; a closed client throws CLOSED", async (t) => {
  const at = addressesOf(await startChat(t, 'json'))
  const alice = await sdkClient(t, at, 'ws', 'alice', { offline: 'error' })
  const connected = alice.connect()
  assert.throws(() => alice.send('C2S_Message', { to_uid: 'bob', content: 'x' }), (e: GateClientError) => e.code === 'GATE_CLIENT_OFFLINE')
  await connected
  alice.send('C2S_Message', { to_uid: 'bob', content: 'now it goes' })
  alice.close()
  assert.deepEqual(alice.state, { status: 'disconnected', code: 1000, reason: 'closed by the client' })
  assert.throws(() => alice.send('C2S_Message', { to_uid: 'bob', content: 'x' }), (e: GateClientError) => e.code === 'GATE_CLIENT_CLOSED')
})

test('a body the codec cannot encode throws GATE_CLIENT_BAD_MESSAGE and the connection stays', async (t) => {
  const at = addressesOf(await startChat(t, 'protobuf'))
  const alice = await sdkClient(t, at, 'ws', 'alice')
  await alice.connect()
  assert.throws(() => alice.send('C2S_Message', { to_uid: 'bob', content: 5 as unknown as string }), (e: GateClientError) => e.code === 'GATE_CLIENT_BAD_MESSAGE')
  assert.throws(() => alice.send('Nope' as 'C2S_Message', { content: '' }), (e: GateClientError) => e.code === 'GATE_CLIENT_BAD_MESSAGE')
  const answer = alice.next('C2S_UserHeartBeat')
  alice.send('C2S_UserHeartBeat', { ptime: 1 })
  await answer
  assert.equal(alice.state.status, 'connected')
})

test('the heartbeat keeps a client past the idle timeout; without it the gate closes it (4000) and it reconnects', async (t) => {
  // The client's own watchdog is 2.5 heartbeats: 500 ms, not less, or a loaded machine trips it.
  const at = addressesOf(await startChat(t, 'json', { GATE_IDLE_TIMEOUT: '1200' }))
  const beating = await sdkClient(t, at, 'ws', 'alice', { heartbeat: { name: 'C2S_UserHeartBeat', body: () => ({ ptime: Date.now() }), interval: 200 } })
  const silent = await sdkClient(t, at, 'ws', 'bob', { reconnect: { initialDelay: 10, maxDelay: 10 } })
  await Promise.all([beating.connect(), silent.connect()])
  // 12 answers take at least 12 × 200 ms, twice the idle timeout
  for (let i = 0; i < 12; i++) await beating.next('C2S_UserHeartBeat', 5000)
  assert.deepEqual(beating.states.map(s => s.status), ['connecting', 'connected'])
  const retry = silent.states.find(s => s.status === 'reconnecting')
  assert.ok(retry?.status === 'reconnecting' && retry.code === 4000, `the silent client was closed idle: ${JSON.stringify(silent.states)}`)
})
