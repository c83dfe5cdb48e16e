import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assertError, assertNothingMore, call, login, ok, startAdmin } from './helper.js'

test('POST /gate/rooms/:room/push reaches every member of the room, on both transports', async (t) => {
  const s = await startAdmin(t)
  const members = [await login(s, 'ws', 'alice'), await login(s, 'tcp', 'alice'), await login(s, 'tcp', 'bob')]
  const outsider = await login(s, 'ws', 'carol')
  for (const { agent } of members) agent.join('lobby')
  outsider.agent.join('kitchen')

  const sent = { name: 'Echo', body: { text: 'lobby news' } }
  assert.deepEqual(await ok(s, { url: '/gate/rooms/lobby/push', body: sent }), { delivered: 3 })
  for (const { client } of members) assert.deepEqual(await client.next(), { name: 'Echo', body: { text: 'lobby news' } })
  await assertNothingMore(outsider.client)

  assert.deepEqual(await ok(s, { url: '/gate/rooms/empty/push', body: sent }), { delivered: 0 })
  assert.deepEqual(await ok(s, { url: `/gate/rooms/${encodeURIComponent('a room/1')}/push`, body: sent }), { delivered: 0 })
  members[2].agent.leave('lobby')
  assert.deepEqual(await ok(s, { url: '/gate/rooms/lobby/push', body: sent }), { delivered: 2 })
})

test('POST /gate/rooms/:room/push: an unknown name or a bad body is 400, and nothing is sent', async (t) => {
  const s = await startAdmin(t)
  const member = await login(s, 'ws', 'alice')
  member.agent.join('lobby')
  assertError(await call(s, { url: '/gate/rooms/lobby/push', body: { name: 'Nope', body: {} } }), 400, 'FST_GATE_UNKNOWN_MESSAGE')
  assertError(await call(s, { url: '/gate/rooms/lobby/push', body: { name: 'Echo', body: { text: [] } } }), 400, 'FST_GATE_INVALID_BODY')
  assertError(await call(s, { url: '/gate/rooms/lobby/push', body: { name: 'Echo' } }), 400, 'FST_ERR_VALIDATION')
  await assertNothingMore(member.client)
})
