import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { HistoryStore, Position } from '../../src/history/store.js'
import { WsClient, type Received } from '../clients.js'
import { ResumingClient, historyWire, startHistoryGate } from './app.js'

/** Holds the store's appends until `release()`: the positions of a push are not known meanwhile. */
function holdAppends (store: HistoryStore): () => void {
  let release!: () => void
  const held = new Promise<void>(resolve => { release = resolve })
  const append = store.append.bind(store)
  store.append = async (...args): Promise<Position> => { await held; return await append(...args) }
  return release
}

async function plainClient (wsUrl: string, uid: string): Promise<WsClient> {
  const client = await WsClient.connect(wsUrl, historyWire('json'))
  client.send('Hello', { uid })
  await client.nextOf('Welcome')
  return client
}

test('a connection that does not track positions gets a history push without waiting for the store; one that tracks gets it once stored, with its position', async (t) => {
  const s = await startHistoryGate(t)
  const bob = await plainClient(s.wsUrl, 'bob')
  t.after(() => bob.close())
  const alice = new ResumingClient()
  await alice.login(s.wsUrl, 'alice')
  t.after(() => alice.client.close())
  const release = holdAppends(s.app.gate.history.store!)
  const push = s.app.gate.pushToUids(['alice', 'bob'], 'Note', { text: 'hi', n: 1 })
  const note = await bob.nextOf('Note')
  assert.equal(note.body.gate_pos, undefined)
  assert.equal(alice.notes.length, 0, 'the tracking connection waits for the position')
  release()
  assert.deepEqual(await push, { delivered: 2, stored: 2 })
  await alice.until(1)
  assert.match(alice.notes[0].body.gate_pos, /:1$/)
})

test('a connection that got a push before it tracked positions (it resumed while the push was stored) does not get it again', async (t) => {
  const s = await startHistoryGate(t)
  const bob = await plainClient(s.wsUrl, 'bob')
  t.after(() => bob.close())
  const release = holdAppends(s.app.gate.history.store!)
  const push = s.app.gate.pushToUids(['bob'], 'Note', { text: 'early', n: 1 })
  await bob.nextOf('Note')
  // The same connection logs in again, now tracking positions, before the append is answered.
  bob.send('Hello', { uid: 'bob', track: true, resume: '' })
  const welcome = await bob.nextOf('Welcome')
  assert.match(welcome.body.pos, /:0$/)
  release()
  await push
  await s.app.gate.pushToUids(['bob'], 'Note', { text: 'later', n: 2 })
  const next: Received = await bob.next()
  assert.deepEqual([next.name, next.body.n], ['Note', 2], 'n 1 is not written a second time')
  assert.match(next.body.gate_pos, /:2$/)
})
