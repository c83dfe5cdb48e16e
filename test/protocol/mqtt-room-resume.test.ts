/**
 * Room history over MQTT (docs/protocol.md sections 7 and 10): a persistent
 * session (clean session 0) tracks its rooms' positions from its SUBSCRIBE,
 * saves them with the session, and on resume gets each room's missed
 * messages once, in order, then live ones, also when the client subscribes
 * again (MQTT.js does after a reconnect); and across nodes, when its node
 * (a process, on Redis) is stopped (SIGTERM: none lost, none repeated) or
 * killed (SIGKILL: none lost, what came after the last session save again)
 * while another node pushes to the room every 25 ms.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import { test, type TestContext } from 'node:test'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { chatOn, freeAddresses, freePort, offsetOf, pusher, startServer } from '../client/helper.js'
import { SECRET, startChat, type Chat } from '../example/helper.js'
import { until } from '../helper.js'
import { noRedis, range } from '../history/app.js'
import { startRedis } from '../redis-helper.js'
import { connectMqtt as connect, type Got } from './mqtt-clients.js'

if (noRedis !== false) process.stderr.write(`\n!!! ${noRedis} (test/protocol/mqtt-room-resume.test.ts: MQTT room resume across Redis-backed nodes)\n\n`)

const sign = tokenSigner(SECRET)

/**
 * A TCP proxy in front of a Redis for one node: `hold()` keeps what the node
 * sends (its commands) until `release()`; `held` is that text, to see which
 * commands are waiting. Redis's answers pass at once.
 */
async function holdingProxy (t: TestContext, redisPort: number): Promise<{ url: string, held: () => string, hold: () => void, release: () => void }> {
  const waiting: Array<{ to: net.Socket, chunk: Buffer }> = []
  let holding = false
  const server = net.createServer(from => {
    const to = net.connect(redisPort, '127.0.0.1')
    to.on('error', () => { from.destroy() })
    from.on('error', () => { to.destroy() })
    to.on('close', () => from.destroy())
    from.on('close', () => to.destroy())
    to.pipe(from)
    from.on('data', chunk => {
      if (holding) waiting.push({ to, chunk })
      else to.write(chunk)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>(resolve => { server.close(() => resolve()) }))
  return {
    url: `redis://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    held: () => Buffer.concat(waiting.map(w => w.chunk)).toString('latin1'),
    hold: () => { holding = true },
    release: () => {
      holding = false
      for (const { to, chunk } of waiting.splice(0)) to.write(chunk)
    }
  }
}

const room = (got: Got[]): Array<[string, string, string]> => got.filter(g => g.topic === 'S2C_Message').map(g => [g.body.content, g.body.gate_room, g.body.gate_pos])
const push = async (chat: Chat, content: string): Promise<{ delivered: number, stored?: number }> =>
  await chat.app.gate.pushToRoom('lobby', 'S2C_Message', { from_uid: 'x', room: 'lobby', content, ts: 1 })

test('a persistent session resumes its room: the missed room messages once, in order, with gate_room and gate_pos; a SUBSCRIBE again changes nothing', { timeout: 30_000 }, async (t) => {
  const chat = await startChat(t, 'json')
  const opts = { clientId: 'tablet-1', clean: false, username: 'bob', password: sign('bob') }
  const first = await connect(t, chat, opts)
  await first.c.subscribeAsync('room/lobby')
  await push(chat, 'm1')
  await push(chat, 'm2')
  await until(() => room(first.got).length === 2, 5000, 'two room messages')
  const epoch = (room(first.got)[0][2]).split(':')[0]
  assert.deepEqual(room(first.got), [['m1', 'lobby', `${epoch}:1`], ['m2', 'lobby', `${epoch}:2`]])
  await first.c.endAsync()
  await until(() => chat.app.gate.agentsOf('bob').size === 0)

  for (const content of ['m3', 'm4']) assert.deepEqual(await push(chat, content), { delivered: 0, stored: 1 })
  const back = await connect(t, chat, opts)
  assert.equal(back.present, true)
  await until(() => room(back.got).length === 2, 5000, 'the room replay')
  assert.deepEqual(room(back.got), [['m3', 'lobby', `${epoch}:3`], ['m4', 'lobby', `${epoch}:4`]], 'what was missed, once: not what the first connection had')

  await back.c.subscribeAsync('room/lobby')
  await push(chat, 'm5')
  await until(() => room(back.got).length === 3, 5000, 'a live room message')
  await new Promise(resolve => setTimeout(resolve, 300)) // past gapTimeout: the subscribe's extra read sent nothing twice
  assert.deepEqual(room(back.got).map(r => r[0]), ['m3', 'm4', 'm5'])
})

test('a clean session (clean session 1) gets room messages as before: no gate_room, no gate_pos', { timeout: 30_000 }, async (t) => {
  const chat = await startChat(t, 'json')
  const plain = await connect(t, chat, { clientId: 'plain-1', clean: true, username: 'bob', password: sign('bob') })
  await plain.c.subscribeAsync('room/lobby')
  await push(chat, 'm1')
  await until(() => room(plain.got).length === 1, 5000, 'a room message')
  assert.deepEqual(plain.got[0].body, { from_uid: 'x', room: 'lobby', content: 'm1', ts: 1 })
})

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  const outcome = signal === 'SIGTERM' ? 'none lost, none repeated' : 'none lost; only what came after the last session save comes again'
  test(`across nodes (Redis): the MQTT client's node is stopped with ${signal} and started again while another node pushes to the room every 25 ms; the client connects again (same client id, clean session 0) and gets the room in order: ${outcome}`, { skip: noRedis, timeout: 60_000 }, async (t) => {
    const redis = await startRedis(t)
    const env = { ...redis.env, GATE_DRAIN_TIME: '200' }
    const [at, mqttPort] = [await freeAddresses(), await freePort()]
    const nodeA = async (id: string): Promise<ReturnType<typeof startServer>> => await startServer(t, at, 'json', { ...env, GATE_NODE_ID: id, GATE_MQTT_PORT: String(mqttPort) })
    const a = await nodeA('a1')
    const b = await chatOn(t, 'json', 0, 0, { ...env, GATE_NODE_ID: 'b' })
    const url = `mqtt://127.0.0.1:${mqttPort}`
    const opts = { clientId: 'tablet-x', clean: false, username: 'bob', password: sign('bob') }
    const first = await connect(t, url, opts)
    await first.c.subscribeAsync('room/lobby')
    await until(async () => (await b.app.gate.room('lobby'))?.total === 1, 10_000, 'the client listed in #lobby')
    const pushes = pusher(async content => await b.app.gate.pushToRoom('lobby', 'S2C_Message', { from_uid: 'b', room: 'lobby', content, ts: 1 }))

    // The session as the next CONNECT reads it: the room's position at its last save.
    const raw = redis.raw(t)
    const savedOffset = async (): Promise<number> => {
      const roomPos = await raw.hget('{gate:u:\0mqtt\0tablet-x}:session', 'roomPos')
      const pos = (JSON.parse(roomPos ?? '{}') as Record<string, string>).lobby
      return pos === undefined ? -1 : offsetOf(pos)
    }
    // Stopped once a save holds some of the room and the client got more since: a SIGKILL then replays from mid-stream, and SIGTERM's close must save what came after.
    await until(async () => {
      const saved = await savedOffset()
      return saved >= 5 && room(first.got).length >= saved + 3
    }, 10_000, 'a session save, and room messages after it')
    const closed = new Promise<void>(resolve => first.c.once('close', () => { resolve() }))
    a.kill(signal)
    await once(a, 'exit')
    await closed
    const seen = room(first.got).length
    const saved = await savedOffset()
    const downAt = pushes.sent()
    await nodeA('a2')
    await until(() => pushes.sent() > downAt, 10_000, 'a push while the client was away')

    const back = await connect(t, url, opts)
    assert.equal(back.present, true, 'session present')
    const from = pushes.sent()
    await until(() => pushes.sent() >= from + 20, 10_000, 'pushes after the reconnect')
    await pushes.stop()
    const total = pushes.sent()
    await until(() => room(back.got).at(-1)?.[0] === `m${total}`, 10_000, 'every room message')

    const epoch = room(first.got)[0][2].split(':')[0]
    const expect = (from: number, to: number): Array<[string, string, string]> => range(from, to).map(n => [`m${n}`, 'lobby', `${epoch}:${n}`])
    assert.deepEqual(room(first.got), expect(1, seen), 'before the stop: in order, once')
    if (signal === 'SIGTERM') {
      assert.equal(saved, seen, 'saved at the close: everything the first connection got')
      assert.deepEqual(room(back.got), expect(seen + 1, total), 'after: the rest, in order, none lost, none repeated')
    } else {
      assert.ok(saved >= 5 && saved <= seen, `the last save (${saved}) is within what the first connection got (${seen})`)
      assert.deepEqual(room(back.got), expect(saved + 1, total), 'after: from the last save on, in order, none lost; only those after the save came twice')
    }
    t.diagnostic(`${total} room messages; the first connection got ${seen}; the session was saved at ${saved}; ${Math.max(0, seen - saved)} came twice`)
  })
}

test('across nodes (Redis): a message another node pushes to the room once the SUBACK of a persistent session\'s first SUBSCRIBE is in reaches the client, also when the node\'s read of the room\'s stream is slow', { skip: noRedis, timeout: 30_000 }, async (t) => {
  const redis = await startRedis(t)
  const proxy = await holdingProxy(t, redis.port)
  const a = await startChat(t, 'json', { REDIS_URL: proxy.url, GATE_NODE_ID: 'a' })
  const b = await startChat(t, 'json', { REDIS_URL: redis.url, GATE_NODE_ID: 'b' })
  const client = await connect(t, a, { clientId: 'tablet-y', clean: false, username: 'bob', password: sign('bob') })
  const say = async (content: string): Promise<unknown> => await b.app.gate.pushToRoom('fresh', 'S2C_Message', { from_uid: 'b', room: 'fresh', content, ts: 1 })

  // Node a's commands wait in the proxy: its join of the room and its first read of the room's stream.
  proxy.hold()
  let subacked = false
  const subscribed = client.c.subscribeAsync('room/fresh').then(() => { subacked = true })
  await until(() => proxy.held().includes('\0room\0fresh}:hist'), 10_000, 'node a reading the room\'s stream')
  // A SUBACK sent before that read would be in by now (written before it): m1 is pushed after the SUBACK, before the read.
  const early = subacked
  if (early) await say('m1')
  proxy.release()
  await subscribed
  if (!early) await say('m1')
  await say('m2')
  await until(() => room(client.got).some(r => r[0] === 'm2'), 5000, 'm2')
  assert.deepEqual(room(client.got).map(r => r[0]), ['m1', 'm2'], `every message pushed after the SUBACK (m1 ${early ? 'before' : 'after'} node a's read), in order`)
})
