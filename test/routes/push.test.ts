import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connectAgent, encodingOptions, testWire } from '../helper.js'
import { assertError, assertNothingMore, call, login, ok, startAdmin } from './helper.js'

test('POST /gate/push reaches every connection of the uids, over both transports, and counts them exactly', async (t) => {
  const s = await startAdmin(t)
  const alice = [await login(s, 'ws', 'alice'), await login(s, 'ws', 'alice'), await login(s, 'tcp', 'alice')]
  const bob = await login(s, 'tcp', 'bob')
  const anonymous = await connectAgent(s, 'ws')

  assert.deepEqual(await ok(s, { url: '/gate/push', body: { uids: ['alice'], name: 'Echo', body: { text: 'hello alice' } } }), { delivered: 3 })
  for (const { client } of alice) assert.deepEqual(await client.next(), { name: 'Echo', body: { text: 'hello alice' } })
  await assertNothingMore(bob.client)
  await assertNothingMore(anonymous.client)

  // a uid named twice is written once; unknown uids count nothing
  const all = { uids: ['alice', 'bob', 'alice', 'nobody'], name: 'Echo', body: { text: 'hi all', n: 2 } }
  assert.deepEqual(await ok(s, { url: '/gate/push', body: all }), { delivered: 4 })
  for (const { client } of [...alice, bob]) {
    assert.deepEqual(await client.next(), { name: 'Echo', body: { text: 'hi all', n: 2 } })
    await assertNothingMore(client)
  }
  assert.deepEqual(await ok(s, { url: '/gate/push', body: { uids: [], name: 'Echo', body: { text: 'x' } } }), { delivered: 0 })
})

test('POST /gate/push: an unknown name or a body failing the message schema is 400, and nothing is sent', async (t) => {
  const s = await startAdmin(t, { maxMsgLen: 200 })
  const clients = [await login(s, 'ws', 'alice'), await login(s, 'tcp', 'alice')]
  const cases = [
    { body: { uids: ['alice'], name: 'Nope', body: {} }, code: 'FST_GATE_UNKNOWN_MESSAGE' },
    { body: { uids: ['alice'], name: 'Echo', body: { text: 5 } }, code: 'FST_GATE_INVALID_BODY' },
    { body: { uids: ['alice'], name: 'Echo', body: { n: 1 } }, code: 'FST_GATE_INVALID_BODY' },
    { body: { uids: ['alice'], name: 'Echo', body: { text: 'x'.repeat(300) } }, code: 'FST_GATE_MESSAGE_TOO_LARGE' },
    { body: { uids: ['alice'], name: 'Echo' }, code: 'FST_ERR_VALIDATION' },
    { body: { uids: ['alice'], name: 'Echo', body: 'text' }, code: 'FST_ERR_VALIDATION' },
    { body: { uids: ['alice'], body: { text: 'x' } }, code: 'FST_ERR_VALIDATION' },
    { body: { name: 'Echo', body: { text: 'x' } }, code: 'FST_ERR_VALIDATION' }
  ]
  for (const c of cases) assertError(await call(s, { url: '/gate/push', body: c.body }), 400, c.code)
  for (const { client } of clients) await assertNothingMore(client)
})

test('POST /gate/push in protobuf mode encodes once for both transports', async (t) => {
  const s = await startAdmin(t, encodingOptions('protobuf'))
  const ws = await connectAgent(s, 'ws', testWire('protobuf'))
  const tcp = await connectAgent(s, 'tcp', testWire('protobuf'))
  for (const { client } of [ws, tcp]) {
    client.send('Login', { uid: 'pat' })
    assert.deepEqual(await client.next(), { name: 'Echo', body: { text: 'welcome pat', n: 0 } })
  }
  assert.deepEqual(await ok(s, { url: '/gate/push', body: { uids: ['pat'], name: 'Echo', body: { text: 'binary', n: 7 } } }), { delivered: 2 })
  for (const { client } of [ws, tcp]) assert.deepEqual(await client.next(), { name: 'Echo', body: { text: 'binary', n: 7 } })
})
