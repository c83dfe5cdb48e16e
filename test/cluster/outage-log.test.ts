/**
 * A Redis outage under a push loop: logged once per change of state, not per
 * push; the node rejoins within 10 s of Redis coming back (empty); and no
 * answer counts a connection that did not get the message.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { WsClient } from '../clients.js'
import { fastCluster, login, registerClusterMessages } from '../fixtures/cluster-app.js'
import { captureLogs, startGate, until } from '../helper.js'
import { startRedis } from '../redis-helper.js'
import { noRedisCluster } from '../redis-cluster-helper.js'
import type { Delivery } from '../../src/answers.js'

/** docs/protocol.md section 5: after Redis restarts empty, every live node's users are listed again within 10 s. */
const RECOVERY_BOUND = 10000

/** The texts of the Echo messages `client` got, up to and including `end`. */
async function received (client: WsClient, end: string): Promise<Set<string>> {
  const texts = new Set<string>()
  for (;;) {
    const msg = await client.nextOf('Echo')
    const text = String(msg.body.text)
    if (text === end) return texts
    texts.add(text)
  }
}

test('a Redis outage under a push loop: two log lines, not one per push; the node rejoins within 10 s; delivered never counts a connection that missed the message', { skip: noRedisCluster }, async (t) => {
  const redis = await startRedis(t)
  const logs = captureLogs('info')
  const a = await startGate(t, { redis: redis.url, nodeId: 'a', cluster: fastCluster }, registerClusterMessages, { logger: logs.logger })
  const b = await startGate(t, { redis: redis.url, nodeId: 'b', cluster: fastCluster }, registerClusterMessages)
  const alice = await login(a.wsUrl, 'alice')
  const bob = await login(b.wsUrl, 'bob')
  t.after(() => Promise.all([alice.close(), bob.close()]))
  await until(async () => (await a.app.gate.stats()).onlineUsers === 2, 5000, 'both users to be listed')

  const answers: Array<[string, Delivery]> = []
  const run = { stop: false, phase: 'before' }
  let during = 0
  const pushing = (async () => {
    for (let i = 0; !run.stop && i < 100000; i++) {
      const text = `p${i}`
      answers.push([text, await a.app.gate.pushToUids(['alice', 'bob'], 'Echo', { text })])
      if (run.phase === 'down') during++
      await new Promise(resolve => setTimeout(resolve, 2))
    }
  })()
  await until(() => answers.length >= 20, 5000, 'pushes to go on')
  const before = logs.lines.length

  await redis.stop()
  run.phase = 'down'
  await until(() => during >= 100, 20000, '100 pushes while Redis is down')
  await redis.restart()
  run.phase = 'up'
  const upAt = Date.now()
  await until(async () => {
    const stats = await b.app.gate.stats().catch(() => undefined)
    const last = answers[answers.length - 1]?.[1]
    return stats?.onlineUsers === 2 && stats.nodes === 2 && stats.partial === undefined && last?.delivered === 2 && last.partial === undefined
  }, RECOVERY_BOUND, 'node a to rejoin under the push loop')
  t.diagnostic(`rejoined and delivering to both ${Date.now() - upAt} ms after Redis restarted empty, under a push loop`)
  run.stop = true
  await pushing

  const outage = logs.lines.slice(before).filter(line => line.level >= 40)
  t.diagnostic(`${during} pushes while Redis was down; node a logged ${outage.length} warnings: ${JSON.stringify(outage.map(line => line.msg))}`)
  assert.equal(outage.filter(line => /^cluster unreachable/.test(String(line.msg))).length, 1, 'the outage is logged once')
  assert.ok(outage.length <= 6, 'a few lines per change of state, not one per push')
  assert.ok(outage.filter(line => line.err !== undefined).length <= 2, 'no stack per push')
  assert.ok(logs.lines.slice(before).some(line => /^cluster reachable again/.test(String(line.msg))), 'the recovery is logged')

  // Every answer that counts a connection is backed by a message it got.
  // (A complete-looking answer may still miss bob while node b has not rejoined
  // after node a's settle window: b is then unknown, not counted.)
  for (const client of [alice, bob]) await a.app.gate.pushToUids([client === alice ? 'alice' : 'bob'], 'Echo', { text: 'end' })
  const got = { alice: await received(alice, 'end'), bob: await received(bob, 'end') }
  let partial = 0
  let incomplete = 0
  for (const [text, answer] of answers) {
    const reached = Number(got.alice.has(text)) + Number(got.bob.has(text))
    assert.ok(answer.delivered <= reached, `${text}: delivered ${answer.delivered}, reached ${reached}`)
    if (answer.partial === true) partial++
    else if (answer.delivered !== 2) incomplete++
  }
  t.diagnostic(`${incomplete} answers without partial counted alice alone (node b not back in Redis yet)`)
  t.diagnostic(`${answers.length} pushes, ${partial} answered partial`)
})
