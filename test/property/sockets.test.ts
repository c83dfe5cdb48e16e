/**
 * A bounded property test through real sockets: arbitrary bytes (TCP, split
 * into arbitrary writes) or arbitrary WebSocket messages (binary or text)
 * either close the sending connection with a listed code (1002, 1007, 1009,
 * or 4003 for a message that needs login) or leave it open, and bystanders on
 * both transports are never closed and keep being answered.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { CloseCode } from '../../src/close-codes.js'
import { TcpClient, WsClient } from '../clients.js'
import {
  assertEchoes, connectAgent, encodingOptions, recordCloses, registerTestMessages, startCore, testWire, until, type Encoding
} from '../helper.js'
import { cutPoints, jsonPayload, protobufPayload, split, tcpStream } from './arbitraries.js'

const LISTED: readonly number[] = [CloseCode.PROTOCOL_ERROR, CloseCode.INVALID_PAYLOAD, CloseCode.MESSAGE_TOO_BIG, CloseCode.UNAUTHORIZED]
const MAX_MSG_LEN = 256
const RUNS = 20

/** Complete `| len : uint16 BE |` frames the server reads before any length error, and whether one comes. */
function framesIn (bytes: Buffer): { frames: number, lengthError: boolean } {
  let off = 0
  let frames = 0
  while (bytes.length - off >= 2) {
    const len = bytes.readUInt16BE(off)
    off += 2
    if (len > MAX_MSG_LEN || len < 1) return { frames, lengthError: true }
    if (bytes.length - off < len) break
    off += len
    frames++
  }
  return { frames, lengthError: false }
}

type Input = { transport: 'tcp', chunks: Buffer[] } | { transport: 'ws', messages: Array<{ data: Buffer, text: boolean }> }

const inputs = (payloads: fc.Arbitrary<Buffer>): fc.Arbitrary<Input> => fc.oneof(
  fc.tuple(tcpStream(payloads), cutPoints).map(([bytes, cuts]): Input => ({ transport: 'tcp', chunks: split(bytes, cuts) })),
  fc.array(fc.record({ data: fc.oneof(payloads, payloads.map(p => Buffer.concat([p, Buffer.alloc(MAX_MSG_LEN)]))), text: fc.boolean() }), { minLength: 1, maxLength: 4 })
    .map((messages): Input => ({ transport: 'ws', messages }))
)

for (const encoding of ['json', 'protobuf'] as Encoding[]) {
  describe(`${encoding}: arbitrary input through real sockets`, () => {
    test(`${RUNS} runs: the sender ends with a listed close code or stays open; bystanders are unaffected`, async (t) => {
      const s = await startCore(t, { ...encodingOptions(encoding), maxMsgLen: MAX_MSG_LEN }, registerTestMessages)
      const closes = recordCloses(s.app)
      const bystanders = [await connectAgent(s, 'ws', testWire(encoding)), await connectAgent(s, 'tcp', testWire(encoding))]
      const endings = new Map<string, number>()

      await fc.assert(fc.asyncProperty(inputs(encoding === 'json' ? jsonPayload : protobufPayload), async (input) => {
        const { client, agent } = await connectAgent(s, input.transport, testWire(encoding))
        let expected: number
        if (input.transport === 'tcp') {
          const { frames, lengthError } = framesIn(Buffer.concat(input.chunks))
          expected = lengthError ? Infinity : frames
          for (const chunk of input.chunks) client.sendRaw(chunk)
        } else {
          expected = input.messages.length
          for (const m of input.messages) (client as WsClient).ws.send(m.data, { binary: !m.text })
        }
        // Everything the server can read has been read, or the connection was closed.
        await until(() => !agent.isOpen || agent.msgsIn >= expected, 5000, 'the input to be read or the connection closed')
        const early = closes.find(c => c.id === agent.id)
        if (early !== undefined || !agent.isOpen) {
          await until(() => closes.some(c => c.id === agent.id), 5000, 'the disconnect hook')
          const { code } = closes.find(c => c.id === agent.id)!
          assert.ok(LISTED.includes(code), `closed with ${code}, not a listed code`)
          endings.set(String(code), (endings.get(String(code)) ?? 0) + 1)
        } else {
          endings.set('open', (endings.get('open') ?? 0) + 1)
        }
        await client.close()
        await until(() => closes.some(c => c.id === agent.id), 5000, 'the disconnect hook')
        const { code } = closes.find(c => c.id === agent.id)!
        // 1000: still open when the client left (a handler's 4003 may win that race).
        assert.ok(code === CloseCode.NORMAL || LISTED.includes(code), `closed with ${code}`)
        for (const b of bystanders) await assertEchoes(b.client)
      }), { numRuns: RUNS })

      for (const b of bystanders) assert.equal(closes.some(c => c.id === b.agent.id), false, 'a bystander was closed')
      t.diagnostic(`endings: ${JSON.stringify(Object.fromEntries(endings))}`)
      assert.ok(endings.size >= 2, 'the runs reached more than one ending')
      assert.ok(bystanders[0].client instanceof WsClient && bystanders[1].client instanceof TcpClient)
    })
  })
}
