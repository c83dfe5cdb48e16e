import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assertEchoes, closeOf, connectAgent, recordCloses } from '../helper.js'
import { assertError, call, login, ok, startAdmin } from './helper.js'

test('POST /gate/kick closes every connection of the uids with 4001 and the reason, on both transports', async (t) => {
  const s = await startAdmin(t)
  const closes = recordCloses(s.app)
  const ws = await login(s, 'ws', 'alice')
  const tcp = await login(s, 'tcp', 'alice')
  const bob = await login(s, 'ws', 'bob')

  assert.deepEqual(await ok(s, { url: '/gate/kick', body: { uids: ['alice'], reason: 'spamming the lobby' } }), { kicked: 2 })

  assert.deepEqual(await ws.client.closed, { code: 4001, reason: 'spamming the lobby' }, 'the WebSocket close frame')
  await tcp.client.closed // TCP has no close frame: the socket ends
  for (const { agent } of [ws, tcp]) {
    const closed = await closeOf(closes, agent)
    assert.equal(closed.code, 4001)
    assert.equal(closed.reason, 'spamming the lobby')
  }
  await assertEchoes(bob.client)
  assert.deepEqual(closes.map(c => c.id).sort(), [ws.agent.id, tcp.agent.id].sort(), 'only alice was kicked')
  assert.equal((await ok(s, { url: '/gate/stats' })).onlineUsers, 1)
})

test('POST /gate/kick by agent id; the reason defaults to "kicked"; a connection is counted once', async (t) => {
  const s = await startAdmin(t)
  const anonymous = await connectAgent(s, 'ws')
  const other = await connectAgent(s, 'tcp')
  const carol = await login(s, 'ws', 'carol')

  assert.deepEqual(await ok(s, { url: '/gate/kick', body: { agents: [anonymous.agent.id, 'no-such-agent'] } }), { kicked: 1 })
  assert.deepEqual(await anonymous.client.closed, { code: 4001, reason: 'kicked' })

  // carol named twice (by uid and by agent id) is one connection closed
  assert.deepEqual(await ok(s, { url: '/gate/kick', body: { uids: ['carol'], agents: [carol.agent.id] } }), { kicked: 1 })
  assert.deepEqual(await carol.client.closed, { code: 4001, reason: 'kicked' })
  assert.deepEqual(await ok(s, { url: '/gate/kick', body: { uids: ['carol', 'nobody'] } }), { kicked: 0 })
  await assertEchoes(other.client)
})

test('POST /gate/kick cuts a long reason to the 123 bytes of a close frame, on a character boundary', async (t) => {
  const s = await startAdmin(t)
  const dave = await login(s, 'ws', 'dave')
  const reason = 'é'.repeat(200)
  assert.deepEqual(await ok(s, { url: '/gate/kick', body: { uids: ['dave'], reason } }), { kicked: 1 })
  const closed = await dave.client.closed
  assert.equal(closed.code, 4001)
  assert.equal(closed.reason, 'é'.repeat(61), '61 two-byte characters: 122 bytes')
})

test('POST /gate/kick refuses a body without a target, or with bad fields, and closes nothing', async (t) => {
  const s = await startAdmin(t)
  const closes = recordCloses(s.app)
  const erin = await login(s, 'tcp', 'erin')
  for (const body of [{}, { reason: 'x' }, { uids: [''] }, { uids: [{ uid: 'erin' }] }, { agents: [{}] }, { uids: ['erin'], reason: 'x'.repeat(1025) }, { uids: Array(1001).fill('erin') }]) {
    assertError(await call(s, { url: '/gate/kick', body }), 400, 'FST_ERR_VALIDATION')
  }
  await assertEchoes(erin.client)
  assert.deepEqual(closes, [])
})
