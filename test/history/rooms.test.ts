/**
 * Room history on one node, on the wire (docs/protocol.md section 10): a
 * `Gate_Subscribe` with `since` gets the room's missed messages once, in
 * order, each with `gate_room` and `gate_pos`, then the `Gate_Reply` with
 * `recovered` and the position after them, then live ones; a member that did
 * not ask gets the same messages without the fields.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { tokenSigner } from '../../examples/chat/tokens.js'
import type { Received } from '../clients.js'
import { SECRET, startChat, type Chat, type ChatClient as BaseClient } from '../example/helper.js'

const sign = tokenSigner(SECRET, 0)

async function loggedIn (chat: Chat, uid: string): Promise<BaseClient> {
  const c = await chat.ws()
  c.send('C2S_UserLogin', { token: sign(uid), login_plat: 1 })
  assert.equal((await c.nextOf('S2C_UserLogin')).body.ret, 1)
  return c
}

/** Subscribes with `since`; returns the messages before the reply, and the reply. */
async function subscribe (c: BaseClient, id: number, room: string, since: string): Promise<{ before: Received[], reply: Received['body'] }> {
  c.send('Gate_Subscribe', { id, room, since })
  const before: Received[] = []
  for (;;) {
    const m = await c.next()
    if (m.name === 'Gate_Reply') return { before, reply: m.body }
    before.push(m)
  }
}

async function push (chat: Chat, room: string, n: number): Promise<{ delivered: number, stored?: number }> {
  return await chat.app.gate.pushToRoom(room, 'S2C_Message', { from_uid: 'bob', room, content: `m${n}`, ts: 1 })
}

/** The reply's fields of a subscribe (protobuf decodes `answer: false` too). */
const pick = ({ id, code, recovered, pos }: Received['body']): object => ({ id, code, recovered, pos })
const epochOf = (pos: string): string => pos.slice(0, pos.lastIndexOf(':'))
const contents = (ms: Received[]): string[] => ms.map(m => (m.body as { content: string }).content)

for (const encoding of ['json', 'protobuf'] as const) {
  test(`${encoding}: subscribe with since, messages, disconnect, more messages, subscribe again: the missed ones once, in order, recovered`, async (t) => {
    const chat = await startChat(t, encoding)
    const watcher = await loggedIn(chat, 'watcher')
    watcher.send('C2S_UpdateWatchRoom', { rooms: ['lobby'] })
    await watcher.nextOf('S2C_UpdateWatchRoom')

    const alice = await loggedIn(chat, 'alice')
    const first = await subscribe(alice, 1, 'lobby', '')
    assert.deepEqual(first.before, [])
    assert.equal(first.reply.code, '')
    assert.equal(first.reply.recovered, false, 'a first subscribe has nothing to recover')
    const epoch = epochOf(first.reply.pos as string)
    assert.equal(first.reply.pos, `${epoch}:0`)

    for (let n = 1; n <= 3; n++) assert.deepEqual(await push(chat, 'lobby', n), { delivered: 2, stored: 1 })
    for (let n = 1; n <= 3; n++) {
      const m = await alice.nextOf('S2C_Message')
      assert.deepEqual([m.body.content, m.body.gate_room, m.body.gate_pos], [`m${n}`, 'lobby', `${epoch}:${n}`])
      const w = await watcher.nextOf('S2C_Message')
      assert.equal(w.body.content, `m${n}`)
      assert.equal(w.body.gate_pos, undefined, 'a member that did not ask gets no position')
      assert.equal(w.body.gate_room, undefined)
    }
    await alice.close()

    for (let n = 4; n <= 6; n++) assert.deepEqual(await push(chat, 'lobby', n), { delivered: 1, stored: 1 })
    const again = await loggedIn(chat, 'alice')
    const second = await subscribe(again, 2, 'lobby', `${epoch}:3`)
    assert.deepEqual(contents(second.before), ['m4', 'm5', 'm6'], 'the missed ones, before the reply')
    assert.deepEqual(second.before.map(m => m.body.gate_pos), [4, 5, 6].map(n => `${epoch}:${n}`))
    assert.deepEqual(pick(second.reply), { id: 2, code: '', recovered: true, pos: `${epoch}:6` })

    await push(chat, 'lobby', 7)
    const live = await again.nextOf('S2C_Message')
    assert.deepEqual([live.body.content, live.body.gate_pos], ['m7', `${epoch}:7`])
    // Nothing twice: the next message after a heartbeat round trip is the heartbeat.
    again.send('C2S_UserHeartBeat', { ptime: 1 })
    assert.equal((await again.next()).name, 'C2S_UserHeartBeat')

    // Unsubscribe ends the positions; a member again by the application's own message gets none.
    again.send('Gate_Unsubscribe', { id: 3, room: 'lobby' })
    assert.equal((await again.nextOf('Gate_Reply')).body.code, '')
    again.send('C2S_UpdateWatchRoom', { rooms: ['lobby'] })
    await again.nextOf('S2C_UpdateWatchRoom')
    await push(chat, 'lobby', 8)
    const plain = await again.nextOf('S2C_Message')
    assert.deepEqual([plain.body.content, plain.body.gate_pos, plain.body.gate_room], ['m8', undefined, undefined])
  })
}

test('a kept room message pushed except a member that tracks the room is not sent to it later by a gap fill; its next message follows at once', async (t) => {
  const chat = await startChat(t, 'json')
  const alice = await loggedIn(chat, 'alice')
  const bob = await loggedIn(chat, 'bob')
  const { reply } = await subscribe(alice, 1, 'lobby', '')
  await subscribe(bob, 1, 'lobby', '')
  const epoch = epochOf(reply.pos as string)
  assert.deepEqual(await chat.app.gate.pushToRoom('lobby', 'S2C_Message', { from_uid: 'alice', room: 'lobby', content: 'mine', ts: 1 }, { except: { uid: 'alice' } }), { delivered: 1, stored: 1 })
  assert.equal((await bob.nextOf('S2C_Message')).body.content, 'mine')
  await push(chat, 'lobby', 2)
  const next = await alice.nextOf('S2C_Message')
  assert.deepEqual([next.body.content, next.body.gate_pos], ['m2', `${epoch}:2`], 'the next message, not her own from a gap fill')
  // Nothing twice: the next message after a heartbeat round trip is the heartbeat.
  alice.send('C2S_UserHeartBeat', { ptime: 1 })
  assert.equal((await alice.next()).name, 'C2S_UserHeartBeat')
})

test('too old: messages dropped by maxCount, or a position of another epoch: recovered false, what is kept replayed once', async (t) => {
  const chat = await startChat(t, 'json', { GATE_HISTORY_MAX_COUNT: '3' })
  const alice = await loggedIn(chat, 'alice')
  const { reply } = await subscribe(alice, 1, 'news', '')
  const epoch = epochOf(reply.pos as string)
  await alice.close()
  for (let n = 1; n <= 6; n++) await push(chat, 'news', n)

  const late = await loggedIn(chat, 'alice')
  const r1 = await subscribe(late, 2, 'news', `${epoch}:1`)
  assert.deepEqual(contents(r1.before), ['m4', 'm5', 'm6'], 'what the stream still keeps')
  assert.deepEqual(r1.reply, { id: 2, code: '', recovered: false, pos: `${epoch}:6` })
  await late.close()

  const lost = await loggedIn(chat, 'alice')
  const r2 = await subscribe(lost, 3, 'news', 'gone-epoch:5')
  assert.deepEqual(contents(r2.before), ['m4', 'm5', 'm6'], 'every kept message of the epoch the client never saw')
  assert.deepEqual(r2.reply, { id: 3, code: '', recovered: false, pos: `${epoch}:6` })

  // A room nobody kept anything in: a position from now on.
  const r3 = await subscribe(lost, 4, 'quiet', '')
  assert.equal(r3.reply.recovered, false)
  assert.match(r3.reply.pos as string, /^[\w-]+:0$/)
})

test('a subscribe without since is answered as before: no recovered, no pos, no positions on the room\'s messages', async (t) => {
  const chat = await startChat(t, 'json')
  const alice = await loggedIn(chat, 'alice')
  alice.send('Gate_Subscribe', { id: 1, room: 'lobby' })
  assert.deepEqual((await alice.nextOf('Gate_Reply')).body, { id: 1, code: '' })
  await push(chat, 'lobby', 1)
  const m = await alice.nextOf('S2C_Message')
  assert.deepEqual(m.body, { from_uid: 'bob', room: 'lobby', content: 'm1', ts: 1 })
})

test('a refused subscribe with since is refused as before, without recovered or pos', async (t) => {
  const chat = await startChat(t, 'json')
  const alice = await loggedIn(chat, 'alice')
  alice.send('Gate_Subscribe', { id: 1, room: 'private:bob', since: '' })
  assert.deepEqual((await alice.nextOf('Gate_Reply')).body, { id: 1, code: 'NOT_ALLOWED' })
})

test('a uid cannot be a room\'s stream key: uids starting with NUL are refused', async (t) => {
  const chat = await startChat(t, 'json')
  await assert.rejects(chat.app.gate.pushToUids(['\0room\0lobby'], 'S2C_Message', { from_uid: 'x', content: 'y', ts: 1 }), { code: 'FST_GATE_INVALID_UID' })
})
