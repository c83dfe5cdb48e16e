import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { CloseCode } from '../../src/close-codes.js'
import { FrameDecoder, frame, maxLenFor, type FramingOptions } from '../../src/framing/length-prefix.js'
import type { ProtocolError } from '../../src/protocol-error.js'

/** A decoder that records what it emits. */
function decoder (opts: Partial<FramingOptions> = {}): { d: FrameDecoder, frames: Buffer[], errors: ProtocolError[] } {
  const frames: Buffer[] = []
  const errors: ProtocolError[] = []
  const d = new FrameDecoder(
    { lenMsgLen: 2, littleEndian: false, minMsgLen: 1, maxMsgLen: 4096, ...opts },
    payload => frames.push(Buffer.from(payload)),
    err => errors.push(err)
  )
  return { d, frames, errors }
}

const payloads = [Buffer.from('a'), Buffer.from('hello, world'), Buffer.alloc(200, 7), Buffer.from([0, 1, 2, 0xff])]

for (const lenMsgLen of [1, 2, 4] as const) {
  for (const littleEndian of [false, true]) {
    const opts = { lenMsgLen, littleEndian }
    describe(`lenMsgLen ${lenMsgLen}, ${littleEndian ? 'little' : 'big'}-endian`, () => {
      const stream = Buffer.concat(payloads.map(p => frame(p, opts)))

      test('frame() writes | len | payload | with len counting the payload only', () => {
        const out = frame(Buffer.from('xyz'), opts)
        assert.equal(out.length, lenMsgLen + 3)
        const expected = Buffer.alloc(lenMsgLen)
        if (lenMsgLen === 1) expected[0] = 3
        else if (lenMsgLen === 2) littleEndian ? expected.writeUInt16LE(3) : expected.writeUInt16BE(3)
        else littleEndian ? expected.writeUInt32LE(3) : expected.writeUInt32BE(3)
        assert.deepEqual(out.subarray(0, lenMsgLen), expected)
        assert.equal(out.subarray(lenMsgLen).toString(), 'xyz')
      })

      test('many frames coalesced in one chunk', () => {
        const { d, frames, errors } = decoder(opts)
        d.push(stream)
        assert.deepEqual(frames, payloads)
        assert.deepEqual(errors, [])
        assert.equal(d.buffered, 0)
      })

      test('frames split at every byte boundary (two chunks)', () => {
        for (let cut = 0; cut <= stream.length; cut++) {
          const { d, frames, errors } = decoder(opts)
          d.push(stream.subarray(0, cut))
          d.push(stream.subarray(cut))
          assert.deepEqual(frames, payloads, `cut at ${cut}`)
          assert.deepEqual(errors, [])
        }
      })

      test('frames fed one byte at a time', () => {
        const { d, frames, errors } = decoder(opts)
        for (let i = 0; i < stream.length; i++) d.push(stream.subarray(i, i + 1))
        assert.deepEqual(frames, payloads)
        assert.deepEqual(errors, [])
      })

      test('a payload split across chunks is not corrupted when the chunks are reused', () => {
        const { d, frames } = decoder(opts)
        const bytes = frame(Buffer.from('abcdef'), opts)
        const chunk = Buffer.from(bytes.subarray(0, lenMsgLen + 3))
        d.push(chunk)
        chunk.fill(0) // the socket may recycle its buffer
        d.push(bytes.subarray(lenMsgLen + 3))
        assert.deepEqual(frames.map(String), ['abcdef'])
      })

      test('len > maxMsgLen is rejected from the header alone (1009)', () => {
        const maxMsgLen = Math.min(100, maxLenFor(lenMsgLen))
        const { d, frames, errors } = decoder({ ...opts, maxMsgLen })
        d.push(frame(Buffer.from('ok'), opts))
        // Only the header of a too-long frame: no body byte has arrived.
        d.push(frame(Buffer.alloc(maxMsgLen + 1), opts).subarray(0, lenMsgLen))
        assert.equal(errors.length, 1)
        assert.equal(errors[0].code, 'GATE_FRAME_TOO_LONG')
        assert.equal(errors[0].closeCode, CloseCode.MESSAGE_TOO_BIG)
        assert.deepEqual(frames.map(String), ['ok'])
        assert.equal(d.buffered, 0, 'nothing buffered for the rejected frame')
      })

      test('len < minMsgLen is rejected from the header alone (1002)', () => {
        const { d, errors } = decoder({ ...opts, minMsgLen: 3 })
        d.push(frame(Buffer.from('ab'), opts).subarray(0, lenMsgLen))
        assert.equal(errors.length, 1)
        assert.equal(errors[0].code, 'GATE_FRAME_TOO_SHORT')
        assert.equal(errors[0].closeCode, CloseCode.PROTOCOL_ERROR)
      })

      test('a header split byte by byte is still checked before the body', () => {
        const { d, errors } = decoder({ ...opts, maxMsgLen: 10 })
        const header = frame(Buffer.alloc(11), opts).subarray(0, lenMsgLen)
        for (let i = 0; i < header.length; i++) {
          assert.equal(errors.length, 0)
          d.push(header.subarray(i, i + 1))
        }
        assert.equal(errors.length, 1)
        assert.equal(errors[0].closeCode, CloseCode.MESSAGE_TOO_BIG)
      })
    })
  }
}

describe('FrameDecoder', () => {
  test('a 4-byte header announcing 4 GiB is rejected without allocating', () => {
    const { d, errors } = decoder({ lenMsgLen: 4, maxMsgLen: 4096 })
    d.push(Buffer.from([0xff, 0xff, 0xff, 0xff]))
    assert.equal(errors.length, 1)
    assert.equal(errors[0].closeCode, CloseCode.MESSAGE_TOO_BIG)
  })

  test('after an error the decoder stops: the rest of the chunk and later chunks are ignored', () => {
    const { d, frames, errors } = decoder({ maxMsgLen: 5 })
    d.push(Buffer.concat([frame(Buffer.from('one'), { lenMsgLen: 2, littleEndian: false }), Buffer.from([0, 6]), frame(Buffer.from('two'), { lenMsgLen: 2, littleEndian: false })]))
    d.push(frame(Buffer.from('three'), { lenMsgLen: 2, littleEndian: false }))
    assert.deepEqual(frames.map(String), ['one'])
    assert.equal(errors.length, 1)
  })

  test('stop() drops a partly received frame', () => {
    const { d, frames } = decoder()
    const bytes = frame(Buffer.from('partial'), { lenMsgLen: 2, littleEndian: false })
    d.push(bytes.subarray(0, 4))
    d.stop()
    d.push(bytes.subarray(4))
    assert.deepEqual(frames, [])
  })

  test('minMsgLen 0 allows empty frames', () => {
    const { d, frames, errors } = decoder({ minMsgLen: 0 })
    d.push(Buffer.from([0, 0, 0, 1, 0x41]))
    assert.deepEqual(frames.map(String), ['', 'A'])
    assert.deepEqual(errors, [])
  })

  test('maxLenFor gives what each header size can describe', () => {
    assert.equal(maxLenFor(1), 255)
    assert.equal(maxLenFor(2), 65535)
    assert.equal(maxLenFor(4), 4294967295)
  })
})
