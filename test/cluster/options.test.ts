import assert from 'node:assert/strict'
import { test } from 'node:test'
import Fastify from 'fastify'
import { Cluster, Redis } from 'ioredis'
import gatePlugin from '../../plugins/gate.js'
import { normalizeClusterOptions } from '../../src/cluster/options.js'
import { fastCluster, login, startNode } from '../fixtures/cluster-app.js'
import { registerTestMessages, startGate, until } from '../helper.js'
import { startRedis } from '../redis-helper.js'

test('cluster options have defaults within the docs/protocol.md bounds', () => {
  const o = normalizeClusterOptions('redis://127.0.0.1:1')
  assert.deepEqual({ ...o, redis: undefined }, { redis: undefined, userClient: false, redisCluster: false, keyPrefix: 'gate', nodeTtl: 10000, heartbeat: 2000, requestTimeout: 1000, indexBuckets: 1, batch: true })
  assert.ok(o.nodeTtl + o.heartbeat <= 15000, 'a dead node is purged within 15 s')
  assert.ok(o.requestTimeout < 2000, 'cluster calls answer within 2 s')
  assert.equal(normalizeClusterOptions({ host: '127.0.0.1' }).userClient, false)
  assert.equal(normalizeClusterOptions('redis://x', { nodeTtl: 1000 }).heartbeat, 200, 'the heartbeat follows nodeTtl')
  const seeds = normalizeClusterOptions({ clusterNodes: ['127.0.0.1:1', { host: '127.0.0.1', port: 2 }] })
  assert.deepEqual([seeds.redisCluster, seeds.userClient, seeds.indexBuckets], [true, false, 16], 'Redis Cluster seeds: 16 index buckets')
  const client = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true })
  const given = normalizeClusterOptions(client, { indexBuckets: 4 })
  assert.deepEqual([given.redisCluster, given.userClient, given.indexBuckets], [true, true, 4], 'a Cluster client is the user\'s')
})

test('invalid redis and cluster options are refused with FST_GATE_INVALID_OPTION', async () => {
  const bad: Array<[unknown, unknown]> = [
    [42, undefined],
    ['', undefined],
    [null, undefined],
    ['redis://x', { nodeTtl: 50 }],
    ['redis://x', { nodeTtl: 1000, heartbeat: 600 }],
    ['redis://x', { requestTimeout: 1.5 }],
    ['redis://x', { keyPrefix: '{x}' }],
    ['redis://x', { ttl: 1000 }],
    ['redis://x', 'fast'],
    ['redis://x', { indexBuckets: 0 }],
    ['redis://x', { indexBuckets: 1025 }],
    ['redis://x', { batch: 'yes' }],
    [{ clusterNodes: [] }, undefined],
    [{ clusterNodes: 'x:1' }, undefined]
  ]
  bad.forEach(([redis, cluster], i) => {
    assert.throws(() => normalizeClusterOptions(redis, cluster as never), { code: 'FST_GATE_INVALID_OPTION' }, `case ${i}`)
  })
  for (const opts of [{ cluster: fastCluster }, { redis: 42 as never }]) {
    const app = Fastify()
    await assert.rejects(async () => { await app.register(gatePlugin, opts) }, { code: 'FST_GATE_INVALID_OPTION' }, JSON.stringify(opts))
    await app.close()
  }
})

test('a client passed in is used and left open; ioredis options work too', async (t) => {
  const redis = await startRedis(t)
  const client = new Redis(redis.url)
  t.after(() => client.disconnect())
  const a = await startGate(t, { redis: client, nodeId: 'a', cluster: fastCluster }, registerTestMessages)
  const b = await startGate(t, { redis: { host: '127.0.0.1', port: redis.port }, nodeId: 'b', cluster: fastCluster }, registerTestMessages)
  const user = await login(b.wsUrl, 'u')
  t.after(() => user.close())
  await until(async () => (await a.app.gate.stats()).onlineUsers === 1, 5000, 'the user to be listed')
  assert.equal((await a.app.gate.stats()).nodes, 2)

  await a.app.close()
  assert.equal(client.status, 'ready', 'the user\'s client is not closed')
  assert.equal(await client.ping(), 'PONG')
  assert.deepEqual(await client.zrange('{gate}:nodes', 0, -1), ['b'], 'node a left the cluster')
})

test('clusters with different key prefixes share a Redis without seeing each other', async (t) => {
  const redis = await startRedis(t)
  const a = await startNode(t, redis.url, 'a', { cluster: { ...fastCluster, keyPrefix: 'one' } })
  const b = await startNode(t, redis.url, 'b', { cluster: { ...fastCluster, keyPrefix: 'two' } })
  const user = await login(a.wsUrl, 'u')
  t.after(() => user.close())
  await until(async () => (await a.app.gate.stats()).onlineUsers === 1, 5000, 'the user to be listed')
  assert.deepEqual(await b.app.gate.stats(), { onlineUsers: 0, connections: 0, nodes: 1, transports: { ws: 0, tcp: 0 }, protocols: { leaf: 0, mqtt: 0 }, node: 'b', mode: 'cluster' })
  assert.deepEqual(await b.app.gate.pushToUids(['u'], 'Echo', { text: 'x' }), { delivered: 0 })
})
