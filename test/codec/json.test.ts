import { Type } from '@sinclair/typebox'
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { CloseCode } from '../../src/close-codes.js'
import { JsonProcessor } from '../../src/codec/json.js'
import { MessageRegistry } from '../../src/messages.js'
import { ProtocolError } from '../../src/protocol-error.js'
import { assertEchoes, connectAgent, expectOnlyOffenderClosed, registerTestMessages, sendPayload, startCore, transports } from '../helper.js'

const registry = new MessageRegistry()
registry.register('Echo', { schema: Type.Object({ text: Type.String() }) })
registry.register('We"ird\\name')
registry.freeze()

function processor (): JsonProcessor {
  const p = new JsonProcessor()
  p.init(registry)
  return p
}

function closeCodeOf (fn: () => unknown): number {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `a ProtocolError, got ${String(err)}`)
    return err.closeCode
  }
  assert.fail('no error thrown')
}

/** docs/protocol.md section 1, JSON: each bad payload and the close code it causes. */
const badPayloads: Array<{ what: string, payload: string, code: number }> = [
  { what: 'not JSON', payload: 'this is not json', code: CloseCode.PROTOCOL_ERROR },
  { what: 'truncated JSON', payload: '{"Echo":{"text":"a"}', code: CloseCode.PROTOCOL_ERROR },
  { what: 'a string', payload: '"Echo"', code: CloseCode.PROTOCOL_ERROR },
  { what: 'a number', payload: '42', code: CloseCode.PROTOCOL_ERROR },
  { what: 'null', payload: 'null', code: CloseCode.PROTOCOL_ERROR },
  { what: 'an array', payload: '[{"Echo":{"text":"a"}}]', code: CloseCode.PROTOCOL_ERROR },
  { what: 'zero keys', payload: '{}', code: CloseCode.PROTOCOL_ERROR },
  { what: 'two keys', payload: '{"Echo":{"text":"a"},"Login":{"uid":"u"}}', code: CloseCode.PROTOCOL_ERROR },
  { what: 'an unregistered name', payload: '{"Nope":{}}', code: CloseCode.PROTOCOL_ERROR },
  { what: 'an inherited property name', payload: '{"toString":{}}', code: CloseCode.PROTOCOL_ERROR },
  { what: 'a __proto__ envelope', payload: '{"__proto__":{"polluted":true}}', code: CloseCode.PROTOCOL_ERROR },
  { what: 'a __proto__ key in the body', payload: '{"Echo":{"text":"a","__proto__":{"polluted":true}}}', code: CloseCode.PROTOCOL_ERROR },
  { what: 'a constructor.prototype envelope', payload: '{"constructor":{"prototype":{"polluted":true}}}', code: CloseCode.PROTOCOL_ERROR },
  { what: 'a constructor.prototype key in the body', payload: '{"Echo":{"text":"a","constructor":{"prototype":{"polluted":true}}}}', code: CloseCode.PROTOCOL_ERROR },
  { what: 'a body failing the schema', payload: '{"Echo":{"text":5}}', code: CloseCode.INVALID_PAYLOAD },
  { what: 'a body missing a required field', payload: '{"Echo":{}}', code: CloseCode.INVALID_PAYLOAD },
  { what: 'a login whose uid is a number', payload: '{"Login":{"uid":5}}', code: CloseCode.INVALID_PAYLOAD },
  { what: 'a body that is a number', payload: '{"Echo":5}', code: CloseCode.INVALID_PAYLOAD },
  { what: 'a body that is a string', payload: '{"Echo":"text"}', code: CloseCode.INVALID_PAYLOAD },
  { what: 'a body that is null', payload: '{"Echo":null}', code: CloseCode.INVALID_PAYLOAD },
  { what: 'a body that is an array', payload: '{"Echo":[]}', code: CloseCode.INVALID_PAYLOAD }
]

describe('JsonProcessor', () => {
  test('decodes a valid envelope', () => {
    const { def, body } = processor().decode(Buffer.from('{"Echo":{"text":"hi"}}'))
    assert.equal(def.name, 'Echo')
    assert.deepEqual(body, { text: 'hi' })
  })

  test('encodes {"name":body}, escaping the name', () => {
    const p = processor()
    const def = registry.get('We"ird\\name')!
    assert.deepEqual(JSON.parse(p.encode(def, { a: 1 }).toString()), { 'We"ird\\name': { a: 1 } })
    assert.deepEqual(JSON.parse(p.encode(def, undefined).toString()), { 'We"ird\\name': {} })
  })

  test('envelope errors are 1002 and body-shape errors are 1007', () => {
    const p = processor()
    for (const { what, payload, code } of badPayloads) {
      // Schema checks happen in the gate, not the processor.
      if (what.includes('schema') || what.includes('required') || what.includes('uid is a number')) continue
      assert.equal(closeCodeOf(() => p.decode(Buffer.from(payload))), code, what)
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
  })
})

for (const transport of transports) {
  describe(`JSON over ${transport}: bad input closes only the offender`, () => {
    for (const { what, payload, code } of badPayloads) {
      test(`${what} → ${code}`, async (t) => {
        await expectOnlyOffenderClosed(t, { transport, code, send: client => sendPayload(client, Buffer.from(payload)) })
        assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is not polluted')
      })
    }

    const afterLogin: Array<[string, string, number]> = [
      ['an unregistered name', '{"Nope":{}}', CloseCode.PROTOCOL_ERROR],
      ['a schema failure', '{"Secret":{"text":["not","a","string"]}}', CloseCode.INVALID_PAYLOAD]
    ]
    for (const [what, payload, code] of afterLogin) {
      test(`${what} after login → ${code}`, async (t) => {
        await expectOnlyOffenderClosed(t, {
          transport,
          code,
          send: async (client) => {
            client.send('Login', { uid: 'u1' })
            assert.equal((await client.next()).body.text, 'welcome u1')
            sendPayload(client, Buffer.from(payload))
          }
        })
      })
    }

    test('invalid UTF-8 inside a binary frame or TCP payload → 1007', async (t) => {
      const payload = Buffer.concat([Buffer.from('{"Echo":{"text":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')])
      await expectOnlyOffenderClosed(t, { transport, code: CloseCode.INVALID_PAYLOAD, send: client => sendPayload(client, payload) })
    })

    test('a valid envelope is decoded and answered', async (t) => {
      const s = await startCore(t, {}, registerTestMessages)
      const { client, agent } = await connectAgent(s, transport)
      sendPayload(client, Buffer.from('{"Echo":{"text":"héllo","n":3}}'))
      assert.deepEqual(await client.next(), { name: 'Echo', body: { text: 'héllo', n: 3 } })
      assert.equal(agent.isOpen, true)
    })
  })
}

describe('JSON over WebSocket frames', () => {
  test('text and binary messages are both accepted; replies are binary by default', async (t) => {
    const s = await startCore(t, {}, registerTestMessages)
    const client = await s.ws()
    const kinds: boolean[] = []
    client.ws.on('message', (_data, isBinary) => kinds.push(isBinary))
    client.sendRaw('{"Echo":{"text":"as text"}}')
    assert.equal((await client.next()).body.text, 'as text')
    client.sendRaw(Buffer.from('{"Echo":{"text":"as binary"}}'))
    assert.equal((await client.next()).body.text, 'as binary')
    assert.deepEqual(kinds, [true, true])
  })

  test('textFrames sends JSON payloads as text frames', async (t) => {
    const s = await startCore(t, { textFrames: true }, registerTestMessages)
    const client = await s.ws()
    const kinds: boolean[] = []
    client.ws.on('message', (_data, isBinary) => kinds.push(isBinary))
    await assertEchoes(client)
    assert.deepEqual(kinds, [false])
  })

  test('a text frame that is not valid UTF-8 closes with 1007', async (t) => {
    await expectOnlyOffenderClosed(t, {
      transport: 'ws',
      code: CloseCode.INVALID_PAYLOAD,
      send: (client) => {
        // ws checks UTF-8 on text frames; the client lib refuses to build a bad one, so write the frame by hand.
        const ws = (client as import('../clients.js').WsClient).ws as unknown as { _socket: import('node:net').Socket }
        const body = Buffer.from([0xff, 0xfe, 0xfd])
        const mask = Buffer.from([1, 2, 3, 4])
        const masked = Buffer.from(body.map((b, i) => b ^ mask[i % 4]))
        ws._socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | body.length]), mask, masked]))
      }
    })
  })
})
