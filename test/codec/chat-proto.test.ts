/**
 * examples/chat/chat.proto in the form older generators accept: its optional
 * fields are one-field oneofs instead of proto3 `optional` (which Debian's
 * protoc-gen-go 1.3.5 refuses). The wire is unchanged: every message encodes to
 * the same bytes as with the proto3 `optional` version below, and decodes to the
 * same body, with the conversion options the gate and the client SDK use (absent
 * stays absent). And protoc with that protoc-gen-go accepts it, where installed.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import protobuf from 'protobufjs'
import { PROTO_PATH } from '../../examples/chat/app.js'

/** The example's chat.proto as it was, with proto3 `optional`. */
const PROTO3_OPTIONAL = `syntax = "proto3";
message C2S_UserHeartBeat { int64 ptime = 1; }
message C2S_UserLogin { string token = 1; int32 login_plat = 2; optional string resume_pos = 3; }
message S2C_UserLogin { int32 ret = 1; string msg = 2; string uid = 3; optional bool recovered = 4; optional string gate_pos = 5; }
message C2S_Message { string to_uid = 1; string room = 2; string content = 3; }
message S2C_Message { string from_uid = 1; string to_uid = 2; string room = 3; string content = 4; int64 ts = 5; optional string gate_pos = 15; optional string gate_room = 16; }
message C2S_UpdateWatchRoom { repeated string rooms = 1; }
message S2C_UpdateWatchRoom { repeated string rooms = 1; }
message S2C_Error { string code = 1; string msg = 2; }
message S2C_Close { int32 code = 1; string reason = 2; }
message C2S_Online { }
message S2C_Online { int32 total = 1; repeated string uids = 2; }
message Gate_Subscribe { uint32 id = 1; string room = 2; optional string since = 3; }
message Gate_Unsubscribe { uint32 id = 1; string room = 2; }
message Gate_Request { uint32 id = 1; }
message Gate_Reply { uint32 id = 1; string code = 2; bool answer = 3; optional bool recovered = 4; optional string pos = 5; }
`
/** What src/codec/protobuf.ts and client/protobuf.ts convert with. */
const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, arrays: true }

const BODIES: Array<[string, Record<string, unknown>]> = [
  ['C2S_UserHeartBeat', {}],
  ['C2S_UserHeartBeat', { ptime: 1764370000 }],
  ['C2S_UserLogin', { token: 't', login_plat: 1 }],
  ['C2S_UserLogin', { token: 't', resume_pos: '' }],
  ['C2S_UserLogin', { token: 't', login_plat: 0, resume_pos: 'k3Jd9x_Q:42' }],
  ['S2C_UserLogin', { ret: 1, msg: 'ok', uid: 'alice' }],
  ['S2C_UserLogin', { ret: 1, msg: 'ok', uid: 'alice', recovered: false, gate_pos: '' }],
  ['S2C_UserLogin', { ret: 1, msg: 'ok', uid: 'alice', recovered: true, gate_pos: 'k3Jd9x_Q:42' }],
  ['C2S_Message', { to_uid: 'bob', content: 'hi' }],
  ['C2S_Message', { room: 'lobby', content: 'héllo 👋' }],
  ['S2C_Message', { from_uid: 'bob', room: 'lobby', content: 'hi', ts: 1764370000000 }],
  ['S2C_Message', { from_uid: 'bob', to_uid: 'alice', content: 'hi', ts: 1764370000000, gate_pos: 'k3Jd9x_Q:42' }],
  ['S2C_Message', { from_uid: 'bob', room: 'lobby', content: 'hi', ts: 1764370000000, gate_pos: 'k3Jd9x_Q:42', gate_room: 'lobby' }],
  ['C2S_UpdateWatchRoom', { rooms: ['lobby', 'b'] }],
  ['S2C_UpdateWatchRoom', { rooms: [] }],
  ['S2C_Error', { code: 'MESSAGE_TOO_LARGE', msg: 'too large' }],
  ['S2C_Close', { code: 4001, reason: 'kicked' }],
  ['C2S_Online', {}],
  ['S2C_Online', { total: 2, uids: ['alice', 'bob'] }],
  ['Gate_Subscribe', { id: 1, room: 'lobby' }],
  ['Gate_Subscribe', { id: 2, room: 'lobby', since: '' }],
  ['Gate_Subscribe', { id: 3, room: 'lobby', since: 'k3Jd9x_Q:42' }],
  ['Gate_Unsubscribe', { id: 4294967295, room: 'lobby' }],
  ['Gate_Request', { id: 7 }],
  ['Gate_Reply', { id: 7, code: '', answer: true }],
  ['Gate_Reply', { id: 8, code: 'NOT_ALLOWED' }],
  ['Gate_Reply', { id: 9, code: '', recovered: false, pos: '' }],
  ['Gate_Reply', { id: 10, code: '', recovered: true, pos: 'k3Jd9x_Q:42' }]
]

test('chat.proto encodes and decodes every message as the proto3-optional version did', () => {
  const now = new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true })
  const before = protobuf.parse(PROTO3_OPTIONAL, { keepCase: true }).root
  assert.deepEqual(Object.keys(now.nested!).sort(), Object.keys(before.nested!).sort(), 'the same messages')
  for (const [name, body] of BODIES) {
    const a = now.lookupType(name)
    const b = before.lookupType(name)
    const bytes = Buffer.from(a.encode(a.fromObject(body)).finish())
    assert.deepEqual(bytes, Buffer.from(b.encode(b.fromObject(body)).finish()), `${name} ${JSON.stringify(body)}: the same bytes`)
    const decoded = a.toObject(a.decode(bytes), TO_OBJECT)
    assert.deepEqual(decoded, b.toObject(b.decode(bytes), TO_OBJECT), `${name}: the same body`)
    for (const absent of ['resume_pos', 'recovered', 'gate_pos', 'gate_room', 'since', 'pos']) {
      if (absent in a.fields && !(absent in body)) assert.equal(absent in decoded, false, `${name}: ${absent} stays absent`)
    }
  }
})

const PROTOC = '/usr/bin/protoc'
const GEN_GO = '/usr/bin/protoc-gen-go'
const has = existsSync(PROTOC) && existsSync(GEN_GO)
if (!has) process.stderr.write('\n*** protoc/protoc-gen-go are missing: SKIPPING the chat.proto generator test (apt-get install protobuf-compiler protoc-gen-go-1-3) ***\n\n')

test('protoc with Debian\'s protoc-gen-go (1.3.5, golang/protobuf) generates Go from chat.proto', { skip: has ? false : 'protoc or protoc-gen-go is missing' }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'gate-proto-'))
  t.after(() => rmSync(out, { recursive: true, force: true }))
  await promisify(execFile)(PROTOC, [`--proto_path=${dirname(PROTO_PATH)}`, `--go_out=${out}`, PROTO_PATH])
  assert.ok(readdirSync(out).includes('chat.pb.go'))
  // The proto3-optional version is refused by the same generator: this test can fail.
  const old = join(out, 'old')
  mkdirSync(old)
  writeFileSync(join(old, 'chat.proto'), PROTO3_OPTIONAL)
  await assert.rejects(promisify(execFile)(PROTOC, [`--proto_path=${old}`, `--go_out=${old}`, join(old, 'chat.proto')]), /optional fields/)
})
