import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Started } from '../helper.js'
import { until } from '../helper.js'
import { startRedis } from '../redis-helper.js'
import { assertError, call, login, ok, startAdmin, TOKENS } from './helper.js'

const withDashboard = { admin: { tokens: [...TOKENS], dashboard: true } }

async function figures (s: Started): Promise<any> {
  return await ok(s, { url: '/gate/figures' })
}

test('GET /gate/figures: counts by transport and protocol, message rates, handler latency, closes by code', async (t) => {
  const s = await startAdmin(t, { ...withDashboard, nodeId: 'node-a' })
  const alice = await login(s, 'ws', 'alice')
  const bob = await login(s, 'tcp', 'bob')
  for (let i = 0; i < 10; i++) {
    alice.client.send('Echo', { text: `${i}` })
    await alice.client.next()
  }
  // 2 logins and 10 echoes in, 2 welcomes and 10 echoes out, 12 handler runs, all within the window.
  await until(async () => {
    const f = await figures(s)
    return Math.round(f.nodes[0].msgsIn * f.nodes[0].window) === 12 && f.nodes[0].handled === 12
  }, 10000, 'the window to cover every message')
  const f = await figures(s)
  const node = f.nodes[0]
  assert.equal(node.node, 'node-a')
  assert.deepEqual(node.connections, { ws: 1, tcp: 1 })
  assert.deepEqual(node.protocols, { leaf: 2 })
  assert.equal(node.onlineUsers, 2)
  assert.equal(Math.round(node.msgsOut * node.window), 12)
  assert.equal(node.latencyBuckets.length, f.latencyBounds.length + 1)
  assert.equal(node.latencyBuckets.reduce((a: number, b: number) => a + b, 0), 12)
  assert.ok(node.p50 > 0 && node.p50 <= node.p99, `p50 ${node.p50} <= p99 ${node.p99}`)
  assert.deepEqual(f.stats, await ok(s, { url: '/gate/stats' }), 'the same counts as GET /stats')
  const { node: _n, at: _a, window: _w, ...same } = node
  assert.deepEqual(f.total, same, 'one node: the total is that node')

  await ok(s, { url: '/gate/kick', body: { uids: ['bob'] } })
  await bob.client.closed
  await alice.client.close()
  await until(async () => (await figures(s)).total.connections.ws === 0, 5000, 'both closes')
  assert.deepEqual((await figures(s)).total.closes, { 1000: 1, 4001: 1 })
})

test('GET /gate/figures needs the token, and exists only with admin.dashboard', async (t) => {
  const s = await startAdmin(t, withDashboard)
  assertError(await call(s, { url: '/gate/figures', token: null }), 401, 'FST_GATE_UNAUTHORIZED')
  assertError(await call(s, { url: '/gate/figures', token: 'wrong' }), 401, 'FST_GATE_UNAUTHORIZED')
  const off = await startAdmin(t)
  assert.equal((await call(off, { url: '/gate/figures' })).statusCode, 404)
})

test('GET /gate/figures in a cluster: every node\'s figures and their total; a node without the dashboard is missing', async (t) => {
  const redis = await startRedis(t)
  const a = await startAdmin(t, { ...withDashboard, redis: redis.url, nodeId: 'node-a' })
  const b = await startAdmin(t, { ...withDashboard, redis: redis.url, nodeId: 'node-b' })
  await login(a, 'ws', 'alice')
  await login(b, 'tcp', 'bob')
  await login(b, 'ws', 'carol')
  await until(async () => (await figures(a)).stats.connections === 3, 5000, 'every connection to be counted')

  for (const [s, first, other] of [[a, 'node-a', 'node-b'], [b, 'node-b', 'node-a']] as const) {
    const f = await figures(s)
    assert.deepEqual(f.nodes.map((n: { node: string }) => n.node), [first, other], 'the answering node first')
    assert.deepEqual(f.total.connections, { ws: 2, tcp: 1 })
    assert.deepEqual(f.total.protocols, { leaf: 3 })
    assert.equal(f.total.onlineUsers, 3)
    assert.equal(f.partial, undefined)
  }

  await startAdmin(t, { redis: redis.url, nodeId: 'node-c' })
  await until(async () => (await figures(a)).stats.nodes === 3, 5000, 'node-c to join')
  const f = await figures(a)
  assert.equal(f.partial, true)
  assert.deepEqual(f.missingNodes, ['node-c'])
  assert.equal(f.nodes.length, 2)
})
