import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { wsFrame } from '../../src/framing/ws-frame.js'

// ws's own framer and parser (public in ws, not in its type definitions).
const { Sender, Receiver } = createRequire(import.meta.url)('ws') as {
  Sender: { frame: (data: Buffer, opts: Record<string, unknown>) => Buffer[] }
  Receiver: new (opts: { isServer: boolean }) => NodeJS.WritableStream & { on: (event: 'message', fn: (data: Buffer, isBinary: boolean) => void) => void }
}

// Lengths on each side of the 7-, 16- and 64-bit length encodings.
const lengths = [0, 1, 125, 126, 127, 0xffff, 0x10000, 70000]

for (const text of [false, true]) {
  test(`wsFrame() builds the frame ws itself sends (${text ? 'text' : 'binary'}), for every length encoding`, () => {
    for (const len of lengths) {
      const payload = Buffer.alloc(len, 'a')
      const expected = Buffer.concat(Sender.frame(payload, { fin: true, opcode: text ? 1 : 2, mask: false, readOnly: false, rsv1: false }))
      assert.deepEqual(wsFrame(payload, text), expected, `length ${len}`)
    }
  })
}

test('a client-side ws Receiver reads wsFrame() output back as one message', async () => {
  const payload = Buffer.from('{"Echo":{"text":"héllo"}}')
  const receiver = new Receiver({ isServer: false })
  const got = new Promise<[Buffer, boolean]>(resolve => receiver.on('message', (data: Buffer, isBinary: boolean) => resolve([data, isBinary])))
  receiver.write(wsFrame(payload, true))
  const [data, isBinary] = await got
  assert.deepEqual(data, payload)
  assert.equal(isBinary, false)
})

test('wsFrame() at random lengths across the three encodings: ws\'s framer agrees and ws\'s Receiver reads it back', async () => {
  const fc = await import('fast-check')
  await fc.assert(fc.asyncProperty(
    fc.oneof(fc.integer({ min: 0, max: 125 }), fc.integer({ min: 126, max: 0xffff }), fc.integer({ min: 0x10000, max: 0x30000 })),
    fc.boolean(),
    async (len, text) => {
      const payload = Buffer.alloc(len, text ? 'x' : 7)
      const frame = wsFrame(payload, text)
      assert.deepEqual(frame, Buffer.concat(Sender.frame(payload, { fin: true, opcode: text ? 1 : 2, mask: false, readOnly: false, rsv1: false })))
      const receiver = new Receiver({ isServer: false })
      const got = new Promise<[Buffer, boolean]>(resolve => receiver.on('message', (data: Buffer, isBinary: boolean) => resolve([data, isBinary])))
      receiver.write(frame)
      const [data, isBinary] = await got
      assert.equal(data.length, len)
      assert.ok(data.equals(payload))
      assert.equal(isBinary, !text)
    }
  ), { numRuns: 60 })
})
