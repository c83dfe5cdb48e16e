import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import Fastify from 'fastify'
import gatePlugin, { type GatePluginOptions } from '../plugins/gate.js'
import { JsonProcessor } from '../src/codec/json.js'
import { defaults, normalizeCoreOptions } from '../src/options.js'
import { leafProtocol } from '../src/protocol/leaf.js'
import { WsClient } from './clients.js'
import { assertEchoes, registerTestMessages, startCore, testProto } from './helper.js'

/** Options that must be refused, and the option the error must name. */
const invalid: Array<[string, GatePluginOptions, string]> = [
  ['maxConnNum 0', { maxConnNum: 0 }, 'maxConnNum'],
  ['maxConnNum not an integer', { maxConnNum: 1.5 }, 'maxConnNum'],
  ['maxConnNum a string', { maxConnNum: '10' as unknown as number }, 'maxConnNum'],
  ['pendingWriteNum (replaced by maxBufferedBytes)', { pendingWriteNum: 1024 } as GatePluginOptions, 'pendingWriteNum'],
  ['maxBufferedBytes under one message', { maxBufferedBytes: 100 }, 'maxBufferedBytes'],
  ['msgRate negative', { msgRate: -1 }, 'msgRate'],
  ['msgRatePerIp negative', { msgRatePerIp: -1 }, 'msgRatePerIp'],
  ['maxRooms 0', { maxRooms: 0 }, 'maxRooms'],
  ['maxMessageParts 0', { maxMessageParts: 0 }, 'maxMessageParts'],
  ['requestBodyTimeout negative', { requestBodyTimeout: -1 }, 'requestBodyTimeout'],
  ['keepAliveTimeout a string', { keepAliveTimeout: '5' as unknown as number }, 'keepAliveTimeout'],
  ['maxConnPerIp not an integer', { maxConnPerIp: 1.5 }, 'maxConnPerIp'],
  ['connRatePerIp a string', { connRatePerIp: '5' as unknown as number }, 'connRatePerIp'],
  ['loginTimeout negative', { loginTimeout: -1 }, 'loginTimeout'],
  ['headersTimeout negative', { headersTimeout: -1 }, 'headersTimeout'],
  ['shutdownTimeout 0', { shutdownTimeout: 0 }, 'shutdownTimeout'],
  ['pendingReadNum negative', { pendingReadNum: -1 }, 'pendingReadNum'],
  ['lenMsgLen 3', { lenMsgLen: 3 as 2 }, 'lenMsgLen'],
  ['maxMsgLen over what lenMsgLen 1 can carry', { lenMsgLen: 1, maxMsgLen: 256 }, 'maxMsgLen'],
  ['maxMsgLen over what lenMsgLen 2 can carry', { maxMsgLen: 65536 }, 'maxMsgLen'],
  ['maxMsgLen 0', { maxMsgLen: 0 }, 'maxMsgLen'],
  ['minMsgLen over maxMsgLen', { maxMsgLen: 10, minMsgLen: 11 }, 'minMsgLen'],
  ['minMsgLen negative', { minMsgLen: -1 }, 'minMsgLen'],
  ['littleEndian not a boolean', { littleEndian: 'yes' as unknown as boolean }, 'littleEndian'],
  ['idleTimeout negative', { idleTimeout: -1 }, 'idleTimeout'],
  ['idleTimeout over a timer\'s range', { idleTimeout: 2 ** 31 }, 'idleTimeout'],
  ['closeTimeout 0', { closeTimeout: 0 }, 'closeTimeout'],
  ['an unknown encoding', { encoding: 'xml' as 'json' }, 'encoding'],
  ['a processor missing decode', { encoding: { encoding: 'x', text: true, init () {}, encode: () => Buffer.alloc(0) } as never }, 'encoding'],
  ['protobuf without a schema', { encoding: 'protobuf' }, 'protobuf'],
  ['protobuf with maxMsgLen 1', { encoding: 'protobuf', protobuf: { root: testProto }, maxMsgLen: 1 }, 'maxMsgLen'],
  ['ids not an object', { ids: 5 as unknown as Record<string, number> }, 'ids'],
  ['an unknown multiLogin policy', { multiLogin: 'maybe' as 'allow' }, 'multiLogin'],
  ['a path without a leading slash', { path: 'ws' }, 'path'],
  ['a tcp port out of range', { tcp: { port: 70000 } }, 'tcp.port'],
  ['a tcp port missing', { tcp: {} as { port: number } }, 'tcp.port'],
  ['an empty tcp host', { tcp: { port: 0, host: '' } }, 'tcp.host'],
  ['textFrames not a boolean', { textFrames: 1 as unknown as boolean }, 'textFrames'],
  ['a nodeId with spaces', { nodeId: 'node a' }, 'nodeId']
]

describe('normalizeCoreOptions', () => {
  test('fills every default', () => {
    const o = normalizeCoreOptions({})
    for (const [key, value] of Object.entries(defaults)) assert.deepEqual(o[key as keyof typeof o], value, key)
    assert.match(o.nodeId, /^[0-9a-f]{8}$/)
  })

  test('the default maxMsgLen shrinks to what a 1-byte header can carry', () => {
    assert.equal(normalizeCoreOptions({ lenMsgLen: 1 }).maxMsgLen, 255)
    assert.equal(normalizeCoreOptions({ lenMsgLen: 4 }).maxMsgLen, defaults.maxMsgLen)
  })

  test('undefined values take the default; tcp gets host 127.0.0.1', () => {
    const o = normalizeCoreOptions({ maxConnNum: undefined, tcp: { port: 0 } })
    assert.equal(o.maxConnNum, defaults.maxConnNum)
    assert.deepEqual(o.tcp, { port: 0, host: '127.0.0.1' })
  })

  test('a custom processor is accepted', () => {
    const processor = new JsonProcessor()
    assert.equal(normalizeCoreOptions({ encoding: processor }).encoding, processor)
  })

  for (const [what, opts, option] of invalid) {
    test(`refuses ${what}`, () => {
      assert.throws(() => normalizeCoreOptions(opts), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'FST_GATE_INVALID_OPTION')
        assert.ok(err.message.includes(`"${option}"`), `names ${option}: ${err.message}`)
        return true
      })
    })
  }
})

describe('plugin registration', () => {
  for (const [what, opts] of invalid.slice(0, 8)) {
    test(`app.register fails at register time for ${what}`, async (t) => {
      const app = Fastify()
      t.after(() => app.close())
      await assert.rejects(async () => { await app.register(gatePlugin, opts) }, { code: 'FST_GATE_INVALID_OPTION' })
    })
  }

  test('registering twice on one instance is refused', async (t) => {
    const app = Fastify()
    t.after(() => app.close())
    await app.register(gatePlugin, { admin: false })
    await assert.rejects(async () => { await app.register(gatePlugin, { admin: false }) }, { code: 'FST_GATE_ALREADY_REGISTERED' })
  })

  test('registering a message after ready throws FST_GATE_REGISTRY_FROZEN', async (t) => {
    const s = await startCore(t, {}, registerTestMessages)
    assert.throws(() => s.app.gate.message('Late'), { code: 'FST_GATE_REGISTRY_FROZEN' })
    const client = await s.ws()
    await assertEchoes(client)
  })

  test('explicit ids that do not cover every message fail at ready', async (t) => {
    const app = Fastify()
    t.after(() => app.close())
    await app.register(gatePlugin, { ids: { Echo: 1 }, admin: false })
    registerTestMessages(app)
    await assert.rejects(async () => { await app.ready() }, { code: 'FST_GATE_INVALID_OPTION' })
  })

  test('TCP is off unless asked for; the WebSocket path is configurable', async (t) => {
    const app = Fastify()
    t.after(() => app.close())
    await app.register(gatePlugin, { path: '/gateway', admin: false })
    registerTestMessages(app)
    await app.listen({ port: 0, host: '127.0.0.1' })
    assert.equal(app.gateTcpAddress(), undefined)
    const { port } = app.server.address() as { port: number }
    const client = await WsClient.connect(`ws://127.0.0.1:${port}/gateway`)
    await assertEchoes(client)
    await client.close()
  })
})

/** A custom protocol: leaf's wire under another name. */
const chat = { ...leafProtocol, name: 'chat' }
/** A custom processor with no decodeBody/bodyOf: it cannot carry MQTT, whose topic holds the name. */
const envelopeOnly = { encoding: 'envelope-only', text: true, init () {}, decode: (p: Buffer) => new JsonProcessor().decode(p), encode: () => Buffer.alloc(0) }

/** Plugin options of the listeners (`mqtt`, `protocols[]`) that must be refused at register time, and the option named. */
const invalidListeners: Array<[string, GatePluginOptions, string]> = [
  ['mqtt not an object', { mqtt: 'on' as never }, 'mqtt'],
  ['an unknown mqtt option', { mqtt: { port: 1883 } as never }, 'mqtt.port'],
  ['a negative mqtt.tcp.port', { mqtt: { tcp: { port: -5 } } }, 'mqtt.tcp.port'],
  ['mqtt.tcp without a port', { mqtt: { tcp: {} as never } }, 'mqtt.tcp.port'],
  ['an empty mqtt.tcp.host', { mqtt: { tcp: { port: 0, host: '' } } }, 'mqtt.tcp.host'],
  ['mqtt.tcp.tls not an object', { mqtt: { tcp: { port: 0, tls: 'yes' as never } } }, 'mqtt.tcp.tls'],
  ['an mqtt.path without a leading slash', { mqtt: { path: 'no-slash' } }, 'mqtt.path'],
  ['mqtt.path true', { mqtt: { path: true as never } }, 'mqtt.path'],
  ['MQTT with a processor that cannot decode a body alone', { encoding: envelopeOnly as never, mqtt: {} }, 'mqtt'],
  ['mqtt.maxInflight 0', { mqtt: { maxInflight: 0 } }, 'mqtt.maxInflight'],
  ['mqtt.sessionExpiry a string', { mqtt: { sessionExpiry: '1h' as never } }, 'mqtt.sessionExpiry'],
  ['protocols not an array', { protocols: { protocol: chat } as never }, 'protocols'],
  ['a protocols entry that is not an object', { protocols: [null as never] }, 'protocols[0]'],
  ['a protocols entry without its protocol', { protocols: [{ path: '/chat' } as never] }, 'protocols[0].protocol'],
  ['an unknown key in a protocols entry', { protocols: [{ protocol: chat, paths: ['/chat'] } as never] }, 'protocols[0].paths'],
  ['a protocol without a name', { protocols: [{ protocol: { ...chat, name: '' }, path: '/chat' }] }, 'protocols[0].protocol.name'],
  ['a protocol without open', { protocols: [{ protocol: { ...chat, open: undefined } as never, path: '/chat' }] }, 'protocols[0].protocol.open'],
  ['a protocol whose framing has no build', { protocols: [{ protocol: { ...chat, stream: {} } as never, tcp: { port: 0 } }] }, 'protocols[0].protocol.stream'],
  ['a protocol whose message framing is missing', { protocols: [{ protocol: { ...chat, message: undefined } as never, path: '/chat' }] }, 'protocols[0].protocol.message'],
  ['a protocol whose textFrames is not a boolean', { protocols: [{ protocol: { ...chat, textFrames: 'yes' } as never, path: '/chat' }] }, 'protocols[0].protocol.textFrames'],
  ['a protocol whose refusal is not a function', { protocols: [{ protocol: { ...chat, refusal: Buffer.alloc(1) } as never, tcp: { port: 0 } }] }, 'protocols[0].protocol.refusal'],
  ['a protocol whose probe is not bytes', { protocols: [{ protocol: { ...chat, probe: 'ping' } as never, tcp: { port: 0 } }] }, 'protocols[0].protocol.probe'],
  ['a protocol whose subprotocols is not an array', { protocols: [{ protocol: { ...chat, subprotocols: 'chat' } as never, path: '/chat' }] }, 'protocols[0].protocol.subprotocols'],
  ['a protocols entry that is a function returning nothing', { protocols: [{ protocol: () => undefined as never, path: '/chat' }] }, 'protocols[0].protocol'],
  ['a protocol served twice', { protocols: [{ protocol: chat, path: '/a' }, { protocol: chat, path: '/b' }] }, 'protocols[1].protocol.name'],
  ['a negative protocols[0].tcp.port', { protocols: [{ protocol: chat, tcp: { port: -1 } }] }, 'protocols[0].tcp.port'],
  ['a protocols[0].path without a leading slash', { protocols: [{ protocol: chat, path: 'chat' }] }, 'protocols[0].path'],
  ['a path served twice', { mqtt: {}, protocols: [{ protocol: chat, path: '/mqtt' }] }, 'protocols[0].path'],
  ['a protocol served nowhere', { protocols: [{ protocol: chat }] }, 'protocols[0]']
]

describe('listener options (mqtt, protocols) at register time', () => {
  for (const [what, opts, option] of invalidListeners) {
    test(`refuses ${what} with FST_GATE_INVALID_OPTION`, async (t) => {
      const app = Fastify()
      t.after(() => app.close())
      await assert.rejects(async () => {
        await app.register(gatePlugin, { admin: false, ...opts })
        await app.ready()
      }, (err: Error & { code?: string }) => {
        assert.equal(err.code, 'FST_GATE_INVALID_OPTION', err.message)
        assert.ok(err.message.includes(`"${option}"`), `names ${option}: ${err.message}`)
        return true
      })
    })
  }

  test('good listener options are accepted: mqtt off, on its own path and port; a protocol by function', async (t) => {
    for (const opts of [{ mqtt: false as const }, { mqtt: { path: '/m', tcp: { port: 0 } } }, { mqtt: { path: false as const, tcp: { port: 0, host: '127.0.0.1' } } }, { protocols: [{ protocol: () => chat, path: '/chat' }] }]) {
      const app = Fastify()
      t.after(() => app.close())
      await app.register(gatePlugin, { admin: false, ...opts })
      await app.ready()
    }
  })
})
