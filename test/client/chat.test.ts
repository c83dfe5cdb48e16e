import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startChat } from '../example/helper.js'
import { addressesOf, sdkClient } from './helper.js'

for (const encoding of ['json', 'protobuf'] as const) {
  for (const transport of ['ws', 'tcp'] as const) {
    test(`${encoding} over ${transport}: two SDK clients chat to a uid and a room`, async (t) => {
      const at = addressesOf(await startChat(t, encoding))
      const alice = await sdkClient(t, at, transport, 'alice', { rooms: () => ['lobby'] })
      const bob = await sdkClient(t, at, transport === 'ws' ? 'tcp' : 'ws', 'bob', { rooms: () => ['lobby'] })
      await Promise.all([alice.connect(), bob.connect()])
      assert.deepEqual(alice.state, { status: 'connected' })

      const direct = bob.next('S2C_Message')
      alice.send('C2S_Message', { to_uid: 'bob', content: 'hi bob' })
      const m = await direct
      assert.equal(m.from_uid, 'alice')
      assert.equal(m.content, 'hi bob')

      const seen: string[] = []
      alice.on('S2C_Message', msg => seen.push(`${msg.from_uid}:${msg.room ?? ''}:${msg.content}`))
      const inRoom = alice.next('S2C_Message')
      bob.send('C2S_Message', { room: 'lobby', content: 'hello lobby' })
      await inRoom
      assert.deepEqual(seen, ['bob:lobby:hello lobby'])
    })
  }
}

test('json with text frames: the SDK reads text and binary frames alike', async (t) => {
  for (const textFrames of ['1', '0']) {
    const at = addressesOf(await startChat(t, 'json', { GATE_TEXT_FRAMES: textFrames }))
    const alice = await sdkClient(t, at, 'ws', 'alice')
    await alice.connect()
    const answer = alice.next('C2S_UserHeartBeat')
    alice.send('C2S_UserHeartBeat', { ptime: 1 })
    assert.equal(typeof (await answer).ptime, 'number')
  }
})
