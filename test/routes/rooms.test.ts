import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { PresenceEvent } from '../../plugins/gate.js'
import { connectAgent, registerTestMessages, startGate, until } from '../helper.js'
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

test('GET /gate/rooms lists rooms with members in a stable order, a page at a time, with their counts', async (t) => {
  const s = await startAdmin(t, { loginTimeout: 0 })
  const alice = [await login(s, 'ws', 'alice'), await login(s, 'tcp', 'alice')]
  const bob = await login(s, 'tcp', 'bob')
  const anon = await connectAgent(s, 'ws')
  for (const { agent } of alice) agent.join('lobby')
  bob.agent.join('lobby')
  anon.agent.join('lobby')
  bob.agent.join('kitchen')
  for (const room of ['b', 'a', 'c']) alice[0].agent.join(room)

  assert.deepEqual(await ok(s, { url: '/gate/rooms' }), {
    total: 5,
    offset: 0,
    limit: 100,
    items: [
      { room: 'a', connections: 1, uids: 1 },
      { room: 'b', connections: 1, uids: 1 },
      { room: 'c', connections: 1, uids: 1 },
      { room: 'kitchen', connections: 1, uids: 1 },
      { room: 'lobby', connections: 4, uids: 2 }
    ]
  })
  const pages = [await ok(s, { url: '/gate/rooms?offset=0&limit=2' }), await ok(s, { url: '/gate/rooms?offset=2&limit=2' }), await ok(s, { url: '/gate/rooms?offset=4&limit=2' })]
  assert.deepEqual(pages.map(page => page.items.map((item: { room: string }) => item.room)), [['a', 'b'], ['c', 'kitchen'], ['lobby']])
  assert.deepEqual(pages.map(page => page.total), [5, 5, 5])
  assert.deepEqual((await ok(s, { url: '/gate/rooms?offset=9' })).items, [])
  assertError(await call(s, { url: '/gate/rooms?limit=0' }), 400, 'FST_ERR_VALIDATION')
  assertError(await call(s, { url: '/gate/rooms?limit=1001' }), 400, 'FST_ERR_VALIDATION')
  assertError(await call(s, { url: '/gate/rooms', token: null }), 401, 'FST_GATE_UNAUTHORIZED')

  // A room goes when its last member leaves or closes.
  alice[0].agent.leave('a')
  await bob.client.close()
  await until(() => s.app.gate.connectionCount === 3, 5000, 'bob to close')
  assert.deepEqual((await s.app.gate.rooms()).items.map(item => item.room), ['b', 'c', 'lobby'])
  assert.deepEqual((await s.app.gate.rooms()).items.at(-1), { room: 'lobby', connections: 3, uids: 1 })
})

test('GET /gate/rooms/:room pages its members by connection id; 404 FST_GATE_ROOM_EMPTY without members', async (t) => {
  const s = await startAdmin(t, { loginTimeout: 0 })
  const members = [await login(s, 'ws', 'alice'), await login(s, 'tcp', 'bob'), await connectAgent(s, 'ws')]
  for (const { agent } of members) agent.join('lobby')
  const ids = members.map(({ agent }) => agent.id).sort()
  const expected = members.map(({ agent }) => ({
    ...(agent.uid === undefined ? {} : { uid: agent.uid }), id: agent.id, node: s.app.gate.nodeId, transport: agent.transport, protocol: 'leaf'
  })).sort((a, b) => a.id < b.id ? -1 : 1)

  assert.deepEqual(await ok(s, { url: '/gate/rooms/lobby' }), { room: 'lobby', total: 3, offset: 0, limit: 100, items: expected })
  const first = await ok(s, { url: '/gate/rooms/lobby?limit=2' })
  const second = await ok(s, { url: '/gate/rooms/lobby?offset=2&limit=2' })
  assert.deepEqual([...first.items, ...second.items].map((m: { id: string }) => m.id), ids)
  assert.equal(second.total, 3)

  assertError(await call(s, { url: '/gate/rooms/nobody-here' }), 404, 'FST_GATE_ROOM_EMPTY')
  assertError(await call(s, { url: `/gate/rooms/${'x'.repeat(101)}` }), 414, 'FST_ERR_MAX_PARAM_LENGTH')
  assert.equal(await s.app.gate.room('nobody-here'), null)
  await assert.rejects(s.app.gate.room('..'), { code: 'FST_GATE_INVALID_ROOM' })

  // A member that logs in later is listed with its uid.
  members[2].client.send('Login', { uid: 'carol' })
  await members[2].client.next()
  assert.equal((await s.app.gate.room('lobby'))?.items.find(m => m.id === members[2].agent.id)?.uid, 'carol')
})

test('GET /gate/users/:uid lists each connection\'s rooms', async (t) => {
  const s = await startAdmin(t)
  const [ws, tcp] = [await login(s, 'ws', 'alice'), await login(s, 'tcp', 'alice')]
  ws.agent.join('lobby')
  ws.agent.join('kitchen')
  const user = await ok(s, { url: '/gate/users/alice' })
  const rooms = Object.fromEntries(user.connections.map((conn: { id: string, rooms?: string[] }) => [conn.id, conn.rooms]))
  assert.deepEqual(rooms, { [ws.agent.id]: ['kitchen', 'lobby'], [tcp.agent.id]: undefined })
})

test('onPresence: online and offline for a uid\'s first and last connection, join and leave for each member', async (t) => {
  const events: PresenceEvent[] = []
  const s = await startGate(t, {}, app => {
    registerTestMessages(app)
    app.gate.onPresence(event => { events.push(event) })
    app.gate.onPresence(() => { throw new Error('a failing hook does not stop the others') })
  })
  const node = s.app.gate.nodeId
  const a1 = await login(s, 'ws', 'alice')
  const a2 = await login(s, 'tcp', 'alice')
  a1.agent.join('lobby')
  a1.agent.join('lobby')
  a2.agent.join('lobby')
  a2.agent.leave('lobby')
  a2.agent.leave('lobby')
  assert.deepEqual(events, [
    { type: 'online', uid: 'alice', node, died: false },
    { type: 'join', room: 'lobby', id: a1.agent.id, uid: 'alice', node, died: false },
    { type: 'join', room: 'lobby', id: a2.agent.id, uid: 'alice', node, died: false },
    { type: 'leave', room: 'lobby', id: a2.agent.id, uid: 'alice', node, died: false }
  ])
  events.length = 0
  await a2.client.close()
  await until(() => s.app.gate.connectionCount === 1, 5000, 'the second connection to close')
  assert.deepEqual(events, [], 'not the last connection: no offline')
  await a1.client.close()
  await until(() => events.length === 2, 5000, 'the leave and the offline')
  assert.deepEqual(events, [
    { type: 'leave', room: 'lobby', id: a1.agent.id, uid: 'alice', node, died: false },
    { type: 'offline', uid: 'alice', node, died: false }
  ])
})
