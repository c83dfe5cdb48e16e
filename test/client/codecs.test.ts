import assert from 'node:assert/strict'
import { test } from 'node:test'
import protobuf from 'protobufjs'
import { PROTO_PATH } from '../../examples/chat/app.js'
import { json, protobufCodec } from '../../client/index.js'
import { CHAT_MESSAGES, chatWire } from '../example/helper.js'
import { Wire } from '../clients.js'

const root = new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true })

test('json: text and bytes decode alike; a payload that is not a one-key object throws', () => {
  const codec = json()
  assert.equal(codec.encode('A', { x: 1 }), '{"A":{"x":1}}')
  assert.deepEqual(codec.decode('{"A":{"x":1}}'), { name: 'A', body: { x: 1 } })
  assert.deepEqual(codec.decode(new TextEncoder().encode('{"A":{"x":1}}')), { name: 'A', body: { x: 1 } })
  for (const bad of ['[]', 'null', '{}', '{"A":{},"B":{}}', 'nope']) assert.throws(() => codec.decode(bad), Error, bad)
  assert.throws(() => codec.decode(new Uint8Array([0x7b, 0xff, 0x7d])), TypeError, 'invalid UTF-8')
  assert.throws(() => codec.encode('', {}), { code: 'GATE_CLIENT_BAD_MESSAGE' })
})

test('protobuf: the bytes are those of the protocol (test/clients.ts), big- and little-endian, from a Root or its JSON descriptor', () => {
  for (const littleEndian of [false, true]) {
    const reference = new Wire({ ...chatWire('protobuf').opts, littleEndian })
    for (const codec of [
      protobufCodec({ root, ids: CHAT_MESSAGES, littleEndian }),
      protobufCodec({ root: root.toJSON(), ids: Object.fromEntries(CHAT_MESSAGES.map((n, i) => [n, i])), littleEndian })
    ]) {
      const body = { from_uid: 'alice', to_uid: 'bob', room: '', content: 'héllo', ts: 1700000000000 }
      const bytes = codec.encode('S2C_Message', body) as Uint8Array
      assert.deepEqual(Buffer.from(bytes), reference.encode('S2C_Message', body))
      assert.deepEqual(codec.decode(bytes), reference.decode(Buffer.from(bytes)))
      assert.throws(() => codec.encode('S2C_Message', { ts: 'x' }), { code: 'GATE_CLIENT_BAD_MESSAGE' })
      assert.throws(() => codec.encode('Nope', {}), { code: 'GATE_CLIENT_BAD_MESSAGE' })
      assert.throws(() => codec.decode(new Uint8Array([0])), /shorter/)
      assert.throws(() => codec.decode(new Uint8Array([0, 99])), /not in the id table/)
      assert.throws(() => codec.decode('text'), /as text/)
    }
  }
})
