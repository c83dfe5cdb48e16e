import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { GateStats, RoomMembers, RoomsPage, UserConnections, UsersPage } from '../../src/directory/directory.js'
import { LocalDirectory } from '../../src/directory/local.js'
import { GateError } from '../../src/errors.js'
import type { RemoteShare } from '../../src/operations/operation.js'
import { assertError, call, login, ok, startAdmin } from './helper.js'

const missing = { partial: true, missingNodes: ['node-b'] }

/** A directory answering like a cluster that lost node-b: every answer is this node's, marked partial; node-b never answers an operation. */
class PartialDirectory extends LocalDirectory {
  override async stats (): Promise<GateStats> { return { ...await super.stats(), nodes: 2, ...missing } }
  override async users (offset: number, limit: number): Promise<UsersPage> { return { ...await super.users(offset, limit), ...missing } }
  override async user (uid: string): Promise<UserConnections | null> {
    const user = await super.user(uid)
    return user === null ? null : { ...user, ...missing }
  }

  override async rooms (offset: number, limit: number): Promise<RoomsPage> { return { ...await super.rooms(offset, limit), ...missing } }
  override async room (room: string, offset: number, limit: number): Promise<RoomMembers | null> {
    const page = await super.room(room, offset, limit)
    return page === null ? null : { ...page, ...missing }
  }

  override async remote (): Promise<RemoteShare> { return { n: 0, ...missing } }
}

/** A directory whose cluster store is down: every question rejects. */
class DownDirectory extends LocalDirectory {
  override async stats (): Promise<GateStats> { throw new GateError.CLUSTER_UNAVAILABLE('connection refused') }
  override async users (): Promise<UsersPage> { throw new GateError.CLUSTER_UNAVAILABLE('connection refused') }
  override async user (): Promise<UserConnections | null> { throw new GateError.CLUSTER_UNAVAILABLE('connection refused') }
  override async rooms (): Promise<RoomsPage> { throw new GateError.CLUSTER_UNAVAILABLE('connection refused') }
  override async room (): Promise<RoomMembers | null> { throw new GateError.CLUSTER_UNAVAILABLE('connection refused') }
}

test('partial cluster answers pass through every route with partial and missingNodes', async (t) => {
  const s = await startAdmin(t, { directory: node => new PartialDirectory(node) })
  const alice = await login(s, 'ws', 'alice')
  alice.agent.join('lobby')
  const sent = { name: 'Echo', body: { text: 'x' } }

  assert.deepEqual((await ok(s, { url: '/gate/stats' })).missingNodes, ['node-b'])
  assert.deepEqual(await ok(s, { url: '/gate/users' }), { total: 1, offset: 0, limit: 100, items: [{ uid: 'alice', connections: 1 }], ...missing })
  assert.equal((await ok(s, { url: '/gate/users/alice' })).partial, true)
  assert.deepEqual(await ok(s, { url: '/gate/rooms' }), { total: 1, offset: 0, limit: 100, items: [{ room: 'lobby', connections: 1, uids: 1 }], ...missing })
  assert.deepEqual((await ok(s, { url: '/gate/rooms/lobby' })).missingNodes, ['node-b'])
  assert.deepEqual(await ok(s, { url: '/gate/push', body: { uids: ['alice'], ...sent } }), { delivered: 1, ...missing })
  assert.deepEqual(await ok(s, { url: '/gate/rooms/lobby/push', body: sent }), { delivered: 1, ...missing })
  assert.deepEqual(await ok(s, { url: '/gate/broadcast', body: sent }), { delivered: 1, ...missing })
  assert.deepEqual(await ok(s, { url: '/gate/kick', body: { uids: ['alice'] } }), { kicked: 1, ...missing })
})

test('FST_GATE_CLUSTER_UNAVAILABLE answers 503 in Fastify\'s error shape', async (t) => {
  const s = await startAdmin(t, { directory: node => new DownDirectory(node) })
  for (const url of ['/gate/stats', '/gate/users', '/gate/users/alice', '/gate/rooms', '/gate/rooms/lobby']) {
    const res = await call(s, { url })
    assertError(res, 503, 'FST_GATE_CLUSTER_UNAVAILABLE')
    assert.equal(res.json().error, 'Service Unavailable')
  }
})

test('an unexpected failure answers 500 without its message', async (t) => {
  const s = await startAdmin(t)
  s.app.gate.stats = async () => { throw new Error('secret internals') }
  const res = await call(s, { url: '/gate/stats' })
  assertError(res, 500, 'FST_GATE_INTERNAL')
  assert.equal(res.json().message, 'Internal Server Error')
})
