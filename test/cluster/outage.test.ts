import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Redis } from 'ioredis'
import { fastCluster, login, startNode } from '../fixtures/cluster-app.js'
import type { GateStats } from '../../src/directory/directory.js'
import { assertEchoes, until, type Started } from '../helper.js'
import { startRedis } from '../redis-helper.js'

/** docs/protocol.md: after Redis restarts empty, every live node's users are listed again within 10 s. */
const RECOVERY_BOUND = 10000

/** Polls `node`'s cluster stats until `check` holds (while Redis is unreachable, stats reject: not yet). */
async function untilStats (node: Started, check: (stats: GateStats) => boolean, what: string): Promise<void> {
  await until(async () => await node.app.gate.stats().then(check, () => false), RECOVERY_BOUND, what)
}

/**
 * Fails the test instead of letting it hang: `promise` must settle (either way)
 * before a deadline far above any bound, so this checks "does not hang", not a timing.
 */
async function settles<T> (t: { diagnostic: (msg: string) => void }, what: string, promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  const start = Date.now()
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what} hangs`)), 30000) })
  try {
    const [result] = await Promise.race([Promise.allSettled([promise]), hung])
    t.diagnostic(`${what} settled after ${Date.now() - start} ms`)
    return result
  } finally {
    clearTimeout(timer)
  }
}

test('while Redis is down the nodes serve their own connections; when it comes back empty, presence and routing return', async (t) => {
  const redis = await startRedis(t)
  const a = await startNode(t, redis.url, 'a')
  const b = await startNode(t, redis.url, 'b')
  const alice = await login(a.wsUrl, 'alice')
  const amy = await login(a.wsUrl, 'amy')
  const bob = await login(b.wsUrl, 'bob')
  const clients = [alice, amy, bob]
  t.after(() => Promise.all(clients.map(async client => await client.close())))
  await until(async () => (await a.app.gate.stats()).onlineUsers === 3, 5000, 'every user to be listed')

  await redis.stop()

  // Local service: messages are handled, uid-to-uid on the same node is delivered.
  await assertEchoes(alice)
  alice.send('Tell', { to: 'amy', text: 'same node' })
  assert.deepEqual((await alice.nextOf('Told')).body, { delivered: 1, partial: true })
  assert.equal((await amy.nextOf('Echo')).body.text, 'alice: same node')
  alice.send('Tell', { to: 'bob', text: 'other node' })
  assert.deepEqual((await alice.nextOf('Told')).body, { delivered: 0, partial: true })
  // Logins and disconnects still work, and are published once Redis is back.
  const carol = await login(b.wsUrl, 'carol')
  clients.push(carol)
  await amy.close()

  // Questions fail with a stable code; operations answer this node's share, marked partial.
  for (const [what, call] of [['stats', a.app.gate.stats()], ['users', a.app.gate.users(0, 10)], ['user', a.app.gate.user('bob')]] as const) {
    const result = await settles(t, what, call as Promise<unknown>)
    assert.equal(result.status, 'rejected', `${what} rejects`)
    assert.equal((result as PromiseRejectedResult).reason.code, 'FST_GATE_CLUSTER_UNAVAILABLE')
    assert.equal((result as PromiseRejectedResult).reason.statusCode, 503)
  }
  const pushed = await settles(t, 'push', a.app.gate.pushToUids(['alice', 'bob'], 'Echo', { text: 'down' }))
  assert.deepEqual(pushed, { status: 'fulfilled', value: { delivered: 1, partial: true } })
  assert.equal((await alice.nextOf('Echo')).body.text, 'down')
  const broadcast = await settles(t, 'broadcast', b.app.gate.broadcast('Echo', { text: 'down' }))
  assert.deepEqual(broadcast, { status: 'fulfilled', value: { delivered: 2, partial: true } })
  for (const client of [bob, carol]) assert.equal((await client.nextOf('Echo')).body.text, 'down')
  const kicked = await settles(t, 'kick', a.app.gate.kick({ uids: ['bob'] }))
  assert.deepEqual(kicked, { status: 'fulfilled', value: { kicked: 0, partial: true } })
  assert.equal(await a.app.gate.isOnline('bob'), false, 'isOnline answers from this node alone')

  const restartedAt = Date.now()
  await redis.restart()
  await untilStats(a, stats => stats.onlineUsers === 3 && stats.nodes === 2 && stats.partial === undefined, 'the presence of both nodes to be back')
  t.diagnostic(`presence back ${Date.now() - restartedAt} ms after Redis restarted empty`)

  assert.deepEqual(await b.app.gate.stats(), { onlineUsers: 3, connections: 3, nodes: 2, transports: { ws: 3, tcp: 0 }, protocols: { leaf: 3, mqtt: 0 }, node: 'b', mode: 'cluster' })
  assert.deepEqual((await a.app.gate.users(0, 10)).items.map(i => i.uid), ['alice', 'bob', 'carol'])
  // The subscriptions are back: uid-to-uid across nodes, both ways.
  await until(async () => (await b.app.gate.pushToUids(['alice'], 'Echo', { text: 'probe' })).partial === undefined, RECOVERY_BOUND, 'node a to answer again')
  // Node a rejoined: its answers stay partial for its nodeTtl (other nodes may
  // still be on their way back), then complete; every one reaches bob.
  let told: unknown
  await until(async () => {
    alice.send('Tell', { to: 'bob', text: 'back' })
    told = (await alice.nextOf('Told')).body
    assert.equal((await bob.nextOf('Echo')).body.text, 'alice: back')
    return (told as { partial: boolean }).partial === false
  }, 30_000, 'node a to answer complete again')
  assert.deepEqual(told, { delivered: 1, partial: false })
})

test('when Redis loses its data without dropping a connection, the heartbeat notices and every node republishes', async (t) => {
  const redis = await startRedis(t)
  const a = await startNode(t, redis.url, 'a')
  const b = await startNode(t, redis.url, 'b')
  const clients = [await login(a.wsUrl, 'alice'), await login(b.wsUrl, 'bob')]
  t.after(() => Promise.all(clients.map(async client => await client.close())))
  await until(async () => (await a.app.gate.stats()).onlineUsers === 2, 5000, 'both users to be listed')

  const raw = redis.raw(t)
  const flushedAt = Date.now()
  await raw.flushall()
  await raw.script('FLUSH')
  await untilStats(b, stats => stats.onlineUsers === 2 && stats.nodes === 2 && stats.partial === undefined, 'the presence of both nodes to be back')
  t.diagnostic(`presence back ${Date.now() - flushedAt} ms after FLUSHALL`)
  assert.deepEqual((await a.app.gate.user('bob'))?.connections.map(conn => conn.node), ['b'])
  // Partial for nodeTtl after a rejoin (other nodes may still be on their way back), then complete.
  await until(async () => (await a.app.gate.pushToUids(['bob'], 'Echo', { text: 'still routed' })).partial === undefined, RECOVERY_BOUND, 'complete answers')
  assert.deepEqual(await a.app.gate.pushToUids(['bob'], 'Echo', { text: 'still routed' }), { delivered: 1 })
})

test('a node that starts while Redis is down serves locally and joins once Redis is up', async (t) => {
  const redis = await startRedis(t)
  await redis.stop()
  const a = await startNode(t, redis.url, 'a')
  const alice = await login(a.wsUrl, 'alice')
  const amy = await login(a.wsUrl, 'amy')
  t.after(() => Promise.all([alice.close(), amy.close()]))
  alice.send('Tell', { to: 'amy', text: 'local' })
  assert.deepEqual((await alice.nextOf('Told')).body, { delivered: 1, partial: true })
  assert.equal((await amy.nextOf('Echo')).body.text, 'alice: local')

  const startedAt = Date.now()
  await redis.restart()
  const b = await startNode(t, redis.url, 'b')
  await untilStats(b, stats => stats.onlineUsers === 2, 'node a to publish its users')
  t.diagnostic(`node a published ${Date.now() - startedAt} ms after Redis started`)
  await until(async () => (await b.app.gate.pushToUids(['amy'], 'Echo', { text: 'joined' })).delivered === 1, RECOVERY_BOUND, 'node a to be subscribed')
  assert.equal((await amy.nextOf('Echo')).body.text, 'joined')
})

test('after a reconnect a node republishes everything, even writes lost by a Redis that kept its record', async (t) => {
  const redis = await startRedis(t)
  // No heartbeat falls into the reconnect: only the reconnect itself can bring alice back.
  const a = await startNode(t, redis.url, 'a', { cluster: { ...fastCluster, nodeTtl: 120000, heartbeat: 60000 } })
  const alice = await login(a.wsUrl, 'alice')
  t.after(() => alice.close())
  await until(async () => (await a.app.gate.stats()).onlineUsers === 1, 5000, 'alice to be listed')

  // As after a failover to a replica that missed the latest writes: the node's record stays, alice is gone.
  const raw = redis.raw(t)
  // (one index bucket on a single Redis: keys.ts)
  const id = [...a.app.gate.agentsOf('alice')][0].id
  await raw.multi().del('{gate:p0}:uid:alice').hdel('{gate:p0}:node:a', id).zrem('{gate:p0}:uids', 'alice').exec()
  assert.equal((await a.app.gate.stats()).onlineUsers, 0)
  await raw.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes')
  await untilStats(a, stats => stats.onlineUsers === 1, 'alice to be republished')
  assert.deepEqual((await a.app.gate.user('alice'))?.connections.map(conn => conn.node), ['a'])
})

test('with a user\'s client that queues commands while Redis is down, cluster calls still settle', async (t) => {
  const redis = await startRedis(t)
  // ioredis defaults: offline queue on, 20 retries per command; only the gate's deadline bounds the wait.
  const client = new Redis(redis.url)
  client.on('error', () => {})
  t.after(() => client.disconnect())
  const a = await startNode(t, redis.url, 'a', { redis: client })
  const alice = await login(a.wsUrl, 'alice')
  t.after(() => alice.close())
  await until(async () => (await a.app.gate.stats()).onlineUsers === 1, 5000, 'alice to be listed')

  await redis.stop()
  const stats = await settles(t, 'stats (queueing client)', a.app.gate.stats())
  assert.equal(stats.status, 'rejected')
  assert.equal((stats as PromiseRejectedResult).reason.code, 'FST_GATE_CLUSTER_UNAVAILABLE')
  const pushed = await settles(t, 'push (queueing client)', a.app.gate.pushToUids(['alice'], 'Echo', { text: 'queued' }))
  assert.deepEqual(pushed, { status: 'fulfilled', value: { delivered: 1, partial: true } })
  const closed = await settles(t, 'app.close (queueing client)', a.app.close())
  assert.equal(closed.status, 'fulfilled')
})

test('a node closes while its Redis is frozen: the quit is given up after requestTimeout and the connection dropped', async (t) => {
  const redis = await startRedis(t)
  const a = await startNode(t, redis.url, 'a')
  const alice = await login(a.wsUrl, 'alice')
  t.after(() => alice.close())
  // The sockets stay open and Redis answers nothing: ioredis still says 'ready', so the close asks for a QUIT that never comes back.
  redis.freeze()
  t.after(() => { redis.thaw() })
  const closed = await settles(t, 'app.close() with Redis frozen', a.app.close())
  assert.equal(closed.status, 'fulfilled', 'the node closed')
  assert.equal(a.app.gate.connectionCount, 0, 'its connections closed')
})
