import assert from 'node:assert/strict'
import { test } from 'node:test'
import protobuf from 'protobufjs'
import { JsonProcessor } from '../../src/codec/json.js'
import { ProtobufProcessor } from '../../src/codec/protobuf.js'
import { MemoryHistoryStore } from '../../src/history/memory-store.js'
import { normalizeHistoryOptions } from '../../src/history/options.js'
import { positioner } from '../../src/history/positioned.js'
import { formatPosition, parsePosition } from '../../src/history/store.js'
import { MessageRegistry } from '../../src/messages.js'
import { historyProto } from './app.js'

test('positions: "<epoch>:<offset>" round-trips; anything else is not one', () => {
  assert.deepEqual(parsePosition(formatPosition({ epoch: 'k3J_d-9x', offset: 42 })), { epoch: 'k3J_d-9x', offset: 42 })
  for (const bad of ['', ':1', 'e:', 'e:-1', 'e:1.5', 'e:01', 'e:x', 'e'.repeat(65) + ':1']) assert.equal(parsePosition(bad), undefined, bad)
})

test('JSON: the position is added as the last field, also to an empty body, and the payload still parses', () => {
  const registry = new MessageRegistry()
  const def = registry.register('Note', {})
  registry.freeze()
  const json = new JsonProcessor()
  json.init(registry)
  const add = positioner(json, def, 'gate_pos')
  assert.equal(add(json.encode(def, { a: 1 }), 'e:7').toString(), '{"Note":{"a":1,"gate_pos":"e:7"}}')
  assert.equal(add(json.encode(def, {}), 'e:7').toString(), '{"Note":{"gate_pos":"e:7"}}')
  assert.deepEqual(json.decode(add(json.encode(def, { s: '}}{' }), 'e:8')).body, { s: '}}{', gate_pos: 'e:8' })
})

test('protobuf: the position is appended as its string field and decodes; a type without the field is refused', () => {
  const registry = new MessageRegistry()
  const note = registry.register('Note', {})
  const hello = registry.register('Hello', {})
  registry.freeze()
  const pb = new ProtobufProcessor({ root: new protobuf.Root().loadSync(historyProto, { keepCase: true }) }, false)
  pb.init(registry)
  const payload = positioner(pb, note, 'gate_pos')(pb.encode(note, { text: 'hi', n: 3 }), 'e:9')
  assert.deepEqual(pb.decode(payload).body, { text: 'hi', n: 3, gate_pos: 'e:9' })
  assert.throws(() => positioner(pb, hello, 'gate_pos'), { code: 'FST_GATE_INVALID_MESSAGE' })
})

test('memory store: offsets 1, 2, 3… per uid; caps by count and age; maxStreams forgets the least recently written', async () => {
  let now = 1_000_000
  const store = new MemoryHistoryStore(normalizeHistoryOptions({ maxCount: 3, maxAge: 1000, maxStreams: 2 }), () => now)
  const p = Buffer.from('x')
  for (let i = 1; i <= 5; i++) assert.equal((await store.append('a', 'Note', false, p)).offset, i)
  let r = await store.read('a', 0, 10)
  assert.deepEqual([r.first, r.last, r.items.map(i => i.offset)], [3, 5, [3, 4, 5]])
  now += 600
  await store.append('a', 'Note', false, p)
  now += 500
  r = await store.read('a', 0, 10)
  assert.deepEqual([r.first, r.last, r.items.map(i => i.offset)], [6, 6, [6]], 'the three older ones expired')
  const epochA = r.epoch
  await store.append('b', 'Note', false, p)
  await store.append('c', 'Note', false, p)
  assert.equal(store.size, 2)
  assert.equal((await store.read('a', 0, 10)).epoch, '', 'a was forgotten')
  const again = await store.append('a', 'Note', false, p)
  assert.notEqual(again.epoch, epochA)
  assert.equal(again.offset, 1)
  now += 5000
  store.sweep(now)
  assert.equal(store.size, 0, 'streams with nothing left are dropped')
})

test('history options are checked at register time', () => {
  assert.throws(() => normalizeHistoryOptions({ maxCount: 0 }), { code: 'FST_GATE_INVALID_OPTION' })
  assert.throws(() => normalizeHistoryOptions({ field: 'a b' }), { code: 'FST_GATE_INVALID_OPTION' })
  assert.throws(() => normalizeHistoryOptions({ nope: 1 } as object), { code: 'FST_GATE_INVALID_OPTION' })
})
