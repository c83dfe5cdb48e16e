import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { isSubprotocolName, offeredSubprotocols, selectSubprotocol } from '../../src/transport/subprotocol.js'

describe('Sec-WebSocket-Protocol', () => {
  test('offers are the comma-separated names, trimmed, in the client\'s order', () => {
    assert.deepEqual(offeredSubprotocols(undefined), [])
    assert.deepEqual(offeredSubprotocols('mqtt'), ['mqtt'])
    assert.deepEqual(offeredSubprotocols('foo, mqtt'), ['foo', 'mqtt'])
    assert.deepEqual(offeredSubprotocols(' foo ,\tmqtt,bar '), ['foo', 'mqtt', 'bar'])
    // Two headers, as Node joins them.
    assert.deepEqual(offeredSubprotocols('foo, mqtt, bar'), ['foo', 'mqtt', 'bar'])
    // Malformed headers are ws's to refuse; nothing here throws.
    assert.deepEqual(offeredSubprotocols(',, ,'), [])
  })

  test('the first offer the protocol speaks is selected, by the client\'s order; names are case-sensitive', () => {
    assert.equal(selectSubprotocol(['foo', 'mqtt'], ['mqtt']), 'mqtt')
    assert.equal(selectSubprotocol(['b', 'a'], ['a', 'b']), 'b')
    assert.equal(selectSubprotocol(new Set(['a', 'b']), ['b', 'a']), 'a')
    assert.equal(selectSubprotocol(['MQTT', 'mqttv3.1'], ['mqtt']), undefined)
    assert.equal(selectSubprotocol([], ['mqtt']), undefined)
  })

  test('a subprotocol name is an HTTP token', () => {
    for (const name of ['mqtt', 'mqttv3.1', 'chat.v2', 'x-y_z~1']) assert.equal(isSubprotocolName(name), true, name)
    for (const name of ['', 'a b', 'a,b', 'a"b', 'é', 'a/b']) assert.equal(isSubprotocolName(name), false, name)
  })
})
