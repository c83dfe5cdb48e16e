import assert from 'node:assert/strict'
import { test } from 'node:test'
import { WsClient } from '../clients.js'
import { login, startNode } from '../fixtures/cluster-app.js'
import { until } from '../helper.js'
import { redisBackends } from '../redis-helper.js'

const backends = redisBackends()

function byUid<T extends { uid: string }> (items: T[]): T[] {
  return [...items].sort((x, y) => x.uid < y.uid ? -1 : x.uid > y.uid ? 1 : 0)
}

for (const kind of backends.kinds) {
  test(`${kind}: stats, users and user answer for the whole cluster; a uid on two nodes counts once`, { skip: backends.skip(kind) }, async (t) => {
    const redis = await backends.use(t, kind)
    const a = await startNode(t, redis.option, 'a')
    const b = await startNode(t, redis.option, 'b')
    const c = await startNode(t, redis.option, 'c')
    const clients = [
      await login(a.wsUrl, 'u1'), await login(a.wsUrl, 'u2'),
      await login(b.wsUrl, 'u2'), await login(b.wsUrl, 'u3'),
      await login(c.wsUrl, 'u4'),
      await WsClient.connect(c.wsUrl), await b.tcp()
    ]
    t.after(() => Promise.all(clients.map(async client => await client.close())))

    for (const node of [a, b, c]) {
      await until(async () => (await node.app.gate.stats()).connections === 7, 5000, `node ${node.app.gate.nodeId} to count every connection`)
      const stats = await node.app.gate.stats()
      assert.deepEqual(stats, { onlineUsers: 4, connections: 7, nodes: 3, transports: { ws: 6, tcp: 1 }, protocols: { leaf: 7, mqtt: 0 }, node: node.app.gate.nodeId, mode: 'cluster' })
    }

    // A single Redis lists by uid; a Redis Cluster by index bucket, then uid (docs/cluster.md).
    const all = await b.app.gate.users(0, 10)
    assert.deepEqual({ ...all, items: byUid(all.items) }, {
      total: 4,
      offset: 0,
      limit: 10,
      items: [{ uid: 'u1', connections: 1 }, { uid: 'u2', connections: 2 }, { uid: 'u3', connections: 1 }, { uid: 'u4', connections: 1 }]
    })
    if (kind === 'redis') assert.deepEqual(all.items, byUid(all.items))
    const pages = [await c.app.gate.users(0, 2), await c.app.gate.users(2, 2), await c.app.gate.users(4, 2)]
    assert.deepEqual(pages.flatMap(p => p.items), all.items, 'pages neither skip nor repeat, in one stable order')
    assert.deepEqual(pages.map(p => p.items.length), [2, 2, 0])
    assert.ok(pages.every(p => p.total === 4))

    const u2 = await c.app.gate.user('u2')
    assert.ok(u2 !== null)
    assert.equal(u2.partial, undefined)
    assert.deepEqual(u2.connections.map(conn => conn.node).sort(), ['a', 'b'])
    for (const conn of u2.connections) {
      assert.ok(conn.id.startsWith(`${conn.node}-`), 'agent ids start with their node id')
      assert.equal(conn.transport, 'ws')
      assert.equal(conn.protocol, 'leaf')
      assert.equal(conn.remoteAddress, '127.0.0.1')
      assert.equal(new Date(conn.connectedAt).toISOString(), conn.connectedAt)
    }
    assert.deepEqual(u2.connections.map(conn => conn.id).sort(), [...a.app.gate.agentsOf('u2'), ...b.app.gate.agentsOf('u2')].map(agent => agent.id).sort())
    assert.equal(await a.app.gate.user('nobody'), null)
    assert.equal(await a.app.gate.isOnline('u4'), true)
    assert.equal(await a.app.gate.isOnline('nobody'), false)

    // u2 leaves node a: still online through b, still counted once.
    await clients[1].close()
    await until(async () => (await c.app.gate.user('u2'))?.connections.length === 1, 5000, 'u2 to have one connection left')
    const after = await c.app.gate.stats()
    assert.equal(after.onlineUsers, 4)
    assert.equal(after.connections, 6)
    // u1 leaves: gone from users and stats.
    await clients[0].close()
    await until(async () => (await b.app.gate.stats()).onlineUsers === 3, 5000, 'u1 to be offline')
    assert.deepEqual((await b.app.gate.users(0, 10)).items.map(i => i.uid).sort(), ['u2', 'u3', 'u4'])
  })
}

for (const kind of backends.kinds) {
  test(`${kind}: a graceful shutdown removes the node's presence at once`, { skip: backends.skip(kind) }, async (t) => {
    const redis = await backends.use(t, kind)
    const a = await startNode(t, redis.option, 'a')
    const b = await startNode(t, redis.option, 'b')
    const clients = [await login(a.wsUrl, 'stays'), await login(b.wsUrl, 'leaves'), await login(b.wsUrl, 'stays')]
    t.after(() => Promise.all(clients.map(async client => await client.close())))
    await until(async () => (await a.app.gate.stats()).connections === 3, 5000, 'every connection to be counted')

    await b.app.close()

    // No polling: once close() resolved, the presence is gone.
    assert.deepEqual(await a.app.gate.stats(), { onlineUsers: 1, connections: 1, nodes: 1, transports: { ws: 1, tcp: 0 }, protocols: { leaf: 1, mqtt: 0 }, node: 'a', mode: 'cluster' })
    assert.deepEqual((await a.app.gate.users(0, 10)).items, [{ uid: 'stays', connections: 1 }])
    assert.equal(await a.app.gate.user('leaves'), null)
  })
}

for (const kind of backends.kinds) {
  test(`${kind}: a node that starts later sees the users already online`, { skip: backends.skip(kind) }, async (t) => {
    const redis = await backends.use(t, kind)
    const a = await startNode(t, redis.option, 'a')
    const client = await login(a.wsUrl, 'early')
    t.after(() => client.close())
    await until(async () => (await a.app.gate.stats()).onlineUsers === 1, 5000, 'early to be online')
    const b = await startNode(t, redis.option, 'b')
    const seen = await b.app.gate.user('early')
    assert.deepEqual(seen?.connections.map(conn => conn.node), ['a'])
    assert.equal((await b.app.gate.stats()).nodes, 2)
  })
}
