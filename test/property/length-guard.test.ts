/**
 * Property test of MQTT's LengthGuard: however a stream of packets is cut
 * (at every byte, in two at every point, or at random points), it reports the
 * same thing as reading the stream whole: the remaining length of the first
 * packet over the limit, or nothing when every packet fits.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { LengthGuard } from '../../src/protocol/mqtt/length-guard.js'
import { cutPoints, split } from './arbitraries.js'

const LIMIT = 300

/** MQTT's remaining length: 7 bits a byte, least significant first, the high bit saying more follow (1-4 bytes). */
function remainingLength (len: number): Buffer {
  const out: number[] = []
  do {
    let b = len % 128
    len = Math.floor(len / 128)
    if (len > 0) b |= 0x80
    out.push(b)
  } while (len > 0)
  return Buffer.from(out)
}

/**
 * A stream of whole packets (first byte, remaining length, that many bytes),
 * each under, at or just over the limit, some with lengths that need 3 or 4
 * bytes; a packet over the limit may stop short of its body, as an attacker's does.
 */
const packet = fc.record({
  first: fc.integer({ min: 0, max: 255 }),
  len: fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: LIMIT }), weight: 4 },
    { arbitrary: fc.constantFrom(127, 128, LIMIT, LIMIT + 1, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455), weight: 1 }
  ),
  sent: fc.integer({ min: 0, max: LIMIT + 20 })
}).map(({ first, len, sent }) => ({
  len,
  bytes: Buffer.concat([Buffer.from([first]), remainingLength(len), Buffer.alloc(len <= LIMIT ? len : Math.min(sent, len), 0xab)])
}))

const stream = fc.array(packet, { maxLength: 6 }).map(packets => {
  // A packet over the limit ends what is sent: its body never comes whole.
  const over = packets.findIndex(p => p.len > LIMIT)
  const kept = over === -1 ? packets : packets.slice(0, over + 1)
  return { bytes: Buffer.concat(kept.map(p => p.bytes)), expected: over === -1 ? -1 : packets[over].len }
})

/** What a fresh guard reports over these chunks: the first length over the limit, or -1. */
function scan (chunks: readonly Buffer[]): number {
  const guard = new LengthGuard(LIMIT)
  for (const chunk of chunks) {
    const over = guard.scan(chunk)
    if (over !== -1) return over
  }
  return -1
}

test('LengthGuard: whole, one byte at a time, in two at every point and at random cuts, the same first length over the limit', () => {
  fc.assert(fc.property(stream, cutPoints, ({ bytes, expected }, cuts) => {
    assert.equal(scan([bytes]), expected, 'whole')
    assert.equal(scan([...bytes].map(b => Buffer.from([b]))), expected, 'one byte at a time')
    for (let at = 0; at <= bytes.length; at++) {
      assert.equal(scan([bytes.subarray(0, at), bytes.subarray(at)]), expected, `cut at ${at}`)
    }
    assert.equal(scan(split(bytes, cuts)), expected, 'random cuts')
  }), { numRuns: 300 })
})
