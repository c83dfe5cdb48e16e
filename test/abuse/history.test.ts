/**
 * Issue 21, attack 3: history had no total bound (100 connections sending to
 * made-up uids took RSS from 527 to 2,065 MiB in 60 s), and 120,000
 * one-message streams evicted alice's unread messages. Now the memory store
 * holds at most `history.maxBytes` (and `maxStreams`), and the streams of uids
 * that never logged in go first. Figures from the store itself.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryHistoryStore } from '../../src/history/memory-store.js'
import { historyDefaults } from '../../src/history/options.js'
import { burst, sign, startChat } from './chat.js'

test('a flood to made-up uids stays within the byte bound, and alice keeps her 5 unread messages', async (t) => {
  const maxBytes = 1024 * 1024
  const chat = await startChat(t, { GATE_HISTORY_MAX_BYTES: String(maxBytes), GATE_MSG_RATE: '0', GATE_MSG_RATE_PER_IP: '0' })
  const store = chat.app.gate.history.store as MemoryHistoryStore

  // alice logs in asking for positions, then leaves; bob writes to her 5 times.
  const alice = await chat.tcp()
  alice.send('C2S_UserLogin', { token: sign('alice'), login_plat: 1, resume_pos: '' })
  const pos = (await alice.nextOf('S2C_UserLogin')).body.gate_pos as string
  await alice.close()
  const { client: bob } = await chat.user('bob')
  for (let i = 0; i < 5; i++) bob.send('C2S_Message', { to_uid: 'alice', content: `unread ${i}` })

  // mallory writes 5,000 messages of ~500 bytes to 5,000 made-up uids: about 2.5 MB for a 1 MiB bound
  // (content within the example's limit, CONTENT_MAX_LENGTH 468: a longer one closes her with 1007).
  const { client: mallory, agent } = await chat.user('mallory')
  const pad = 'm'.repeat(460)
  mallory.sendRaw(burst(5000, i => ({ to_uid: `ghost-${i}`, content: pad })))
  let most = 0
  while (agent.isOpen && (agent.msgsIn < 5000 || chat.app.gate.dispatch.busy(agent))) {
    most = Math.max(most, store.bytes)
    await new Promise(resolve => setImmediate(resolve))
  }
  assert.equal(agent.msgsIn, 5001, 'her login and every message of the flood read (a refused one closes the connection)')
  most = Math.max(most, store.bytes)
  t.diagnostic(`5,000 messages to made-up uids: history held at most ${most} B (bound ${maxBytes}), ${store.size} streams kept, ${store.evicted} evicted`)
  assert.ok(most <= maxBytes, `within the bound (${most})`)
  assert.ok(store.evicted > 0, 'the flood evicted its own streams')

  // alice comes back: everything she missed is replayed.
  const back = await chat.tcp()
  back.send('C2S_UserLogin', { token: sign('alice'), login_plat: 1, resume_pos: pos })
  const replayed = []
  for (let i = 0; i < 5; i++) replayed.push((await back.nextOf('S2C_Message')).body.content)
  assert.deepEqual(replayed, [0, 1, 2, 3, 4].map(i => `unread ${i}`))
  const login = await back.nextOf('S2C_UserLogin')
  assert.equal(login.body.recovered, true)
})

test('maxStreams: 1,000 one-message streams of made-up uids do not evict a uid that logged in', () => {
  const store = new MemoryHistoryStore({ ...historyDefaults, maxStreams: 100 })
  store.loggedIn('alice')
  for (let i = 0; i < 5; i++) store.appendSync('alice', 'S2C_Message', false, Buffer.from(`unread ${i}`))
  for (let i = 0; i < 1000; i++) store.appendSync(`ghost-${i}`, 'S2C_Message', false, Buffer.from('x'))
  assert.equal(store.size, 100)
  return store.read('alice', 0, 10).then(r => { assert.equal(r.items.length, 5) })
})
