/**
 * Property tests of the TCP frame decoder: whatever the bytes and however they
 * are split, `push` never throws, and the decoder emits exactly the frames a
 * one-pass reading of the whole stream finds, then at most one ProtocolError
 * with 1002 (under minMsgLen) or 1009 (over maxMsgLen), and nothing after it.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { CloseCode } from '../../src/close-codes.js'
import { FrameDecoder, type FramingOptions } from '../../src/framing/length-prefix.js'
import { ProtocolError } from '../../src/protocol-error.js'
import { anyBytes, cutPoints, split } from './arbitraries.js'

interface Outcome { frames: string[], error?: number }

/** The reference: read the whole stream at once, header then body, checking the length at the header. */
function oneRead (bytes: Buffer, o: FramingOptions): Outcome {
  const frames: string[] = []
  let off = 0
  while (bytes.length - off >= o.lenMsgLen) {
    const len = o.lenMsgLen === 1
      ? bytes[off]
      : o.lenMsgLen === 2
        ? (o.littleEndian ? bytes.readUInt16LE(off) : bytes.readUInt16BE(off))
        : (o.littleEndian ? bytes.readUInt32LE(off) : bytes.readUInt32BE(off))
    off += o.lenMsgLen
    if (len > o.maxMsgLen) return { frames, error: CloseCode.MESSAGE_TOO_BIG }
    if (len < o.minMsgLen) return { frames, error: CloseCode.PROTOCOL_ERROR }
    if (bytes.length - off < len) break
    frames.push(bytes.subarray(off, off + len).toString('hex'))
    off += len
  }
  return { frames }
}

const options: fc.Arbitrary<FramingOptions> = fc.record({
  lenMsgLen: fc.constantFrom(1 as const, 2 as const, 4 as const),
  littleEndian: fc.boolean(),
  minMsgLen: fc.integer({ min: 0, max: 3 }),
  maxMsgLen: fc.integer({ min: 3, max: 64 })
})

/** Frames of valid lengths for `o`, so that streams reach their end more often than a random header allows. */
function validFrames (o: FramingOptions): fc.Arbitrary<Buffer> {
  return fc.array(fc.uint8Array({ minLength: o.minMsgLen, maxLength: o.maxMsgLen }), { maxLength: 5 }).map(payloads => Buffer.concat(payloads.map(p => {
    const head = Buffer.alloc(o.lenMsgLen)
    if (o.lenMsgLen === 1) head[0] = p.length
    else if (o.lenMsgLen === 2) { if (o.littleEndian) head.writeUInt16LE(p.length); else head.writeUInt16BE(p.length) } else if (o.littleEndian) head.writeUInt32LE(p.length); else head.writeUInt32BE(p.length)
    return Buffer.concat([head, p])
  })))
}

const streamFor = (o: FramingOptions): fc.Arbitrary<Buffer> => fc.oneof(
  anyBytes(200),
  validFrames(o),
  fc.tuple(validFrames(o), anyBytes(20)).map(([a, b]) => Buffer.concat([a, b]))
)

/**
 * Feeds the chunks; `pauseAt` frame numbers pause the decoder inside `onFrame`; it is
 * resumed after each chunk except those in `holdAt` (more bytes then arrive while paused).
 */
function decode (chunks: Buffer[], o: FramingOptions, pauseAt: ReadonlySet<number>, holdAt: ReadonlySet<number> = new Set()): Outcome & { errors: number } {
  const out: Outcome & { errors: number } = { frames: [], errors: 0 }
  const decoder = new FrameDecoder(o, payload => {
    assert.equal(out.errors, 0, 'no frame after an error')
    out.frames.push(payload.toString('hex'))
    if (pauseAt.has(out.frames.length)) decoder.pause()
  }, err => {
    assert.ok(err instanceof ProtocolError)
    out.errors++
    out.error = err.closeCode
  })
  const resume = (): void => {
    // As a transport does when its queue drains: resume, which may pause again at a later frame.
    for (let n = -1; n !== out.frames.length;) {
      n = out.frames.length
      decoder.resume()
    }
  }
  chunks.forEach((chunk, i) => {
    decoder.push(chunk)
    if (!holdAt.has(i)) resume() // held: the next chunk arrives while paused
  })
  resume()
  return out
}

test('FrameDecoder: any bytes at any splits give the one-read frames, then at most one 1002/1009', () => {
  fc.assert(fc.property(
    options.chain(o => fc.record({ o: fc.constant(o), bytes: streamFor(o), cuts: cutPoints, pauseAt: fc.array(fc.nat({ max: 6 }), { maxLength: 3 }), holdAt: fc.array(fc.nat({ max: 12 }), { maxLength: 4 }) })),
    ({ o, bytes, cuts, pauseAt, holdAt }) => {
      const expected = oneRead(bytes, o)
      const got = decode(split(bytes, cuts), o, new Set(pauseAt), new Set(holdAt))
      assert.ok(got.errors <= 1, 'one error at most')
      assert.deepEqual(got.frames, expected.frames)
      assert.equal(got.error, expected.error)
      if (got.error !== undefined) assert.ok([CloseCode.PROTOCOL_ERROR, CloseCode.MESSAGE_TOO_BIG].includes(got.error as 1002 | 1009))
    }
  ), { numRuns: 400 })
})

test('FrameDecoder: one byte at a time is the same as one chunk', () => {
  fc.assert(fc.property(
    options.chain(o => fc.record({ o: fc.constant(o), bytes: streamFor(o) })),
    ({ o, bytes }) => {
      const bytewise = [...bytes].map(b => Buffer.from([b]))
      assert.deepEqual(decode(bytewise, o, new Set()), decode([bytes], o, new Set()))
    }
  ), { numRuns: 150 })
})
