import { Type } from '@sinclair/typebox'
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import protobuf from 'protobufjs'
import Fastify from 'fastify'
import gatePlugin from '../../plugins/gate.js'
import { CloseCode } from '../../src/close-codes.js'
import { ProtobufProcessor } from '../../src/codec/protobuf.js'
import { MessageRegistry } from '../../src/messages.js'
import { ProtocolError } from '../../src/protocol-error.js'
import { Wire } from '../clients.js'
import {
  assertEchoes, connectAgent, encodingOptions, expectOnlyOffenderClosed, registerTestMessages, sendPayload,
  startCore, testProto, testWire, transports
} from '../helper.js'

const protobufOpts = encodingOptions('protobuf')

/** `| id : uint16 | body |` built by hand. */
function payload (id: number, body: number[] | Buffer = [], littleEndian = false): Buffer {
  const head = Buffer.alloc(2)
  if (littleEndian) head.writeUInt16LE(id); else head.writeUInt16BE(id)
  return Buffer.concat([head, Buffer.from(body)])
}

describe('ProtobufProcessor', () => {
  const registry = (): MessageRegistry => {
    const r = new MessageRegistry()
    r.register('Echo')
    r.register('Login')
    r.freeze()
    return r
  }

  test('ids follow registration order, big-endian by default', () => {
    const p = new ProtobufProcessor({ root: testProto }, false)
    const r = registry()
    p.init(r)
    const out = p.encode(r.get('Login')!, { uid: 'u1' })
    assert.deepEqual([...out.subarray(0, 2)], [0, 1])
    const { def, body } = p.decode(out)
    assert.equal(def.name, 'Login')
    assert.deepEqual(body, { uid: 'u1' })
  })

  test('littleEndian puts the low id byte first', () => {
    const p = new ProtobufProcessor({ root: protobuf.loadSync(testProto) }, true)
    const r = registry()
    p.init(r)
    assert.deepEqual([...p.encode(r.get('Login')!, { uid: 'x' }).subarray(0, 2)], [1, 0])
    assert.equal(p.decode(payload(1, [], true)).def.name, 'Login')
  })

  test('short payloads and unknown ids are 1002, undecodable bodies 1007', () => {
    const p = new ProtobufProcessor({ root: testProto }, false)
    p.init(registry())
    const codeOf = (bytes: Buffer): number => {
      try {
        p.decode(bytes)
      } catch (err) {
        assert.ok(err instanceof ProtocolError)
        return err.closeCode
      }
      return 0
    }
    assert.equal(codeOf(Buffer.alloc(0)), CloseCode.PROTOCOL_ERROR)
    assert.equal(codeOf(Buffer.from([0])), CloseCode.PROTOCOL_ERROR)
    assert.equal(codeOf(payload(2)), CloseCode.PROTOCOL_ERROR)
    assert.equal(codeOf(payload(0xffff)), CloseCode.PROTOCOL_ERROR)
    assert.equal(codeOf(payload(0, [0x0a, 0x05, 0x61])), CloseCode.INVALID_PAYLOAD)
    // field 5 (unknown to Echo) with wire type 7, which does not exist
    assert.equal(codeOf(payload(0, [0x2f])), CloseCode.INVALID_PAYLOAD)
    assert.equal(codeOf(payload(0)), 0, 'an empty body is a valid message with defaults')
  })

  test('a registered name with no type in the schema fails at ready (FST_GATE_INVALID_MESSAGE)', async () => {
    const app = Fastify()
    await app.register(gatePlugin, { ...protobufOpts, admin: false })
    app.gate.message('NotInTheProto')
    await assert.rejects(async () => { await app.ready() }, { code: 'FST_GATE_INVALID_MESSAGE' })
    await app.close()
  })
})

for (const transport of transports) {
  describe(`protobuf over ${transport}`, () => {
    for (const littleEndian of [false, true]) {
      test(`round trip with default ids, ${littleEndian ? 'little' : 'big'}-endian`, async (t) => {
        const s = await startCore(t, { ...protobufOpts, littleEndian }, registerTestMessages)
        const { client } = await connectAgent(s, transport, testWire('protobuf', { littleEndian }))
        client.send('Echo', { text: 'hé', n: -7 })
        assert.deepEqual(await client.next(), { name: 'Echo', body: { text: 'hé', n: -7 } })
        client.send('Login', { uid: 'u1' })
        assert.deepEqual(await client.next(), { name: 'Echo', body: { text: 'welcome u1', n: 0 } })
        client.send('Secret', { text: 's' })
        assert.equal((await client.next()).body.text, 'secret s')
      })
    }

    test('the id on the wire is the registration index (hand-built bytes)', async (t) => {
      const s = await startCore(t, protobufOpts, registerTestMessages)
      const { client } = await connectAgent(s, transport, testWire('protobuf'))
      // Echo is id 0; field 1 (text) = "ab".
      sendPayload(client, payload(0, [0x0a, 0x02, 0x61, 0x62]))
      assert.deepEqual(await client.next(), { name: 'Echo', body: { text: 'ab', n: 0 } })
    })

    test('explicit ids (the ids option and per-message ids) are used on the wire', async (t) => {
      const ids = { Echo: 300, Login: 7, Secret: 0xffff }
      const s = await startCore(t, { ...protobufOpts, ids }, registerTestMessages)
      assert.deepEqual(s.app.gate.protocol().messages, [
        { id: 7, name: 'Login', needsLogin: false },
        { id: 300, name: 'Echo', needsLogin: false },
        { id: 0xffff, name: 'Secret', needsLogin: true }
      ])
      const root = protobuf.loadSync(testProto)
      const { client } = await connectAgent(s, transport, new Wire({ encoding: 'protobuf', root, ids }))
      await assertEchoes(client)
      client.send('Login', { uid: 'u2' })
      assert.equal((await client.next()).body.text, 'welcome u2')
      client.send('Secret', { text: 'x' })
      assert.equal((await client.next()).body.text, 'secret x')
      // The registration-order id of Echo (0) is not in the table any more.
      sendPayload(client, payload(0, [0x0a, 0x01, 0x61]))
      assert.equal((await client.closed).code, transport === 'ws' ? CloseCode.PROTOCOL_ERROR : -1)
    })

    test('per-message explicit ids', async (t) => {
      const s = await startCore(t, protobufOpts, (app) => {
        app.gate.message('Login', { id: 10, login: true, schema: Type.Object({ uid: Type.String() }) }, async (msg, agent) => { await agent.bind(msg.uid) })
        app.gate.message('Echo', { id: 20, needsLogin: false }, (msg, agent) => { agent.send('Echo', msg) })
      })
      const root = protobuf.loadSync(testProto)
      const { client } = await connectAgent(s, transport, new Wire({ encoding: 'protobuf', root, ids: { Login: 10, Echo: 20 } }))
      await assertEchoes(client, 'by explicit id')
    })

    const bad: Array<{ what: string, bytes: Buffer, code: number, opts?: object }> = [
      { what: 'a 1-byte payload', bytes: Buffer.from([0]), code: CloseCode.PROTOCOL_ERROR },
      { what: 'an unknown id', bytes: payload(999, [0x0a, 0x01, 0x61]), code: CloseCode.PROTOCOL_ERROR },
      { what: 'an id past the table by one', bytes: payload(3), code: CloseCode.PROTOCOL_ERROR },
      { what: 'a truncated body', bytes: payload(0, [0x0a, 0x05, 0x61]), code: CloseCode.INVALID_PAYLOAD },
      { what: 'a body with an invalid wire type', bytes: payload(0, [0x2f, 0x01]), code: CloseCode.INVALID_PAYLOAD },
      { what: 'a body of the wrong type for the schema', bytes: payload(1, [0x0a, 0x80]), code: CloseCode.INVALID_PAYLOAD },
      // Echo.text = 0xc3 0x28: a lead byte followed by a byte that is not a continuation
      { what: 'a string field with invalid UTF-8', bytes: payload(0, [0x0a, 0x02, 0xc3, 0x28]), code: CloseCode.INVALID_PAYLOAD },
      // Login.uid = an encoded UTF-16 surrogate (CESU-8), which UTF-8 forbids
      { what: 'a string field holding an encoded surrogate', bytes: payload(1, [0x0a, 0x03, 0xed, 0xa0, 0x80]), code: CloseCode.INVALID_PAYLOAD }
    ]
    for (const { what, bytes, code } of bad) {
      test(`${what} → ${code}, only that connection`, async (t) => {
        await expectOnlyOffenderClosed(t, { transport, encoding: 'protobuf', code, send: client => sendPayload(client, bytes) })
      })
    }

    test('an empty payload → 1002', async (t) => {
      // TCP needs minMsgLen 0 to let an empty frame through to the processor.
      await expectOnlyOffenderClosed(t, { transport, encoding: 'protobuf', opts: { minMsgLen: 0 }, code: CloseCode.PROTOCOL_ERROR, send: client => sendPayload(client, Buffer.alloc(0)) })
    })

    test('little-endian: a big-endian id is unknown → 1002', async (t) => {
      await expectOnlyOffenderClosed(t, {
        transport,
        encoding: 'protobuf',
        opts: { littleEndian: true },
        code: CloseCode.PROTOCOL_ERROR,
        send: client => sendPayload(client, payload(1, [0x0a, 0x01, 0x61], false))
      })
    })
  })
}

describe('protobuf protocol description', () => {
  test('protocol() serves the id table and the schema descriptor', async (t) => {
    const s = await startCore(t, protobufOpts, registerTestMessages)
    const p = s.app.gate.protocol()
    assert.equal(p.encoding, 'protobuf')
    assert.deepEqual((p.messages as Array<{ id: number, name: string }>).map(m => [m.id, m.name]), [[0, 'Echo'], [1, 'Login'], [2, 'Secret']])
    const root = protobuf.Root.fromJSON(p.schema as protobuf.INamespace)
    assert.ok(root.lookupType('Echo'))
  })
})
