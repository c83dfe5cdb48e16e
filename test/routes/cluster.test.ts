import assert from 'node:assert/strict'
import { test } from 'node:test'
import { until } from '../helper.js'
import { startRedis } from '../redis-helper.js'
import { login, ok, startAdmin } from './helper.js'

/** The admin routes only call `app.gate`, so on a cluster they answer for every node, unchanged. */
test('cluster mode: the admin routes of any node count, page, push and kick across nodes', async (t) => {
  const redis = await startRedis(t)
  const a = await startAdmin(t, { redis: redis.url, nodeId: 'node-a' })
  const b = await startAdmin(t, { redis: redis.url, nodeId: 'node-b' })
  const alice = await login(a, 'ws', 'alice')
  const bobs = [await login(a, 'ws', 'bob'), await login(b, 'tcp', 'bob')]
  await until(async () => (await ok(a, { url: '/gate/stats' })).connections === 3, 5000, 'every connection to be counted')

  for (const node of [a, b]) {
    const stats = await ok(node, { url: '/gate/stats' })
    assert.deepEqual({ ...stats, node: undefined }, {
      onlineUsers: 2, connections: 3, nodes: 2, transports: { ws: 2, tcp: 1 }, protocols: { leaf: 3, mqtt: 0 }, node: undefined, mode: 'cluster'
    })
    assert.deepEqual(await ok(node, { url: '/gate/users?limit=1&offset=1' }), { total: 2, offset: 1, limit: 1, items: [{ uid: 'bob', connections: 2 }] })
  }
  const bob = await ok(b, { url: '/gate/users/bob' })
  assert.deepEqual(bob.connections.map((c: { node: string, transport: string }) => `${c.node}/${c.transport}`).sort(), ['node-a/ws', 'node-b/tcp'])

  assert.deepEqual(await ok(b, { url: '/gate/push', body: { uids: ['bob', 'alice'], name: 'Echo', body: { text: 'from b' } } }), { delivered: 3 })
  for (const { client } of [alice, ...bobs]) assert.deepEqual(await client.next(), { name: 'Echo', body: { text: 'from b' } })

  assert.deepEqual(await ok(b, { url: '/gate/kick', body: { uids: ['bob'], reason: 'cluster kick' } }), { kicked: 2 })
  assert.deepEqual(await bobs[0].client.closed, { code: 4001, reason: 'cluster kick' }, 'the WebSocket on the other node')
  await bobs[1].client.closed
  await until(async () => (await ok(a, { url: '/gate/users' })).total === 1, 5000, 'bob to be gone everywhere')
})
