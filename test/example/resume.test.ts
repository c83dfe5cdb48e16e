/**
 * The example app's history (docs/protocol.md section 8): a client that gives
 * `resume_pos` at login gets positions and, on its next login, what it missed;
 * a client that never does sees the messages of section 6 unchanged.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { tokenSigner } from '../../examples/chat/tokens.js'
import type { Received } from '../clients.js'
import { SECRET, startChat, type ChatClient } from './helper.js'

const sign = tokenSigner(SECRET)

for (const encoding of ['json', 'protobuf'] as const) {
  test(`${encoding}: resume_pos at login replays the missed S2C_Message before S2C_UserLogin, with recovered`, async (t) => {
    const chat = await startChat(t, encoding, { GATE_HISTORY_MAX_COUNT: '50' })
    const bob = await chat.connect('tcp')
    bob.send('C2S_UserLogin', { token: sign('bob') })
    assert.deepEqual((await bob.nextOf('S2C_UserLogin')).body, { ret: 1, msg: 'ok', uid: 'bob' }, 'no new field for a client that does not resume')

    let alice: ChatClient = await chat.connect('ws')
    alice.send('C2S_UserLogin', { token: sign('alice'), resume_pos: '' })
    const first = (await alice.nextOf('S2C_UserLogin')).body
    assert.equal(first.recovered, false)
    let pos: string = first.gate_pos
    assert.match(pos, /^[\w-]+:0$/)

    bob.send('C2S_Message', { to_uid: 'alice', content: 'one' })
    const one = await alice.nextOf('S2C_Message')
    assert.equal(one.body.content, 'one')
    pos = one.body.gate_pos
    await alice.close()
    for (const content of ['two', 'three']) bob.send('C2S_Message', { to_uid: 'alice', content })
    // bob's messages are handled in order: his heartbeat answer comes after both were stored.
    bob.send('C2S_UserHeartBeat', { ptime: 1 })
    await bob.nextOf('C2S_UserHeartBeat')

    alice = await chat.connect('tcp')
    alice.send('C2S_UserLogin', { token: sign('alice'), resume_pos: pos })
    const got: Received[] = []
    for (let m = await alice.next(); ; m = await alice.next()) {
      got.push(m)
      if (m.name === 'S2C_UserLogin') break
    }
    assert.deepEqual(got.map(m => m.name), ['S2C_Message', 'S2C_Message', 'S2C_UserLogin'])
    assert.deepEqual(got.slice(0, 2).map(m => [m.body.content, m.body.from_uid, m.body.gate_pos.split(':')[1]]), [['two', 'bob', '2'], ['three', 'bob', '3']])
    assert.equal(got[2].body.recovered, true)
    assert.equal(got[2].body.gate_pos, got[1].body.gate_pos)
    await Promise.all([alice.close(), bob.close()])
  })
}

test('GATE_HISTORY_MAX_COUNT=0 turns history off: pushes say no stored', async (t) => {
  const chat = await startChat(t, 'json', { GATE_HISTORY_MAX_COUNT: '0' })
  assert.deepEqual(await chat.app.gate.pushToUids(['x'], 'S2C_Message', { from_uid: 'a', content: 'c', ts: 1 }), { delivered: 0 })
})
