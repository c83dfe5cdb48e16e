/**
 * Property tests of the two codecs, alone and behind the frame decoder: any
 * payload either decodes to a registered message with an object body, or
 * throws a ProtocolError whose close code is 1002 or 1007; nothing else
 * escapes. Through the frame decoder, at any splits, a stream ends as reading
 * it whole frame by frame says: the same messages, then at most one
 * ProtocolError with 1002, 1007 or 1009.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { CloseCode } from '../../src/close-codes.js'
import { JsonProcessor } from '../../src/codec/json.js'
import type { Processor } from '../../src/codec/processor.js'
import { ProtobufProcessor } from '../../src/codec/protobuf.js'
import { FrameDecoder } from '../../src/framing/length-prefix.js'
import { MessageRegistry } from '../../src/messages.js'
import { ProtocolError } from '../../src/protocol-error.js'
import { testMessageNames, testProto } from '../helper.js'
import { cutPoints, jsonPayload, protobufPayload, split, tcpStream } from './arbitraries.js'

const PAYLOAD_CODES: readonly number[] = [CloseCode.PROTOCOL_ERROR, CloseCode.INVALID_PAYLOAD]
const STREAM_CODES: readonly number[] = [...PAYLOAD_CODES, CloseCode.MESSAGE_TOO_BIG]

function registry (): MessageRegistry {
  const r = new MessageRegistry()
  for (const name of testMessageNames) r.register(name)
  r.freeze()
  return r
}

const codecs: Array<{ name: string, make: () => Processor, payloads: fc.Arbitrary<Buffer> }> = [
  { name: 'json', make: () => new JsonProcessor(), payloads: jsonPayload },
  { name: 'protobuf', make: () => new ProtobufProcessor({ root: testProto }, false), payloads: protobufPayload }
]

/** Decodes one payload: 'ok' with a registered name and an object body, or the ProtocolError's close code. */
function outcome (p: Processor, payload: Buffer): 'ok' | number {
  let decoded
  try {
    decoded = p.decode(payload)
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `not a ProtocolError: ${String(err)}`)
    return err.closeCode
  }
  assert.ok((testMessageNames as readonly string[]).includes(decoded.def.name))
  assert.ok(decoded.body !== null && typeof decoded.body === 'object' && !Array.isArray(decoded.body))
  return 'ok'
}

/**
 * What a stream of `| len : uint16 BE | payload |` frames (minMsgLen 1, maxMsgLen
 * 256) must come to, read whole and frame by frame without the decoder: the
 * messages before the first bad frame, and that frame's close code (a bad length
 * is refused from the header, before its payload has arrived).
 */
function readWhole (p: Processor, bytes: Buffer): { messages: number, closed: number | undefined } {
  let messages = 0
  for (let off = 0; bytes.length - off >= 2;) {
    const len = bytes.readUInt16BE(off)
    if (len > 256) return { messages, closed: CloseCode.MESSAGE_TOO_BIG }
    if (len < 1) return { messages, closed: CloseCode.PROTOCOL_ERROR }
    if (bytes.length - off - 2 < len) break
    const o = outcome(p, bytes.subarray(off + 2, off + 2 + len))
    if (o !== 'ok') return { messages, closed: o }
    messages++
    off += 2 + len
  }
  return { messages, closed: undefined }
}

for (const { name, make, payloads } of codecs) {
  describe(`${name} codec`, () => {
    const p = make()
    const messages = registry()
    p.init(messages)

    test('any payload decodes or is a ProtocolError with 1002 or 1007', () => {
      const seen = new Set<'ok' | number>()
      fc.assert(fc.property(payloads, payload => {
        const o = outcome(p, payload)
        seen.add(o)
        if (o !== 'ok') assert.ok(PAYLOAD_CODES.includes(o), `close code ${o}`)
      }), { numRuns: 500 })
      // The generators must reach every ending, or the property says little.
      assert.deepEqual([...seen].sort(), ['ok', ...PAYLOAD_CODES].sort())
    })

    test('what the codec encodes, it decodes to the same message', () => {
      fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 60 }), fc.integer({ min: -1000, max: 1000 }), (text, n) => {
        const def = messages.get('Echo')!
        const back = p.decode(p.encode(def, { text, n }))
        assert.equal(back.def.name, 'Echo')
        // protobuf strings are UTF-8: a lone surrogate cannot survive, it becomes U+FFFD
        assert.equal((back.body as { text: string }).text, name === 'json' ? text : Buffer.from(text).toString())
      }), { numRuns: 200 })
    })

    test('behind the frame decoder, any stream at any splits ends as read whole: the same messages, then at most one 1002/1007/1009', () => {
      fc.assert(fc.property(tcpStream(payloads), cutPoints, (bytes, cuts) => {
        let closed: number | undefined
        let messages = 0
        const decoder = new FrameDecoder({ lenMsgLen: 2, littleEndian: false, minMsgLen: 1, maxMsgLen: 256 }, payload => {
          assert.equal(closed, undefined, 'nothing is decoded after a close')
          const o = outcome(p, payload)
          if (o === 'ok') messages++
          else {
            closed = o
            decoder.stop() // what the gate does on a ProtocolError: the connection closes
          }
        }, err => {
          assert.equal(closed, undefined)
          closed = err.closeCode
        })
        for (const chunk of split(bytes, cuts)) decoder.push(chunk)
        if (closed !== undefined) assert.ok(STREAM_CODES.includes(closed), `close code ${closed}`)
        // However the stream was cut, it ends as reading it whole, frame by frame, says.
        assert.deepEqual({ messages, closed }, readWhole(p, bytes))
      }), { numRuns: 300 })
    })
  })
}
