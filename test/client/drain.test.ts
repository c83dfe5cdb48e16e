/**
 * A rolling restart as the SDK sees it (docs/protocol.md section 9): the node
 * drains with 1012 (WebSocket close code; over TCP the close notice), the
 * client waits a random delay of at most `restartDelay`, reconnects to the
 * node that took the address over, and resumes: every message pushed to its
 * uid meanwhile arrives, in order, once.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { until } from '../helper.js'
import { noRedis, range } from '../history/app.js'
import { startRedis } from '../redis-helper.js'
import { chatOn, freePort, reach, sdkClient, type Addresses, type SdkClient } from './helper.js'

if (noRedis !== false) process.stderr.write(`\n!!! ${noRedis} (test/client/drain.test.ts: the SDK across a drain of a Redis-backed gateway)\n\n`)

const TOTAL = 80

test('a draining node closes SDK clients with 1012 (WebSocket and TCP); they come back after a random delay and resume with nothing lost', { skip: noRedis, timeout: 60000 }, async (t) => {
  const redis = await startRedis(t)
  const env = { REDIS_URL: redis.url, GATE_DRAIN_TIME: '1000' }
  const [port, tcpPort] = [await freePort(), await freePort()]
  const at: Addresses = { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws`, tcp: tcpPort }
  const old = await chatOn(t, 'json', port, tcpPort, { ...env, GATE_NODE_ID: 'old' })
  const pusher = await chatOn(t, 'json', 0, 0, { ...env, GATE_NODE_ID: 'pusher' })
  const reconnect = { initialDelay: 20, maxDelay: 100, restartDelay: 300 }
  const clients: Array<[string, SdkClient]> = [
    ['alice', await sdkClient(t, at, 'ws', 'alice', { resume: true, reconnect })],
    ['bob', await sdkClient(t, at, 'tcp', 'bob', { resume: true, reconnect, closeNotice: 'S2C_Close' })]
  ]
  const seen = new Map(clients.map(([uid, c]) => {
    const contents: string[] = []
    c.on('S2C_Message', m => { contents.push(m.content) })
    return [uid, contents]
  }))
  await Promise.all(clients.map(async ([, c]) => { await c.connect() }))

  let sent = 0
  const pushing = (async () => {
    while (sent < TOTAL) {
      sent++
      await pusher.app.gate.pushToUids(['alice', 'bob'], 'S2C_Message', { from_uid: 'pusher', content: `m${sent}`, ts: Date.now() })
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  })()
  await until(() => sent >= 10, 5000, 'pushes to go on')

  // The deploy: the old node drains; a new one takes its address over meanwhile.
  const draining = old.app.close()
  await reach(clients[0][1], 'reconnecting')
  await chatOn(t, 'json', port, tcpPort, { ...env, GATE_NODE_ID: 'new' })
  await draining
  await pushing

  for (const [uid, c] of clients) {
    const lost = c.states.find(s => s.status === 'reconnecting')
    assert.ok(lost?.status === 'reconnecting' && lost.code === 1012, `${uid}: ${JSON.stringify(lost)}`)
    assert.ok(lost.delay <= 300, `${uid}: the restart delay is at most restartDelay: ${lost.delay}`)
    await reach(c, 'connected')
    await until(() => seen.get(uid)!.length >= TOTAL, 10000, `${uid} to have every message`)
    assert.deepEqual(seen.get(uid), range(1, TOTAL).map(n => `m${n}`), `${uid}: every message, in order, once`)
  }
})
