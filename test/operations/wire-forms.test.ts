/**
 * Every cluster operation travels as it is: its wire form's head, then its
 * message as name plus bytes. Sent through the envelope and rebuilt on the
 * asked node, it is the operation that was asked for (without the fields
 * that only the asking node uses). An op name without a wire form is refused
 * on the asking node, and logged once and not answered on an asked one.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { decodeEnvelope, encodeEnvelope, operationOf, requestOf, type WireHead } from '../../src/cluster/envelope.js'
import { sharesOf } from '../../src/cluster/routing.js'
import type { RouteRead } from '../../src/cluster/presence.js'
import { OutboundMessage } from '../../src/codec/outbound.js'
import { UnknownOperation, wireFormOf, wireForms, type Ask } from '../../src/operations/operation.js'
import { registerClusterMessages, fastCluster } from '../fixtures/cluster-app.js'
import { captureLogs, startGate, until } from '../helper.js'
import { startRedis } from '../redis-helper.js'

const framing = { lenMsgLen: 2, littleEndian: false } as const
/** The node every target is on in these routes. */
const NODE = 'b'

/** Objects as JSON.parse makes them (fast-check's may have no prototype). */
const plain = { noNullPrototype: true } as const
const ids = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 5 })
const position = fc.record({ epoch: fc.string({ maxLength: 20 }), offset: fc.nat() }, plain)
const message = fc.record({ name: fc.string({ minLength: 1, maxLength: 20 }), payload: fc.uint8Array({ maxLength: 64 }), text: fc.boolean() })
  .map(({ name, payload, text }) => new OutboundMessage(name, Buffer.from(payload), text, framing))
/** Positions of some of `uids`. */
const positionsOf = (uids: string[]): fc.Arbitrary<Map<string, { epoch: string, offset: number }>> =>
  fc.subarray(uids).chain(some => fc.tuple(...some.map(() => position)).map(ps => new Map(some.map((uid, i) => [uid, ps[i]!]))))
const optional = <T>(key: string, value: fc.Arbitrary<T>): fc.Arbitrary<Record<string, T>> => fc.option(value, { nil: undefined }).map(v => v === undefined ? {} : { [key]: v })

/** Every ask, with the optional fields that travel present or absent (never set to undefined). */
const anyAsk: fc.Arbitrary<Ask> = fc.oneof(
  fc.tuple(ids, message).chain(([uids, msg]) => optional('positions', positionsOf(uids)).map(pos => ({ op: 'push' as const, uids, msg, ...pos }))),
  fc.record({
    room: fc.string({ minLength: 1, maxLength: 10 }),
    msg: message,
    except: fc.option(fc.oneof(fc.record({ agent: fc.string() }, plain), fc.record({ uid: fc.string() }, plain), fc.record({ agent: fc.string(), uid: fc.string() }, plain)), { nil: undefined }),
    pos: fc.option(position, { nil: undefined })
  }).map(({ except, pos, ...room }) => ({ op: 'room' as const, ...room, ...(except === undefined ? {} : { except }), ...(pos === undefined ? {} : { pos }) })),
  fc.record({ msg: message, loggedInOnly: fc.boolean() }).map(b => ({ op: 'broadcast' as const, ...b })),
  fc.record({ uids: ids, seqs: fc.uniqueArray(fc.nat(), { maxLength: 4 }), except: fc.option(fc.string(), { nil: undefined }), code: fc.integer({ min: 1000, max: 4999 }), reason: fc.string() })
    .map(({ seqs, except, ...kick }) => ({ op: 'kick' as const, ...kick, agents: seqs.map(seq => `${NODE}-${seq.toString(36)}`), ...(except === undefined ? {} : { except }) })),
  fc.record({ uid: fc.string({ minLength: 1 }), set: fc.dictionary(fc.string(), fc.string(), { maxKeys: 3, ...plain }), remove: fc.array(fc.string(), { maxLength: 3 }) })
    .map(s => ({ op: 'settings' as const, ...s })),
  fc.constant({ op: 'figures' as const })
)

/** A route where every uid of `ask` is held on `NODE` (and the room has members there). */
function routeOf (ask: Ask): RouteRead {
  const reach = wireFormOf(ask.op).reach(ask)
  const uids = reach.to === 'uids' ? reach.uids : []
  return { nodes: ['a', NODE], agents: uids.map(() => [`${NODE}-1`]), roomNodes: [NODE], registered: true }
}

/** `ask` as the asking node sends it to `NODE`, then as `NODE` rebuilds it. */
async function sentToNode (ask: Ask): Promise<Ask> {
  const form = wireFormOf(ask.op)
  const shares = sharesOf(form.reach(ask), routeOf(ask))
  const share = shares.get(NODE)
  const settled = form.settle === undefined ? ask : await form.settle(ask)
  // A push or a kick with no target asks no node.
  if (share === undefined) return settled
  const { head, payload } = requestOf(settled, share)
  const envelope = decodeEnvelope(encodeEnvelope({ t: 'req', id: 1, from: 'a', head }, payload))
  assert.ok(envelope?.header.t === 'req')
  return operationOf(envelope.header.head, envelope.payload, framing)
}

test('every operation round-trips through its wire form unchanged', async () => {
  assert.deepEqual(Object.keys(wireForms).sort(), ['broadcast', 'figures', 'kick', 'push', 'room', 'settings'])
  await fc.assert(fc.asyncProperty(anyAsk, async ask => {
    assert.deepEqual(await sentToNode(ask), ask)
  }), { numRuns: 500 })
})

test('[history] a push whose positions are still being stored travels with them once they are', async () => {
  const msg = new OutboundMessage('Echo', Buffer.from('{}'), true, framing)
  const positions = new Map([['u', { epoch: 'e', offset: 3 }]])
  const early = new Set<never>()
  const back = await sentToNode({ op: 'push', uids: ['u', 'v'], msg, stored: Promise.resolve(positions), early })
  assert.deepEqual(back, { op: 'push', uids: ['u', 'v'], msg, positions })
})

test('a room push skipping a connection and a uid sends except: { agent, uid }', () => {
  const msg = new OutboundMessage('Echo', Buffer.from('{}'), true, framing)
  const { head } = requestOf({ op: 'room', room: 'r', msg, except: { agent: 'a-1', uid: 'alice' } }, { uids: [], agents: [] })
  assert.deepEqual(JSON.parse(JSON.stringify(head)), { op: 'room', room: 'r', except: { agent: 'a-1', uid: 'alice' }, msg: { name: 'Echo', text: true } })
})

test('an op name without a wire form is refused on both sides', () => {
  const unknown = fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'))
    .filter(op => !Object.hasOwn(wireForms, op))
  fc.assert(fc.property(unknown, op => {
    assert.throws(() => requestOf({ op } as unknown as Ask, { uids: [], agents: [] }), (err: unknown) => err instanceof UnknownOperation && err.op === op)
    const head: WireHead = { op, msg: { name: 'Echo', text: false } }
    assert.throws(() => operationOf(head, Buffer.alloc(0), framing), (err: unknown) => err instanceof UnknownOperation && err.op === op)
  }), { numRuns: 200 })
})

test('an asked node logs an unknown op once and does not answer it', async (t) => {
  const redis = await startRedis(t)
  const logs = captureLogs('warn')
  await startGate(t, { redis: redis.url, nodeId: NODE, cluster: fastCluster }, registerClusterMessages, { logger: logs.logger })
  const pub = redis.raw(t)
  const sub = redis.raw(t)
  const answers: number[] = []
  sub.on('smessageBuffer', (_channel: Buffer, bytes: Buffer) => {
    const envelope = decodeEnvelope(bytes)
    if (envelope?.header.t === 'res') answers.push(envelope.header.id)
  })
  await sub.ssubscribe('{gate:n:x}:bus')
  const ask = async (id: number, head: WireHead): Promise<void> => {
    assert.equal(await pub.spublish(`{gate:n:${NODE}}:bus`, encodeEnvelope({ t: 'req', id, from: 'x', head })), 1, 'the node listens')
  }
  await ask(1, { op: 'teleport' })
  await ask(2, { op: 'teleport' })
  // The node reads its channel in order: once the figures are answered, both were read.
  await ask(3, { op: 'figures' })
  await until(() => answers.includes(3), 5000, 'the figures to be answered')
  assert.deepEqual(answers, [3])
  const lines = logs.lines.filter(line => line.op === 'teleport')
  assert.equal(lines.length, 1, 'logged once')
  assert.equal(lines[0]!.from, 'x')
})
