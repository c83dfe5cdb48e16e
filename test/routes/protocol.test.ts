import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodingOptions } from '../helper.js'
import { call, ok, startAdmin } from './helper.js'

test('GET /gate/protocol serves the framing and the id table, without a token', async (t) => {
  const s = await startAdmin(t, { lenMsgLen: 4, littleEndian: true, maxMsgLen: 8192 })
  const res = await call(s, { url: '/gate/protocol', token: null })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), {
    encoding: 'json',
    lenMsgLen: 4,
    littleEndian: true,
    maxMsgLen: 8192,
    minMsgLen: 1,
    messages: [
      { id: 0, name: 'Echo', needsLogin: false },
      { id: 1, name: 'Login', needsLogin: false },
      { id: 2, name: 'Secret', needsLogin: true }
    ]
  })
})

test('GET /gate/protocol in protobuf mode also serves the schema as a protobufjs JSON descriptor', async (t) => {
  const s = await startAdmin(t, encodingOptions('protobuf'))
  const protocol = await ok(s, { url: '/gate/protocol' })
  assert.equal(protocol.encoding, 'protobuf')
  assert.deepEqual(protocol.messages.map((m: { id: number, name: string }) => [m.id, m.name]), [[0, 'Echo'], [1, 'Login'], [2, 'Secret']])
  assert.ok(JSON.stringify(protocol.schema).includes('"Echo"'), 'the descriptor names the messages')
  assert.equal(typeof protocol.schema.nested, 'object')
})
