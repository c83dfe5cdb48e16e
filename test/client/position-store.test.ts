/**
 * What the SDK's `resume.store` keeps (client/position.ts, docs/client.md,
 * Resume): the bare uid position while no room has a position (the format of
 * before), else JSON with the rooms' positions; and a new client instance
 * with the same store (a reload, a restarted process) resumes its rooms too.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import type { PositionStore, RoomResumeInfo } from '../../client/node.js'
import { storedPositions, storeValue } from '../../client/position.js'
import { until } from '../helper.js'
import { chatOn, freePort, sdkClient, type Addresses, type SdkClient } from './helper.js'

const none = { pos: '', rooms: new Map<string, string>() }

test('storeValue and storedPositions: the bare uid position without room positions, JSON with them; both read back', () => {
  assert.equal(storeValue('E:7', new Map()), 'E:7', 'no room: the old format, byte for byte')
  assert.equal(storeValue('E:7', new Map([['lobby', '']])), 'E:7', 'a room without a position yet is not kept')
  assert.equal(storeValue('', new Map()), '')
  const rooms = new Map([['lobby', 'R:3'], ['a "quoted" room', 'Q:0'], ['__proto__', 'P:1']])
  const value = storeValue('E:7', rooms)
  assert.deepEqual(JSON.parse(value), { pos: 'E:7', rooms: { lobby: 'R:3', 'a "quoted" room': 'Q:0', ['__proto__']: 'P:1' } })
  assert.deepEqual(storedPositions(value), { pos: 'E:7', rooms })
  assert.deepEqual(storedPositions(storeValue('', new Map([['lobby', 'R:3']]))), { pos: '', rooms: new Map([['lobby', 'R:3']]) }, 'rooms before any uid position')
})

test('storedPositions: a value not starting with { is the old bare uid position', () => {
  assert.deepEqual(storedPositions('E:7'), { pos: 'E:7', rooms: new Map() })
  assert.deepEqual(storedPositions('Qm9_xY1a:1234'), { pos: 'Qm9_xY1a:1234', rooms: new Map() })
  assert.deepEqual(storedPositions(''), none)
})

test('storedPositions: garbage is no position, never an exception', () => {
  for (const garbage of [null, undefined, 7, {}, '{', '{"pos":', '{}', '{"pos":7,"rooms":[]}', '{"rooms":"x"}', '{"rooms":null}']) {
    assert.deepEqual(storedPositions(garbage), none, JSON.stringify(garbage))
  }
  assert.deepEqual(storedPositions('{"pos":"E:1","rooms":{"lobby":3,"":"R:1","ok":"R:2","empty":""}}'), { pos: 'E:1', rooms: new Map([['ok', 'R:2']]) }, 'what is usable is kept')
})

async function say (app: FastifyInstance, content: string): Promise<void> {
  await app.gate.pushToRoom('lobby', 'S2C_Message', { from_uid: 'bob', room: 'lobby', content, ts: Date.now() })
}

/** The room messages the client delivered, and its room resumes. */
function record (client: SdkClient): { contents: string[], resumes: RoomResumeInfo[] } {
  const seen = { contents: [] as string[], resumes: [] as RoomResumeInfo[] }
  client.on('S2C_Message', m => { if (m.gate_room === 'lobby') seen.contents.push(m.content) })
  client.onRoomResume(r => seen.resumes.push(r))
  return seen
}

test('a new client with the same store (a reload) resumes its room from the stored room position: only what it had not seen, once, in order', async (t) => {
  const [port, tcpPort] = [await freePort(), await freePort()]
  const at: Addresses = { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws`, tcp: tcpPort }
  const chat = await chatOn(t, 'json', port, tcpPort)
  let saved: string | undefined
  const store: PositionStore = { get: () => saved, set: (value) => { saved = value } }

  const first = await sdkClient(t, at, 'ws', 'alice', { resume: { store } })
  const seen1 = record(first)
  await first.connect()
  assert.equal(saved, first.position, 'no room position yet: the bare uid position')
  await first.subscribe('lobby')
  for (const n of [1, 2]) await say(chat.app, `r${n}`)
  await until(() => seen1.contents.length === 2, 5000, 'r1 and r2')
  assert.deepEqual(storedPositions(saved), { pos: first.position, rooms: new Map([['lobby', first.roomPosition('lobby')!]]) })
  first.close()
  await until(async () => (await chat.app.gate.user('alice')) === null, 5000, 'alice offline')
  for (const n of [3, 4]) await say(chat.app, `r${n}`)

  const second = await sdkClient(t, at, 'tcp', 'alice', { resume: { store } })
  const seen2 = record(second)
  await second.connect()
  const resumed = await second.subscribe('lobby')
  assert.equal(resumed?.recovered, true, JSON.stringify(resumed))
  assert.equal(resumed?.from, first.roomPosition('lobby'), 'the subscribe sent the stored room position')
  await until(() => seen2.contents.length >= 2, 5000, 'r3 and r4')
  await say(chat.app, 'r5')
  await until(() => seen2.contents.length >= 3, 5000, 'r5')
  assert.deepEqual(seen2.contents, ['r3', 'r4', 'r5'], 'only what the first client had not seen, then live')
  assert.deepEqual(seen2.resumes, [resumed])

  await second.unsubscribe('lobby')
  assert.equal(saved, second.position, 'unsubscribed: the room is dropped from the store, back to the bare uid position')
})
