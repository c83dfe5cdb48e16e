import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeEnvelope, encodeEnvelope, type Header } from '../../src/cluster/envelope.js'

test('an envelope carries its header and the payload bytes unchanged', () => {
  const header: Header = { t: 'req', id: 7, from: 'a', head: { op: 'push', uids: ['u'], msg: { name: 'Echo', text: false } } }
  const payload = Buffer.from([0, 1, 2, 0xff, 0x7b])
  const decoded = decodeEnvelope(encodeEnvelope(header, payload))
  assert.deepEqual(decoded?.header, header)
  assert.deepEqual(decoded?.payload, payload)
  const answer = decodeEnvelope(encodeEnvelope({ t: 'res', id: 7, from: 'b', n: 3 }))
  assert.deepEqual(answer, { header: { t: 'res', id: 7, from: 'b', n: 3 }, payload: Buffer.alloc(0) })
})

test('bytes that are not an envelope (or a request without an op) decode to undefined', () => {
  const json = Buffer.from('{"t":"nope"}')
  const withLength = (len: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, len]), body])
  const headless = Buffer.from('{"t":"req","id":1,"from":"a"}')
  for (const bytes of [Buffer.alloc(0), Buffer.from([0, 0]), withLength(50, json), withLength(json.length, json), withLength(3, Buffer.from('{x}')), withLength(4, Buffer.from('null')), withLength(headless.length, headless)]) {
    assert.equal(decodeEnvelope(bytes), undefined, bytes.toString('hex'))
  }
})
