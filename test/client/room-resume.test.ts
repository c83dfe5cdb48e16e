/**
 * Room history with the SDK across nodes (docs/protocol.md sections 9 and 10):
 * an SDK client watching a room (`subscribe` with resume on) while another
 * node pushes to the room every 25 ms gets every room message exactly once,
 * in order, when its node is killed (SIGKILL) and when every node is drained
 * and restarted one after the other (SIGTERM, 1012): it reconnects to a
 * surviving node and subscribes again with the room's position. Each runs on
 * one Redis and on a Redis Cluster (the file's own, test/redis-cluster-helper.ts).
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test, type TestContext } from 'node:test'
import { createClient, loadCodec, webSocket, type RoomResumeInfo } from '../../client/node.js'
import { until } from '../helper.js'
import { noRedis, range } from '../history/app.js'
import { redisBackends } from '../redis-helper.js'
import { chatLogin, chatOn, freeAddresses as addresses, offsetOf, pusher, reach, startServer, type Addresses, type ChatMessages, type SdkClient } from './helper.js'

if (noRedis !== false) process.stderr.write(`\n!!! ${noRedis} (test/client/room-resume.test.ts: room resume across Redis-backed nodes)\n\n`)

const backends = redisBackends()

/**
 * An SDK client that tries the nodes in turn (one per connect) and watches `room` with resume on.
 * While `held()` says so, a reconnect tries the first node again instead of the next one (the
 * SIGKILL test holds it on the dead node until room messages were pushed while it was away).
 */
async function watcher (t: TestContext, nodes: Addresses[], room: string, away = 20, held: () => boolean = () => false): Promise<{ client: SdkClient, contents: string[], positions: string[], resumes: RoomResumeInfo[] }> {
  let next = 0
  const client = createClient<ChatMessages>({
    transport: webSocket(() => next > 0 && held() ? nodes[0].ws : nodes[next++ % nodes.length].ws),
    codec: await loadCodec(`${nodes[0].http}/gate/protocol`),
    login: chatLogin('alice'),
    resume: true,
    // `away`: ms before the first retry, so that room messages are pushed while the watcher is away
    reconnect: { initialDelay: away, maxDelay: Math.max(away, 100), restartDelay: 200, jitter: 0 }
  }) as SdkClient
  client.states = []
  client.onState(s => client.states.push(s))
  t.after(() => client.close())
  const seen = { client, contents: [] as string[], positions: [] as string[], resumes: [] as RoomResumeInfo[] }
  client.on('S2C_Message', m => {
    if (m.gate_room !== room) return
    seen.contents.push(m.content)
    seen.positions.push(m.gate_pos ?? '')
  })
  client.onRoomResume(r => seen.resumes.push(r))
  await client.connect()
  const first = await client.subscribe(room)
  assert.equal(first?.recovered, false, 'a first subscribe has nothing to recover')
  return seen
}

async function roundTrip (client: SdkClient): Promise<void> {
  const echo = client.next('C2S_UserHeartBeat')
  client.send('C2S_UserHeartBeat', { ptime: 1 })
  await echo
}

for (const kind of backends.kinds) {
  test(`${kind}: the watcher's node is killed (SIGKILL) while the other node pushes to the room every 25 ms; the SDK resubscribes on the survivor and gets every room message once, in order`, { skip: noRedis !== false ? noRedis : backends.skip(kind), timeout: 60_000 }, async (t) => {
    const redis = await backends.use(t, kind)
    const [doomedAt, otherAt] = [await addresses(), await addresses()]
    const doomed = await startServer(t, doomedAt, 'json', { ...redis.env, GATE_NODE_ID: 'doomed' })
    const other = await chatOn(t, 'json', Number(new URL(otherAt.http).port), otherAt.tcp, { ...redis.env, GATE_NODE_ID: 'other' })
    // Held on the dead node until 5 room messages were pushed after the kill: what it missed is replayed, whatever the machine's load.
    const away = { killedAt: Infinity, sent: () => 0 }
    const seen = await watcher(t, [doomedAt, otherAt], 'lobby', 300, () => away.sent() < away.killedAt + 5)
    await until(async () => (await other.app.gate.room('lobby', 0, 10))?.total === 1, 5000, 'the watcher listed in the room')

    const pushes = pusher(async content => await other.app.gate.pushToRoom('lobby', 'S2C_Message', { from_uid: 'other', room: 'lobby', content, ts: Date.now() }))
    await until(() => seen.contents.length >= 10, 10_000, 'room messages before the kill')
    away.sent = pushes.sent
    away.killedAt = pushes.sent()
    doomed.kill('SIGKILL')
    await once(doomed, 'exit')
    const killedAt = pushes.sent()
    await until(() => seen.client.states.some(s => s.status === 'reconnecting'), 10_000, 'the watcher to notice')
    await reach(seen.client, 'connected')
    await until(() => pushes.sent() >= killedAt + 20, 10_000, 'pushes after the reconnect')
    await pushes.stop()
    const total = pushes.sent()
    await until(() => seen.contents.length >= total, 10_000, 'every room message')
    await roundTrip(seen.client)
    assert.deepEqual(seen.contents, range(1, total).map(n => `m${n}`), 'every room message, in order, once')
    assert.deepEqual(seen.positions.map(offsetOf), range(1, total))
    const again = seen.resumes.at(-1)!
    assert.equal(again.recovered, true, JSON.stringify(seen.resumes))
    assert.ok(offsetOf(again.position) - offsetOf(again.from) >= 5, `room messages pushed while away were replayed: ${JSON.stringify(again)}`)
    t.diagnostic(`${total} room messages; the resubscribe on the survivor came from ${again.from}`)
  })
}

for (const kind of backends.kinds) {
  test(`${kind}: a rolling restart (each of two nodes drained with SIGTERM, 1012, and started again, one after the other) under room pushes every 25 ms: every room message once, in order`, { skip: noRedis !== false ? noRedis : backends.skip(kind), timeout: 90_000 }, async (t) => {
    const redis = await backends.use(t, kind)
    const env = { ...redis.env, GATE_DRAIN_TIME: '200' }
    const nodes = [await addresses(), await addresses()]
    const procs = [
      await startServer(t, nodes[0], 'protobuf', { ...env, GATE_NODE_ID: 'a1' }),
      await startServer(t, nodes[1], 'protobuf', { ...env, GATE_NODE_ID: 'b1' })
    ]
    const pusherNode = await chatOn(t, 'protobuf', 0, 0, { ...env, GATE_NODE_ID: 'pusher' })
    const seen = await watcher(t, nodes, 'lobby')
    await until(async () => (await pusherNode.app.gate.room('lobby', 0, 10))?.total === 1, 5000, 'the watcher listed in the room')
    const pushes = pusher(async content => await pusherNode.app.gate.pushToRoom('lobby', 'S2C_Message', { from_uid: 'pusher', room: 'lobby', content, ts: Date.now() }))
    await until(() => seen.contents.length >= 10, 10_000, 'room messages before the deploy')

    for (const [i, id] of [[0, 'a2'], [1, 'b2']] as const) {
      const resumesBefore = seen.resumes.length
      procs[i].kill('SIGTERM')
      await once(procs[i], 'exit')
      procs[i] = await startServer(t, nodes[i], 'protobuf', { ...env, GATE_NODE_ID: id })
      // The watcher was on one of the two: when it was this one, it came back on the other.
      await reach(seen.client, 'connected')
      const from = pushes.sent()
      await until(() => pushes.sent() >= from + 10, 10_000, 'pushes after the restart')
      t.diagnostic(`node ${i} restarted; the watcher resubscribed ${seen.resumes.length - resumesBefore} time(s)`)
    }
    await pushes.stop()
    const total = pushes.sent()
    await until(() => seen.contents.length >= total, 10_000, 'every room message')
    await roundTrip(seen.client)
    const drained = seen.client.states.filter(s => s.status === 'reconnecting' && s.code === 1012).length
    assert.ok(drained >= 2, `the watcher was drained with 1012 by both nodes: ${JSON.stringify(seen.client.states)}`)
    assert.deepEqual(seen.contents, range(1, total).map(n => `m${n}`), 'every room message, in order, once')
    assert.deepEqual(seen.positions.map(offsetOf), range(1, total))
    assert.ok(seen.resumes.slice(1).every(r => r.recovered), JSON.stringify(seen.resumes))
  })
}
