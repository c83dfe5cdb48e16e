/**
 * The example app and messages too large to deliver: the schema's limits keep
 * every S2C_Message within maxMsgLen (the worst case is delivered), longer
 * content is a schema error (1007), and should a push still not encode (here:
 * the same handlers under a smaller maxMsgLen) the sender gets S2C_Error and
 * stays connected, with nothing logged above debug. TCP and WebSocket, JSON
 * and protobuf.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { PROTO_PATH } from '../../examples/chat/app.js'
import { registerChat } from '../../examples/chat/handlers.js'
import { CONTENT_MAX_LENGTH, MAX_MSG_LEN, POSITION_RESERVE, ROOM_MAX_LENGTH, ROOM_POSITION_RESERVE, UID_MAX_LENGTH } from '../../examples/chat/messages.js'
import { MAX_POSITION_LENGTH } from '../../src/history/history.js'
import { tokenSigner, tokenVerifier } from '../../examples/chat/tokens.js'
import { CloseCode } from '../../src/close-codes.js'
import { captureLogs, startCore, until } from '../helper.js'
import { CHAT_MESSAGES, chatWire, SECRET, startChat, type ChatClient } from './helper.js'

const sign = tokenSigner(SECRET)
const encodings = ['json', 'protobuf'] as const
const transports = ['ws', 'tcp'] as const

async function login (client: ChatClient, uid: string): Promise<void> {
  client.send('C2S_UserLogin', { token: sign(uid), login_plat: 1 })
  assert.deepEqual((await client.nextOf('S2C_UserLogin')).body, { ret: 1, msg: 'ok', uid })
}

/** A heartbeat round trip: the connection is open and served, and nothing else was queued before the answer. */
async function assertServedAndNothingElse (client: ChatClient): Promise<void> {
  client.send('C2S_UserHeartBeat', { ptime: 1 })
  assert.equal((await client.next()).name, 'C2S_UserHeartBeat')
}

/** The longest strings the schema allows, made of the characters that cost the most bytes in `encoding`. */
function worst (encoding: 'json' | 'protobuf', length: number, tail = ''): string {
  // JSON: a control character is escaped as \u0001 (6 bytes). protobuf: "€" is 3 bytes of UTF-8.
  return (encoding === 'json' ? '\u0001' : '€').repeat(length - tail.length) + tail
}

test('the limits: 73 + the position and room reserves + 6 × (uid + 2 × room + content) fits maxMsgLen (a room message kept in the room\'s history, the tighter case)', () => {
  assert.equal(MAX_MSG_LEN, 4096)
  assert.equal(CONTENT_MAX_LENGTH, 468)
  assert.equal(POSITION_RESERVE, 'gate_pos'.length + 6 + MAX_POSITION_LENGTH)
  assert.equal(ROOM_POSITION_RESERVE, ',"gate_room":""'.length)
  const room = 73 + POSITION_RESERVE + ROOM_POSITION_RESERVE
  assert.ok(room + 6 * (UID_MAX_LENGTH + 2 * ROOM_MAX_LENGTH + CONTENT_MAX_LENGTH) <= MAX_MSG_LEN)
  assert.ok(room + 6 * (UID_MAX_LENGTH + 2 * ROOM_MAX_LENGTH + CONTENT_MAX_LENGTH + 1) > MAX_MSG_LEN, 'and is the largest that does')
  assert.ok(75 + POSITION_RESERVE + 6 * (2 * UID_MAX_LENGTH + CONTENT_MAX_LENGTH) <= MAX_MSG_LEN, 'a message to a uid fits too')
  assert.throws(() => tokenVerifier(SECRET)(sign('u'.repeat(UID_MAX_LENGTH + 1))), /sub/, 'a longer uid cannot log in')
})

for (const encoding of encodings) {
  for (const transport of transports) {
    describe(`example app, ${encoding} over ${transport}`, () => {
      test('the largest C2S_Message the schema allows is delivered, to a uid and to a room', async (t) => {
        const chat = await startChat(t, encoding)
        const uid = worst(encoding, UID_MAX_LENGTH, 'a')
        const room = worst(encoding, ROOM_MAX_LENGTH, 'r')
        const content = worst(encoding, CONTENT_MAX_LENGTH)
        const me = await chat.connect(transport)
        await login(me, uid)
        me.send('C2S_UpdateWatchRoom', { rooms: [room] })
        assert.deepEqual((await me.nextOf('S2C_UpdateWatchRoom')).body.rooms, [room])
        me.send('C2S_Message', { to_uid: uid, room, content })
        const direct = await me.next()
        assert.equal(direct.name, 'S2C_Message')
        assert.equal(direct.body.to_uid, uid)
        assert.equal(direct.body.content, content)
        const inRoom = await me.next()
        assert.equal(inRoom.body.room, room)
        assert.equal(inRoom.body.content, content)
        await assertServedAndNothingElse(me)
        assert.equal(chat.app.gate.counters.handlerErrors, 0)
      })

      test('content over the limit is a schema error (1007), not a silent drop', async (t) => {
        const chat = await startChat(t, encoding)
        const me = await chat.connect(transport)
        await login(me, 'alice')
        // 2,020 × "é" (4,040 bytes) passed the old schema and fits the inbound frame, but not the S2C_Message.
        me.send('C2S_Message', { to_uid: 'alice', content: 'é'.repeat(2020) })
        const seen = await me.closed
        if (transport === 'ws') assert.equal(seen.code, CloseCode.INVALID_PAYLOAD)
        await until(() => chat.closes.length === 1, 5000, 'the disconnect')
        assert.equal(chat.closes[0].code, CloseCode.INVALID_PAYLOAD)
      })
    })
  }
}

for (const encoding of encodings) {
  for (const transport of transports) {
    test(`${encoding} over ${transport}: a push that still does not encode answers S2C_Error to the sender only, who stays connected`, async (t) => {
      const { logger, lines } = captureLogs('info')
      const maxMsgLen = 1024
      const s = await startCore(t, {
        encoding,
        protobuf: encoding === 'protobuf' ? { root: PROTO_PATH } : undefined,
        maxMsgLen
      }, app => registerChat(app.gate, tokenVerifier(SECRET)), { logger })
      assert.deepEqual((s.app.gate.protocol().messages as Array<{ id: number, name: string }>).map(m => [m.id, m.name]), CHAT_MESSAGES.filter(name => !name.startsWith('Gate_')).map((name, id) => [id, name]), 'S2C_Error is id 7; the others keep 0..6')
      const wire = chatWire(encoding)
      const connect = async (): Promise<ChatClient> => transport === 'ws' ? await s.ws(wire) : await s.tcp(wire)
      const sender = await connect()
      const bob = await connect()
      await login(sender, 'alice')
      await login(bob, 'bob')
      bob.send('C2S_UpdateWatchRoom', { rooms: ['lobby'] })
      await bob.nextOf('S2C_UpdateWatchRoom')

      // Within the schema (468 units) and within 1024 bytes inbound, but over 1024 as an S2C_Message (which
      // adds from_uid and ts, and the 46 bytes history reserves): JSON 45 + 960 bytes in (160 × \u0001, 6 bytes
      // each), 83 + 960 out; protobuf 10-12 + 990 in (330 × "€"), 24-26 + 990 + 46 out.
      const content = encoding === 'json' ? '\u0001'.repeat(160) : '€'.repeat(330)
      for (const target of [{ to_uid: 'bob' }, { room: 'lobby' }]) {
        sender.send('C2S_Message', { ...target, content })
        const answer = await sender.next()
        assert.equal(answer.name, 'S2C_Error')
        assert.equal(answer.body.code, 'MESSAGE_TOO_LARGE')
        assert.match(answer.body.msg, /S2C_Message/)
      }
      await assertServedAndNothingElse(sender)
      await assertServedAndNothingElse(bob) // bob received nothing before his heartbeat answer
      sender.send('C2S_Message', { to_uid: 'bob', content: 'short' })
      assert.equal((await bob.nextOf('S2C_Message')).body.content, 'short')
      assert.equal(s.app.gate.counters.handlerErrors, 0)
      // (Not connectionCount: with test files running at once, a client of another file may reach a port this gate reused.)
      assert.deepEqual([...s.app.gate.agentsOf('alice')].map(a => a.isOpen), [true])
      assert.deepEqual(lines.filter(l => l.level >= 40 || l.err !== undefined), [], 'nothing logged above info, no stack')
    })
  }
}
