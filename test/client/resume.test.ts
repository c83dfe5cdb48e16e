/**
 * Resume with the SDK (`resume` option) against the example gateway: the
 * position kept from messages and login answers, given back at every login,
 * the replayed messages delivered in order before live ones.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { advancePosition, LoginRefused, type PositionStore, type ResumeInfo } from '../../client/node.js'
import { until } from '../helper.js'
import { noRedis, range } from '../history/app.js'
import { startRedis } from '../redis-helper.js'
import { chatOn, freeAddresses, freePort, reach, sdkClient, sign, startServer, type Addresses, type ChatMessages, type SdkClient } from './helper.js'
import type { LoginHook } from '../../client/node.js'

if (noRedis !== false) process.stderr.write(`\n!!! ${noRedis} (test/client/resume.test.ts: the SDK's resume across a restart of a Redis-backed gateway)\n\n`)

const fast = { initialDelay: 10, maxDelay: 50 }
const combos = [['json', 'ws'], ['json', 'tcp'], ['protobuf', 'ws'], ['protobuf', 'tcp']] as const

async function pushTo (app: FastifyInstance, uid: string, content: string): Promise<{ delivered: number, stored?: number }> {
  return await app.gate.pushToUids([uid], 'S2C_Message', { from_uid: 'bob', to_uid: uid, content, ts: Date.now() })
}

/** What the application saw: the content and the position of every S2C_Message, and every resume report. */
function record (client: SdkClient): { contents: string[], positions: string[], resumes: ResumeInfo[] } {
  const seen = { contents: [] as string[], positions: [] as string[], resumes: [] as ResumeInfo[] }
  client.on('S2C_Message', m => { seen.contents.push(m.content); seen.positions.push(m.gate_pos ?? '') })
  client.onResume(r => seen.resumes.push(r))
  return seen
}

/** A heartbeat round trip: whatever the gate sent before its answer has been delivered. */
async function roundTrip (client: SdkClient): Promise<void> {
  const echo = client.next('C2S_UserHeartBeat')
  client.send('C2S_UserHeartBeat', { ptime: 1 })
  await echo
}

const epochOf = (pos: string): string => pos.slice(0, pos.lastIndexOf(':'))
const offsetsOf = (positions: string[]): number[] => positions.map(p => Number(p.slice(p.lastIndexOf(':') + 1)))
const ms = (from: number, to: number): string[] => range(from, to).map(n => `m${n}`)

test('advancePosition: never backwards within an epoch, a new epoch adopted, no position changes nothing', () => {
  assert.equal(advancePosition('', 'E:1'), 'E:1')
  assert.equal(advancePosition('E:5', 'E:6'), 'E:6')
  assert.equal(advancePosition('E:5', 'E:5'), 'E:5')
  assert.equal(advancePosition('E:5', 'E:4'), 'E:5')
  assert.equal(advancePosition('E:5', 'F:1'), 'F:1')
  assert.equal(advancePosition('E:5', ''), 'E:5')
  assert.equal(advancePosition('E:5', undefined), 'E:5')
  assert.equal(advancePosition('E:10', 'E:9'), 'E:10', 'offsets compare as numbers')
})

for (const [encoding, transport] of combos) {
  test(`cluster (Redis), ${encoding} over ${transport}: pushes made while the client's gateway restarts all arrive after the reconnect, in order, once; recovered`, { skip: noRedis }, async (t) => {
    const redis = await startRedis(t)
    const env = { REDIS_URL: redis.url }
    const [port, tcpPort] = [await freePort(), await freePort()]
    const at: Addresses = { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws`, tcp: tcpPort }
    const gateway = await chatOn(t, encoding, port, tcpPort, env)
    const other = await chatOn(t, encoding, 0, 0, env) // another node of the cluster: it pushes while the first is down
    const alice = await sdkClient(t, at, transport, 'alice', { resume: true, reconnect: fast })
    const seen = record(alice)
    await alice.connect()
    assert.equal(seen.resumes.length, 1)
    assert.equal(seen.resumes[0].recovered, false, 'a first login has nothing to recover')
    assert.equal(seen.resumes[0].from, '')
    const epoch = epochOf(alice.position)
    assert.ok(epoch !== '', `a position from the first login answer: ${alice.position}`)

    for (const n of range(1, 3)) await pushTo(other.app, 'alice', `m${n}`)
    await until(() => seen.contents.length === 3, 5000, 'three live messages')
    assert.equal(alice.position, `${epoch}:3`)

    await gateway.app.close()
    await reach(alice, 'reconnecting')
    for (const n of range(4, 8)) {
      const r = await pushTo(other.app, 'alice', `m${n}`)
      assert.deepEqual([r.delivered, r.stored], [0, 1], 'kept, delivered to nobody')
    }
    await chatOn(t, encoding, port, tcpPort, env)
    await reach(alice, 'connected')
    assert.deepEqual(seen.contents, ms(1, 8), 'the missed messages were delivered before connected')
    assert.deepEqual(seen.resumes[1], { recovered: true, from: `${epoch}:3`, position: `${epoch}:8` })

    for (const n of range(9, 10)) await pushTo(other.app, 'alice', `m${n}`)
    await until(() => seen.contents.length >= 10, 5000, 'live messages after the resume')
    await roundTrip(alice)
    assert.deepEqual(seen.contents, ms(1, 10), 'in order, none lost, none twice')
    assert.deepEqual(offsetsOf(seen.positions), range(1, 10))
    assert.ok(seen.positions.every(p => epochOf(p) === epoch))
    assert.equal(alice.position, `${epoch}:10`)
  })
}

for (const encoding of ['json', 'protobuf'] as const) {
  test(`cluster (Redis), ${encoding}: the gateway process is killed (SIGKILL) while another node pushes without pause; WS and TCP clients get every message, in order, once`, { skip: noRedis }, async (t) => {
    const redis = await startRedis(t)
    const env = { REDIS_URL: redis.url }
    const at = await freeAddresses()
    const doomed = await startServer(t, at, encoding, env)
    const other = await chatOn(t, encoding, 0, 0, env)
    const alice = await sdkClient(t, at, 'ws', 'alice', { resume: true, reconnect: fast })
    const carol = await sdkClient(t, at, 'tcp', 'carol', { resume: true, reconnect: fast })
    const [a, c] = [record(alice), record(carol)]
    await Promise.all([alice.connect(), carol.connect()])
    await until(async () => (await other.app.gate.user('alice')) !== null && (await other.app.gate.user('carol')) !== null, 5000, 'both listed')

    const total = 150
    let sent = 0
    const pushing = (async () => {
      while (sent < total) {
        const n = ++sent
        await other.app.gate.pushToUids(['alice', 'carol'], 'S2C_Message', { from_uid: 'bob', content: `m${n}`, ts: Date.now() })
        await new Promise(resolve => setTimeout(resolve, 1))
      }
    })()
    await until(() => a.contents.length >= 10 && c.contents.length >= 10, 5000, 'live messages before the kill')
    doomed.kill('SIGKILL')
    await once(doomed, 'exit')
    await Promise.all([reach(alice, 'reconnecting'), reach(carol, 'reconnecting')])
    const away = sent
    await until(() => sent >= away + 20, 5000, 'pushes while the gateway is down')
    await startServer(t, at, encoding, env)
    await pushing
    await until(() => a.contents.length >= total && c.contents.length >= total, 10000, 'every message')
    await Promise.all([roundTrip(alice), roundTrip(carol)])
    for (const [who, seen] of [['alice', a], ['carol', c]] as const) {
      assert.deepEqual(seen.contents, ms(1, total), `${who}: in order, none lost, none twice`)
      assert.deepEqual(offsetsOf(seen.positions), range(1, total))
      assert.equal(seen.resumes.at(-1)?.recovered, true, `${who}: ${JSON.stringify(seen.resumes)}`)
    }
    t.diagnostic(`the kill came after alice saw ${a.resumes.length > 1 ? offsetsOf([a.resumes[1].from])[0] : '?'} messages; ${away} were sent by then`)
  })
}

for (const [encoding, transport] of [['json', 'ws'], ['protobuf', 'tcp']] as const) {
  test(`single node, ${encoding} over ${transport}: a restart forgets the history; the client is told (recovered false), adopts the new epoch and gets its stream once`, async (t) => {
    const [port, tcpPort] = [await freePort(), await freePort()]
    const at: Addresses = { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws`, tcp: tcpPort }
    const first = await chatOn(t, encoding, port, tcpPort)
    // The login of a reconnect waits for `release`, so that pushes can be made to the new node before alice is back.
    let release!: () => void
    const released = new Promise<void>(resolve => { release = resolve })
    let entered!: () => void
    const waiting = new Promise<void>(resolve => { entered = resolve })
    const login: LoginHook<ChatMessages> = async (s) => {
      if (s.reconnect) {
        entered()
        await released
      }
      s.send('C2S_UserLogin', { token: sign('alice'), resume_pos: s.position })
      const answer = await s.next('S2C_UserLogin')
      if (answer.ret !== 1) throw new LoginRefused(answer.msg)
      return answer
    }
    const alice = await sdkClient(t, at, transport, 'alice', { resume: true, reconnect: fast, login })
    const seen = record(alice)
    await alice.connect()
    for (const n of range(1, 3)) await pushTo(first.app, 'alice', `m${n}`)
    await until(() => seen.contents.length === 3, 5000, 'three live messages')
    const before = alice.position
    assert.equal(offsetsOf([before])[0], 3)

    await first.app.close()
    await reach(alice, 'reconnecting')
    const second = await chatOn(t, encoding, port, tcpPort)
    await waiting
    for (const n of range(4, 5)) {
      const r = await pushTo(second.app, 'alice', `m${n}`)
      assert.deepEqual([r.delivered, r.stored], [0, 1])
    }
    release()
    await reach(alice, 'connected')
    const resumed = seen.resumes[1]
    assert.equal(resumed.recovered, false, 'the stream of the old epoch is gone')
    assert.equal(resumed.from, before)
    assert.notEqual(epochOf(resumed.position), epochOf(before), 'a new epoch')
    assert.equal(resumed.position, `${epochOf(resumed.position)}:2`)
    await roundTrip(alice)
    assert.deepEqual(seen.contents, ms(1, 5), 'what the new stream holds, once')
    assert.deepEqual(offsetsOf(seen.positions), [1, 2, 3, 1, 2])

    await pushTo(second.app, 'alice', 'm6')
    await until(() => seen.contents.length === 6, 5000, 'a live message')
    assert.equal(alice.position, `${epochOf(resumed.position)}:3`)
  })
}

test('positionStore: a new client (a reload, a restarted process) resumes from the stored position', async (t) => {
  const [port, tcpPort] = [await freePort(), await freePort()]
  const at: Addresses = { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws`, tcp: tcpPort }
  const chat = await chatOn(t, 'json', port, tcpPort)
  const saved = new Map<string, string>()
  const sets: string[] = []
  const store: PositionStore = { get: () => saved.get('alice'), set: (p) => { sets.push(p); saved.set('alice', p) } }

  const first = await sdkClient(t, at, 'ws', 'alice', { resume: { store }, reconnect: fast })
  const seen1 = record(first)
  await first.connect()
  for (const n of range(1, 2)) await pushTo(chat.app, 'alice', `m${n}`)
  await until(() => seen1.contents.length === 2, 5000, 'two messages')
  assert.equal(saved.get('alice'), first.position)
  assert.deepEqual(offsetsOf(sets), [0, 1, 2], 'saved at each move: the login answer, then each message')
  first.close()
  await until(async () => (await chat.app.gate.user('alice')) === null, 5000, 'alice offline')
  for (const n of range(3, 4)) await pushTo(chat.app, 'alice', `m${n}`)

  const second = await sdkClient(t, at, 'tcp', 'alice', { resume: { store }, reconnect: fast })
  const seen2 = record(second)
  await second.connect()
  assert.deepEqual(seen2.resumes, [{ recovered: true, from: seen1.positions[1], position: `${epochOf(seen1.positions[1])}:4` }])
  await roundTrip(second)
  assert.deepEqual(seen2.contents, ms(3, 4), 'only what the first client had not seen')
  assert.equal(saved.get('alice'), second.position)
})

test('resume off: the login sends no position, messages carry none, and nothing is reported', async (t) => {
  const chat = await chatOn(t, 'json', 0, 0)
  const { port } = chat.app.server.address() as { port: number }
  const at: Addresses = { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws`, tcp: chat.app.gateTcpAddress()!.port }
  const alice = await sdkClient(t, at, 'ws', 'alice')
  const seen = record(alice)
  await alice.connect()
  await pushTo(chat.app, 'alice', 'm1')
  await until(() => seen.contents.length === 1, 5000, 'a message')
  assert.deepEqual(seen.positions, [''], 'no gate_pos: the login did not ask for positions')
  assert.equal(alice.position, '')
  assert.deepEqual(seen.resumes, [])
})

test('a resume listener that closes the client: it stops there, never connected', async (t) => {
  const chat = await chatOn(t, 'json', 0, 0)
  const { port } = chat.app.server.address() as { port: number }
  const at: Addresses = { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws`, tcp: chat.app.gateTcpAddress()!.port }
  const alice = await sdkClient(t, at, 'ws', 'alice', { resume: true })
  alice.onResume(() => alice.close(1000, 'not wanted'))
  await assert.rejects(alice.connect(), { code: 'GATE_CLIENT_CLOSED' })
  assert.deepEqual(alice.states.map(s => s.status), ['connecting', 'disconnected'])
})
