/**
 * The bus's batches (docs/cluster.md, "Bus"): the requests and answers of one
 * event-loop turn for one node go in one SPUBLISH between nodes that read
 * batches, and never to a node that does not say it does (a node of a version
 * before batches, played by `cluster.batch: false`). Watched on the nodes'
 * own shard channels by a raw subscriber of a private Redis.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { encodeBatch, encodeEnvelope, splitBatch } from '../../src/cluster/envelope.js'
import { fastCluster, login, startNode } from '../fixtures/cluster-app.js'
import { until } from '../helper.js'
import { startRedis, type RedisServer } from '../redis-helper.js'
import type { TestContext } from 'node:test'

test('a batch carries its envelopes unchanged; a single envelope is not a batch; a cut batch keeps its whole parts', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: 20 }), parts => {
    const envelopes = parts.map(p => Buffer.from(p))
    const batch = encodeBatch(envelopes)
    assert.deepEqual(splitBatch(batch), envelopes)
    const cut = batch.subarray(0, batch.length - 1)
    assert.deepEqual(splitBatch(cut), envelopes.slice(0, -1))
  }))
  assert.equal(splitBatch(encodeEnvelope({ t: 'res', id: 1, from: 'a', n: 1 })), undefined)
})

/** Every bus message published to `node`'s channel, as it arrived. */
async function watch (t: TestContext, redis: RedisServer, node: string): Promise<Buffer[]> {
  const seen: Buffer[] = []
  const raw = redis.raw(t)
  raw.on('smessageBuffer', (_channel: Buffer, bytes: Buffer) => { seen.push(bytes) })
  await raw.ssubscribe(`{gate:n:${node}}:bus`)
  return seen
}

const isBatch = (bytes: Buffer): boolean => splitBatch(bytes) !== undefined

test('pushes of one turn to another node go in one batch when it reads batches, one by one to a node that does not; every one is delivered', async (t) => {
  const redis = await startRedis(t)
  const a = await startNode(t, redis.url, 'a')
  const b = await startNode(t, redis.url, 'b')
  const old = await startNode(t, redis.url, 'old', { cluster: { ...fastCluster, batch: false } })
  const bob = await login(b.wsUrl, 'bob')
  const carol = await login(old.wsUrl, 'carol')
  t.after(() => Promise.all([bob.close(), carol.close()]))
  const toB = await watch(t, redis, 'b')
  const toOld = await watch(t, redis, 'old')
  const toA = await watch(t, redis, 'a')

  // The first exchange tells a which nodes read batches (their answers say so).
  assert.deepEqual(await a.app.gate.pushToUids(['bob', 'carol'], 'Echo', { text: 'first' }), { delivered: 2 })
  const n = 30
  const results = await Promise.all(Array.from({ length: n }, async (_, i) => await a.app.gate.pushToUids(['bob', 'carol'], 'Echo', { text: `m${i}` })))
  assert.deepEqual(results, Array.from({ length: n }, () => ({ delivered: 2 })), 'every push reached both')
  for (const client of [bob, carol]) {
    assert.equal((await client.next()).body.text, 'first')
    for (let i = 0; i < n; i++) assert.equal((await client.next()).body.text, `m${i}`)
  }
  await until(async () => toOld.length >= n + 1, 5000, 'the old node\'s requests seen')
  // The watchers are connections of their own: under load, what they saw may lag behind what the nodes got.
  await until(() => toB.some(isBatch), 5000, 'a batch of requests on b\'s channel')
  await until(() => toA.some(isBatch), 5000, 'a batch of b\'s answers on a\'s channel')
  assert.ok(toB.some(isBatch), 'a batched its requests to b')
  assert.ok(toB.length < n + 1, `fewer messages than requests to b (${toB.length})`)
  assert.equal(toOld.filter(isBatch).length, 0, 'never a batch to the node that reads none')
  assert.equal(toOld.length, n + 1, 'one message per request to it')
  assert.ok(toA.some(isBatch), 'b batched its answers to a')
})
