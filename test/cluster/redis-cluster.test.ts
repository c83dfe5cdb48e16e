/**
 * What only a Redis Cluster shows (the other cluster tests run on both a
 * single Redis and a Redis Cluster): sharded pub/sub only, keys spread over
 * the masters, and a master killed with SIGKILL while pushes go on.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { loadConfig } from '../../examples/chat/config.js'
import type { WsClient } from '../clients.js'
import { fastCluster, login, startNode } from '../fixtures/cluster-app.js'
import { until } from '../helper.js'
import { ClusterBackend } from '../redis-helper.js'
import { RedisClusterServer, noRedisCluster } from '../redis-cluster-helper.js'

/** PROTOCOL.md section 8: operations work again within 10 s of the Redis Cluster reporting ok. */
const FAILOVER_BOUND = 10000

if (noRedisCluster !== false) process.stderr.write(`\n!!! ${noRedisCluster}\n\n`)
const skip = noRedisCluster
let shared: Promise<RedisClusterServer> | undefined
after(async () => { if (shared !== undefined) await (await shared).close() })

/** The file's Redis Cluster, emptied; `fresh` for a test that kills a master (it is the file's last). */
async function cluster (): Promise<ClusterBackend> {
  shared ??= RedisClusterServer.start()
  const server = await shared
  await server.waitOk()
  await server.flush()
  return new ClusterBackend(server)
}

function sum (stats: Map<number, unknown>, field: string): Map<number, number> {
  return new Map([...stats].map(([port, info]) => [port, Number(new RegExp(`^${field}:calls=(\\d+)`, 'm').exec(String(info))?.[1] ?? 0)]))
}

test('the example app: REDIS_CLUSTER_NODES gives seeds, and with REDIS_URL it is a startup error', () => {
  assert.deepEqual(loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000, 127.0.0.1:7001' }).redisClusterNodes, ['127.0.0.1:7000', '127.0.0.1:7001'])
  assert.equal(loadConfig({}).redisClusterNodes, undefined)
  assert.throws(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_CLUSTER_NODES: '127.0.0.1:7000' }), /REDIS_URL and REDIS_CLUSTER_NODES are exclusive/)
  assert.throws(() => loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1' }), /REDIS_CLUSTER_NODES must be/)
})

test('requests between nodes use shard channels, one per node, never classic pub/sub', { skip }, async (t) => {
  const redis = await cluster()
  await redis.each('CONFIG', 'RESETSTAT')
  // Every request must be answered (none counted missing), however loaded the machine: a long requestTimeout.
  const patient = { cluster: { ...fastCluster, requestTimeout: 5000 } }
  const a = await startNode(t, redis.option, 'a', patient)
  const b = await startNode(t, redis.option, 'b', patient)
  const bob = await login(b.wsUrl, 'bob')
  t.after(() => bob.close())
  await until(async () => (await a.app.gate.user('bob')) !== null, 5000, 'bob to be listed')
  for (let i = 0; i < 20; i++) assert.deepEqual(await a.app.gate.pushToUids(['bob'], 'Echo', { text: `${i}` }), { delivered: 1 })
  assert.deepEqual(await a.app.gate.broadcast('Echo', { text: 'all' }), { delivered: 1 })

  const shard = (await redis.each('PUBSUB', 'SHARDCHANNELS')).flatMap(found => found as string[]).sort()
  assert.deepEqual(shard, ['{gate:n:a}:bus', '{gate:n:b}:bus'])
  assert.deepEqual((await redis.each('PUBSUB', 'CHANNELS')).flatMap(found => found as string[]), [])
  const stats = await redis.server.onMasters('INFO', 'commandstats')
  const spublish = [...sum(stats, 'cmdstat_spublish').values()].reduce((x, y) => x + y, 0)
  const publish = [...sum(stats, 'cmdstat_publish').values()].reduce((x, y) => x + y, 0)
  t.diagnostic(`SPUBLISH ${spublish}, PUBLISH ${publish} over the masters for 21 cross-node requests`)
  assert.ok(spublish >= 2 * 21, 'each request and its answer is one SPUBLISH')
  assert.equal(publish, 0)
  // The two channels hash to different slots; a message crosses only its own shard.
  const shardOf = await Promise.all(['{gate:n:a}:bus', '{gate:n:b}:bus'].map(async channel => await redis.server.masterOf(channel)))
  t.diagnostic(`node a's channel on master ${shardOf[0]}, node b's on ${shardOf[1]}`)
})

test('per-uid data is spread over every master', { skip }, async (t) => {
  const redis = await cluster()
  const a = await startNode(t, redis.option, 'a', { session: { store: 'auto' } })
  const clients: WsClient[] = []
  t.after(() => Promise.all(clients.map(async client => await client.close())))
  const uids = Array.from({ length: 40 }, (_, i) => `user-${i}`)
  for (const uid of uids) clients.push(await login(a.wsUrl, uid))
  await until(async () => (await a.app.gate.stats()).onlineUsers === uids.length, 5000, 'every user to be listed')
  const page = await a.app.gate.users(0, 100)
  assert.deepEqual(page.items.map(item => item.uid).sort(), [...uids].sort())

  const sizes = await redis.server.onMasters('DBSIZE')
  const perMaster = await Promise.all([...sizes.keys()].map(async port => [port, await redis.server.onMasters('KEYS', '*:uid:*').then(all => (all.get(port) as string[]).length)] as const))
  t.diagnostic(`keys per master ${JSON.stringify([...sizes])}; presence entries per master ${JSON.stringify(perMaster)}`)
  assert.equal(sizes.size, 3)
  for (const [port, n] of sizes) assert.ok(Number(n) > 0, `master ${port} holds keys`)
  for (const [port, n] of perMaster) assert.ok(n > 0 && n < uids.length, `master ${port} holds some, not all, presence entries (${n})`)
})

test('an ioredis Cluster client passed in is used (its subscription duplicated with sharded subscribers) and left open', { skip }, async (t) => {
  const redis = await cluster()
  const client = redis.server.client()
  t.after(() => client.disconnect())
  const a = await startNode(t, client, 'a')
  const b = await startNode(t, redis.option, 'b')
  const bob = await login(b.wsUrl, 'bob')
  t.after(() => bob.close())
  await until(async () => (await a.app.gate.user('bob')) !== null, 5000, 'bob to be listed')
  assert.deepEqual(await a.app.gate.pushToUids(['bob'], 'Echo', { text: 'from a user client' }), { delivered: 1 })
  assert.equal((await bob.nextOf('Echo')).body.text, 'from a user client')
  await a.app.close()
  assert.equal(client.status, 'ready', 'the user\'s client is not closed')
  assert.deepEqual(await client.zrange('{gate}:nodes', 0, -1), ['b'], 'node a left the cluster')
})

test('when every master loses its data (FLUSHALL), the nodes republish and routing returns', { skip }, async (t) => {
  const redis = await cluster()
  const a = await startNode(t, redis.option, 'a')
  const b = await startNode(t, redis.option, 'b')
  const clients = [await login(a.wsUrl, 'alice'), await login(b.wsUrl, 'bob')]
  t.after(() => Promise.all(clients.map(async client => await client.close())))
  await until(async () => (await a.app.gate.stats()).onlineUsers === 2, 5000, 'both users to be listed')
  const flushedAt = Date.now()
  await redis.each('FLUSHALL')
  await redis.each('SCRIPT', 'FLUSH')
  await until(async () => await b.app.gate.stats().then(stats => stats.onlineUsers === 2 && stats.nodes === 2 && stats.partial === undefined, () => false), 10000, 'the presence of both nodes to be back')
  t.diagnostic(`presence back ${Date.now() - flushedAt} ms after FLUSHALL on every master`)
  assert.deepEqual((await a.app.gate.user('bob'))?.connections.map(conn => conn.node), ['b'])
  // Partial for nodeTtl after a rejoin (other nodes may still be on their way back), then complete.
  await until(async () => (await a.app.gate.pushToUids(['bob'], 'Echo', { text: 'still routed' })).partial === undefined, 10000, 'complete answers')
  assert.deepEqual(await a.app.gate.pushToUids(['bob'], 'Echo', { text: 'still routed' }), { delivered: 1 })
})

test('a master killed with SIGKILL during pushes: pushes and listings work again within 10 s of cluster_state:ok, no client reconnects, no uid missing', { skip }, async (t) => {
  const redis = await cluster()
  const a = await startNode(t, redis.option, 'a')
  const b = await startNode(t, redis.option, 'b')
  const uids = Array.from({ length: 20 }, (_, i) => `u${i}`)
  const clients: WsClient[] = []
  t.after(() => Promise.all(clients.map(async client => await client.close())))
  for (const [i, uid] of uids.entries()) clients.push(await login(i % 2 === 0 ? a.wsUrl : b.wsUrl, uid))
  let closed = 0
  for (const client of clients) void client.closed.then(() => { closed++ })
  await until(async () => (await a.app.gate.stats()).onlineUsers === uids.length, 5000, 'every user to be listed')
  const everyone = { delivered: uids.length }

  // The master of node b's shard channel: every request from a to b crosses it.
  const victim = await redis.server.masterOf('{gate:n:b}:bus')
  const run = { stop: false }
  let pushes = 0
  let partial = 0
  const pushing = (async () => {
    for (let i = 0; !run.stop && i < 100000; i++) {
      const answer = await a.app.gate.pushToUids(uids, 'Echo', { text: `p${i}` })
      pushes++
      if (answer.partial === true) partial++
      await new Promise(resolve => setImmediate(resolve))
    }
  })()
  await until(() => pushes >= 20, 5000, 'pushes to go on')
  assert.equal(partial, 0)

  const killedAt = Date.now()
  await redis.server.killMaster(victim)
  await redis.server.waitOk()
  const okAt = Date.now()
  t.diagnostic(`cluster_state:ok with the replica promoted ${okAt - killedAt} ms after SIGKILL of master ${victim}`)
  const healthy = async (): Promise<boolean> => {
    const pushed = await a.app.gate.pushToUids(uids, 'Echo', { text: 'check' })
    if (pushed.delivered !== everyone.delivered || pushed.partial !== undefined) return false
    for (const node of [a, b]) {
      const stats = await node.app.gate.stats()
      const page = await node.app.gate.users(0, 100)
      if (stats.onlineUsers !== uids.length || stats.nodes !== 2 || stats.partial !== undefined || page.partial !== undefined) return false
      if (page.items.map(item => item.uid).sort().join() !== [...uids].sort().join()) return false
    }
    return true
  }
  await until(async () => await healthy().catch(() => false), FAILOVER_BOUND, 'pushes and listings to work again')
  t.diagnostic(`pushes and listings complete again ${Date.now() - okAt} ms after cluster_state:ok; ${pushes} pushes, ${partial} partial`)
  run.stop = true
  await pushing
  assert.equal(closed, 0, 'no client was disconnected')
  for (const uid of uids) assert.equal((await b.app.gate.user(uid))?.connections.length, 1, `${uid} listed once`)
})
