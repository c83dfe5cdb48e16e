/**
 * UTF-8 in protobuf string fields: the raw bytes of every string field the
 * decoder reads (top level, nested, repeated, oneof, map keys and values,
 * proto2 groups) must be valid UTF-8, or the payload is a 1007; bytes fields
 * and unknown fields are not text and pass.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import protobuf from 'protobufjs'
import { CloseCode } from '../../src/close-codes.js'
import { ProtobufProcessor } from '../../src/codec/protobuf.js'
import { MessageRegistry } from '../../src/messages.js'
import { ProtocolError } from '../../src/protocol-error.js'

const proto3 = `
syntax = "proto3";
message Inner { string name = 1; bytes blob = 2; }
message Outer {
  string top = 1;
  Inner inner = 2;
  repeated string tags = 3;
  repeated Inner items = 4;
  map<string, string> labels = 5;
  map<string, Inner> by_name = 6;
  oneof choice { string text = 7; int32 num = 8; }
}
message Narrow { string top = 1; }
`
const proto2 = `
syntax = "proto2";
message Grouped { optional group G = 1 { optional string s = 2; } }
`

function processor (): { p: ProtobufProcessor, root: protobuf.Root } {
  const root = new protobuf.Root()
  protobuf.parse(proto3, root, { keepCase: true })
  protobuf.parse(proto2, root, { keepCase: true })
  const p = new ProtobufProcessor({ root }, false)
  const registry = new MessageRegistry()
  for (const name of ['Outer', 'Narrow', 'Grouped']) registry.register(name)
  registry.freeze()
  p.init(registry)
  return { p, root }
}

/** Two bytes that stand in for the bad ones, the same length, so every length prefix stays right. */
const MARK = '\u0001\u0002'
const BAD: Record<string, number[]> = {
  'a lone continuation byte and 0xff': [0x80, 0xff],
  'a lead byte without its continuation': [0xc3, 0x28],
  'an overlong encoding of NUL': [0xc0, 0x80]
}

/** The payload `| id | Outer |` of `body`, with the marker's bytes replaced by `bad`. */
function corrupted (root: protobuf.Root, id: number, name: string, body: object, bad: number[]): Buffer {
  const type = root.lookupType(name)
  const bytes = Buffer.from(type.encode(type.fromObject(body)).finish())
  if (name === 'Grouped') assert.equal(bytes[0], 0x0b, 'field 1 is encoded as a group (wire type 3)')
  const at = bytes.indexOf(Buffer.from(MARK))
  assert.ok(at >= 0 && bytes.indexOf(Buffer.from(MARK), at + 1) < 0, 'the marker appears exactly once')
  Buffer.from(bad).copy(bytes, at)
  const head = Buffer.alloc(2)
  head.writeUInt16BE(id)
  return Buffer.concat([head, bytes])
}

function closeCodeOf (p: ProtobufProcessor, payload: Buffer): number | 'decoded' {
  try {
    p.decode(payload)
    return 'decoded'
  } catch (err) {
    assert.ok(err instanceof ProtocolError, String(err))
    assert.equal(err.code, 'GATE_BAD_BODY')
    return err.closeCode
  }
}

const places: Array<{ where: string, name: string, id: number, body: object }> = [
  { where: 'a top-level string', name: 'Outer', id: 0, body: { top: MARK } },
  { where: 'a nested message', name: 'Outer', id: 0, body: { top: 'ok', inner: { name: MARK } } },
  { where: 'a repeated string (not the first)', name: 'Outer', id: 0, body: { tags: ['a', MARK, 'c'] } },
  { where: 'a repeated message', name: 'Outer', id: 0, body: { items: [{ name: 'x' }, { name: MARK }] } },
  { where: 'a map key', name: 'Outer', id: 0, body: { labels: { [MARK]: 'v' } } },
  { where: 'a map value', name: 'Outer', id: 0, body: { labels: { k: MARK } } },
  { where: 'a message map value', name: 'Outer', id: 0, body: { by_name: { k: { name: MARK } } } },
  { where: 'a oneof member', name: 'Outer', id: 0, body: { text: MARK } },
  { where: 'a proto2 group', name: 'Grouped', id: 2, body: { g: { s: MARK } } }
]

describe('protobuf string fields must be valid UTF-8 (1007)', () => {
  const { p, root } = processor()
  for (const { where, name, id, body } of places) {
    test(`in ${where}`, () => {
      assert.equal(closeCodeOf(p, corrupted(root, id, name, body, [0x61, 0x62])), 'decoded', 'the same payload with valid bytes decodes')
      for (const [what, bad] of Object.entries(BAD)) {
        assert.equal(closeCodeOf(p, corrupted(root, id, name, body, bad)), CloseCode.INVALID_PAYLOAD, what)
      }
    })
  }

  test('an encoded surrogate (CESU-8) and a cut 4-byte sequence are refused', () => {
    const type = root.lookupType('Narrow')
    for (const bad of [[0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98]]) {
      const body = Buffer.concat([Buffer.from([0x0a, bad.length]), Buffer.from(bad)])
      assert.throws(() => type.decode(body) && p.decode(Buffer.concat([Buffer.from([0, 1]), body])), (err: unknown) => err instanceof ProtocolError && err.closeCode === CloseCode.INVALID_PAYLOAD)
    }
  })

  test('valid multi-byte text comes through unchanged, everywhere', () => {
    const text = 'héllo ∑ 😀 \u0000 end'
    const type = root.lookupType('Outer')
    const body = { top: text, inner: { name: text }, tags: [text], items: [{ name: text }], labels: { [text]: text }, by_name: { [text]: { name: text } }, text }
    const bytes = Buffer.from(type.encode(type.fromObject(body)).finish())
    const out = p.decode(Buffer.concat([Buffer.from([0, 0]), bytes])).body as any
    assert.equal(out.top, text)
    assert.equal(out.inner.name, text)
    assert.deepEqual(out.tags, [text])
    assert.equal(out.items[0].name, text)
    assert.deepEqual(out.labels, { [text]: text })
    assert.equal(out.by_name[text].name, text)
    assert.equal(out.text, text)
  })

  test('bytes fields and unknown fields are not text: invalid UTF-8 there passes', () => {
    const blob = corrupted(root, 0, 'Outer', { inner: { name: 'n', blob: Buffer.from(MARK) } }, [0xff, 0xfe])
    assert.equal(closeCodeOf(p, blob), 'decoded')
    // Narrow (id 1) knows only field 1; field 2 carries 0xff 0xfe as a length-delimited unknown field.
    assert.equal(closeCodeOf(p, Buffer.from([0, 1, 0x0a, 0x01, 0x61, 0x12, 0x02, 0xff, 0xfe])), 'decoded')
  })
})
