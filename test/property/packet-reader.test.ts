/**
 * Property test of MQTT's PacketReader: however a stream of packets is cut
 * (at every byte, in two at every point, or at random points), it gives the
 * same as reading the stream whole: every packet before the first one over the
 * limit, byte for byte, then that packet's remaining length (or nothing when
 * every packet fits).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { PacketReader } from '../../src/protocol/mqtt/packet-reader.js'
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
  return {
    bytes: Buffer.concat(kept.map(p => p.bytes)),
    packets: (over === -1 ? packets : packets.slice(0, over)).map(p => p.bytes),
    expected: over === -1 ? -1 : packets[over]!.len
  }
})

/** What a fresh reader gives over these chunks: the packets it passed on, and the first length over the limit (or -1). */
function read (chunks: readonly Buffer[]): { packets: Buffer[], over: number } {
  const packets: Buffer[] = []
  let over = -1
  // Packets are copied: a view into a chunk is only valid until the next push.
  const reader = new PacketReader(LIMIT, p => packets.push(Buffer.from(p)), len => { over = len })
  for (const chunk of chunks) {
    reader.push(chunk)
    if (over !== -1) break
  }
  return { packets, over }
}

test('PacketReader: whole, one byte at a time, in two at every point and at random cuts, the same packets and the same first length over the limit', () => {
  fc.assert(fc.property(stream, cutPoints, ({ bytes, packets, expected }, cuts) => {
    const check = (chunks: readonly Buffer[], how: string): void => {
      const got = read(chunks)
      assert.equal(got.over, expected, how)
      assert.deepEqual(got.packets, packets, how)
    }
    check([bytes], 'whole')
    check([...bytes].map(b => Buffer.from([b])), 'one byte at a time')
    for (let at = 0; at <= bytes.length; at++) {
      check([bytes.subarray(0, at), bytes.subarray(at)], `cut at ${at}`)
    }
    check(split(bytes, cuts), 'random cuts')
  }), { numRuns: 300 })
})
