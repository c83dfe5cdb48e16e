/**
 * Room history over MQTT (docs/protocol.md sections 7 and 10): a persistent
 * session (clean session 0) tracks its rooms' positions from its SUBSCRIBE,
 * saves them with the session, and on resume gets each room's missed
 * messages once, in order, then live ones, also when the client subscribes
 * again (MQTT.js does after a reconnect).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { SECRET, startChat, type Chat } from '../example/helper.js'
import { until } from '../helper.js'
import { connectMqtt as connect, type Got } from './mqtt-clients.js'

const sign = tokenSigner(SECRET)

const room = (got: Got[]): Array<[string, string, string]> => got.filter(g => g.topic === 'S2C_Message').map(g => [g.body.content, g.body.gate_room, g.body.gate_pos])
const push = async (chat: Chat, content: string): Promise<{ delivered: number, stored?: number }> =>
  await chat.app.gate.pushToRoom('lobby', 'S2C_Message', { from_uid: 'x', room: 'lobby', content, ts: 1 })

test('a persistent session resumes its room: the missed room messages once, in order, with gate_room and gate_pos; a SUBSCRIBE again changes nothing', { timeout: 30_000 }, async (t) => {
  const chat = await startChat(t, 'json')
  const opts = { clientId: 'tablet-1', clean: false, username: 'bob', password: sign('bob') }
  const first = await connect(t, chat, opts)
  await first.c.subscribeAsync('room/lobby')
  await push(chat, 'm1')
  await push(chat, 'm2')
  await until(() => room(first.got).length === 2, 5000, 'two room messages')
  const epoch = (room(first.got)[0][2]).split(':')[0]
  assert.deepEqual(room(first.got), [['m1', 'lobby', `${epoch}:1`], ['m2', 'lobby', `${epoch}:2`]])
  await first.c.endAsync()
  await until(() => chat.app.gate.agentsOf('bob').size === 0)

  for (const content of ['m3', 'm4']) assert.deepEqual(await push(chat, content), { delivered: 0, stored: 1 })
  const back = await connect(t, chat, opts)
  assert.equal(back.present, true)
  await until(() => room(back.got).length === 2, 5000, 'the room replay')
  assert.deepEqual(room(back.got), [['m3', 'lobby', `${epoch}:3`], ['m4', 'lobby', `${epoch}:4`]], 'what was missed, once: not what the first connection had')

  await back.c.subscribeAsync('room/lobby')
  await push(chat, 'm5')
  await until(() => room(back.got).length === 3, 5000, 'a live room message')
  await new Promise(resolve => setTimeout(resolve, 300)) // past gapTimeout: the subscribe's extra read sent nothing twice
  assert.deepEqual(room(back.got).map(r => r[0]), ['m3', 'm4', 'm5'])
})

test('a clean session (clean session 1) gets room messages as before: no gate_room, no gate_pos', { timeout: 30_000 }, async (t) => {
  const chat = await startChat(t, 'json')
  const plain = await connect(t, chat, { clientId: 'plain-1', clean: true, username: 'bob', password: sign('bob') })
  await plain.c.subscribeAsync('room/lobby')
  await push(chat, 'm1')
  await until(() => room(plain.got).length === 1, 5000, 'a room message')
  assert.deepEqual(plain.got[0].body, { from_uid: 'x', room: 'lobby', content: 'm1', ts: 1 })
})
