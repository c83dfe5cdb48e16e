/**
 * fast-check arbitraries shared by the property tests: byte strings biased
 * towards what reaches the decoders' interesting paths (whole frames, JSON
 * envelopes with registered names, protobuf payloads with registered ids),
 * and cut points that split them anywhere.
 */
import fc from 'fast-check'
import { testMessageNames } from '../helper.js'

/** Any bytes, short enough to keep runs fast. */
export const anyBytes = (maxLength = 300): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength }).map(a => Buffer.from(a))

/** JSON payloads: well-formed envelopes with registered and unknown names, arbitrary JSON, arbitrary text. */
export const jsonPayload: fc.Arbitrary<Buffer> = fc.oneof(
  fc.record({ name: fc.constantFrom(...testMessageNames, '__proto__', 'constructor', 'Nope'), body: fc.jsonValue() })
    .map(({ name, body }) => Buffer.from(`{${JSON.stringify(name)}:${JSON.stringify(body)}}`)),
  fc.record({ name: fc.constantFrom(...testMessageNames), text: fc.string({ unit: 'binary', maxLength: 40 }) })
    .map(({ name, text }) => Buffer.from(JSON.stringify({ [name]: { text, uid: text } }))),
  fc.json().map(s => Buffer.from(s)),
  fc.string({ unit: 'binary', maxLength: 80 }).map(s => Buffer.from(s)),
  anyBytes(80)
)

/** protobuf payloads `| id : uint16 | body |`: registered ids (and one past) with arbitrary bodies, or anything. */
export const protobufPayload: fc.Arbitrary<Buffer> = fc.oneof(
  fc.record({ id: fc.integer({ min: 0, max: testMessageNames.length }), le: fc.boolean(), body: anyBytes(60) })
    .map(({ id, le, body }) => {
      const head = Buffer.alloc(2)
      if (le) head.writeUInt16LE(id); else head.writeUInt16BE(id)
      return Buffer.concat([head, body])
    }),
  // field 1 (Echo.text, Login.uid, Secret.text) as a length-delimited field with arbitrary bytes
  fc.record({ id: fc.integer({ min: 0, max: testMessageNames.length - 1 }), text: anyBytes(20) })
    .map(({ id, text }) => Buffer.concat([Buffer.from([0, id, 0x0a, text.length]), text])),
  anyBytes(60)
)

/** `| len : uint16 BE | payload |` */
export function frame16 (payload: Buffer): Buffer {
  const head = Buffer.alloc(2)
  head.writeUInt16BE(payload.length)
  return Buffer.concat([head, payload])
}

/** A TCP byte stream: frames of `payload`, raw bytes, or both, concatenated. */
export const tcpStream = (payload: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> =>
  fc.array(fc.oneof({ arbitrary: payload.map(frame16), weight: 3 }, { arbitrary: anyBytes(40), weight: 1 }), { maxLength: 6 })
    .map(parts => Buffer.concat(parts))

/** Cuts `bytes` at the given points (taken modulo its length): at least one chunk, none empty unless `bytes` is. */
export function split (bytes: Buffer, cuts: readonly number[]): Buffer[] {
  if (bytes.length === 0) return [bytes]
  const at = [...new Set(cuts.map(c => c % bytes.length).filter(c => c > 0))].sort((a, b) => a - b)
  const chunks: Buffer[] = []
  let from = 0
  for (const c of at) {
    chunks.push(bytes.subarray(from, c))
    from = c
  }
  chunks.push(bytes.subarray(from))
  return chunks
}

export const cutPoints = fc.array(fc.nat({ max: 1 << 16 }), { maxLength: 12 })
