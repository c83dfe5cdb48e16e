import assert from 'node:assert/strict'
import { test } from 'node:test'
import { WsClient } from '../clients.js'
import { until } from '../helper.js'
import { ResumingClient, historyWire, range, startHistoryGate, type Encoding } from './app.js'

const encodings: Encoding[] = ['json', 'protobuf']

test('a client that never resumes sees no change on the wire: no position field', async (t) => {
  const s = await startHistoryGate(t)
  const raw: Buffer[] = []
  const client = await WsClient.connect(s.wsUrl, historyWire('json'))
  t.after(() => client.close())
  client.ws.on('message', (data: Buffer) => raw.push(data))
  client.send('Hello', { uid: 'leaf' })
  await client.nextOf('Welcome')
  const d = await s.app.gate.pushToUids(['leaf'], 'Note', { text: 'hi', n: 1 })
  assert.deepEqual(d, { delivered: 1, stored: 1 })
  await client.nextOf('Note')
  assert.equal(raw.at(-1)!.toString(), '{"Note":{"text":"hi","n":1}}')
})

test('a push to an offline uid is stored, and a message without history is not', async (t) => {
  const s = await startHistoryGate(t)
  assert.deepEqual(await s.app.gate.pushToUids(['away', 'gone'], 'Note', { text: 'x', n: 1 }), { delivered: 0, stored: 2 })
  assert.deepEqual(await s.app.gate.pushToUids(['away'], 'Welcome', {}), { delivered: 0 })
})

for (const encoding of encodings) {
  test(`${encoding}: a reconnect in the middle of a stream of pushes: no gap, no duplicate, order kept`, async (t) => {
    const s = await startHistoryGate(t, encoding)
    const alice = new ResumingClient(encoding)
    const first = await alice.login(s.wsUrl, 'alice')
    assert.equal(first.recovered, false, 'a first login has nothing to recover')
    assert.match(first.pos, /^[\w-]+:0$/)
    const total = 300
    let sent = 0
    const pushing = (async () => {
      while (sent < total) {
        await s.app.gate.pushToUids(['alice'], 'Note', { text: 'tick', n: ++sent })
        if (sent % 10 === 0) await new Promise(resolve => setTimeout(resolve, 1))
      }
    })()
    for (let round = 0; round < 3; round++) {
      await until(() => sent >= (round + 1) * 60, 5000, 'pushes to go on')
      // Drop the connection with whatever it has not read yet, and come back. (On a
      // slow machine every push may have arrived already, in the last login's replay.)
      await alice.until(Math.min(alice.notes.length + 1, total))
      alice.client.ws.terminate()
      await alice.client.closed
      await until(() => s.app.gate.agentsOf('alice').size === 0, 5000, 'the server to see the drop')
      const welcome = await alice.login(s.wsUrl, 'alice')
      assert.equal(welcome.recovered, true, `round ${round}: recovered`)
    }
    await pushing
    await alice.until(total)
    assert.deepEqual(alice.ns, range(1, total))
    assert.deepEqual(alice.offsets, range(1, total))
    await alice.client.close()
  })
}

test('caps by count: a resume past the cap says recovered false and replays what is kept', async (t) => {
  const s = await startHistoryGate(t, 'json', { history: { maxCount: 5 } })
  const bob = new ResumingClient()
  await bob.login(s.wsUrl, 'bob')
  await s.app.gate.pushToUids(['bob'], 'Note', { text: 'seen', n: 1 })
  await bob.until(1)
  await bob.client.close()
  for (let n = 2; n <= 11; n++) await s.app.gate.pushToUids(['bob'], 'Note', { text: 'missed', n })
  const w = await bob.login(s.wsUrl, 'bob')
  assert.deepEqual([w.recovered, w.replayed], [false, 5])
  assert.deepEqual(bob.ns, [1, 7, 8, 9, 10, 11])
  await bob.client.close()

  // Within the cap, the same client recovers fully.
  for (let n = 12; n <= 14; n++) await s.app.gate.pushToUids(['bob'], 'Note', { text: 'missed', n })
  const again = await bob.login(s.wsUrl, 'bob')
  assert.deepEqual([again.recovered, again.replayed], [true, 3])
  assert.deepEqual(bob.ns.slice(-3), [12, 13, 14])
  await bob.client.close()
})

test('caps by age: expired messages are not replayed, and the recovery is incomplete', async (t) => {
  // The store's clock is Date's, mocked: messages age without waiting.
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() })
  const s = await startHistoryGate(t, 'json', { history: { maxAge: 1000 } })
  const carol = new ResumingClient()
  await carol.login(s.wsUrl, 'carol')
  await carol.client.close()
  for (let n = 1; n <= 3; n++) await s.app.gate.pushToUids(['carol'], 'Note', { text: 'old', n })
  t.mock.timers.tick(1001)
  for (let n = 4; n <= 5; n++) await s.app.gate.pushToUids(['carol'], 'Note', { text: 'new', n })
  const w = await carol.login(s.wsUrl, 'carol')
  assert.deepEqual([w.recovered, w.replayed], [false, 2])
  assert.deepEqual(carol.ns, [4, 5])
  await carol.client.close()
})

test('an unknown or foreign position: recovery incomplete, the current stream is replayed once', async (t) => {
  const s = await startHistoryGate(t)
  for (let n = 1; n <= 3; n++) await s.app.gate.pushToUids(['dan'], 'Note', { text: 'x', n })
  const dan = new ResumingClient()
  dan.pos = 'some-old-epoch:42'
  const w = await dan.login(s.wsUrl, 'dan')
  assert.deepEqual([w.recovered, w.replayed], [false, 3])
  assert.deepEqual(dan.ns, [1, 2, 3])
  await dan.client.close()
})

test('a large backlog (4,000 messages, over maxBufferedBytes) is replayed in order, with live pushes during the replay', async (t) => {
  const s = await startHistoryGate(t, 'json', { history: { maxCount: 10000 } })
  const eve = new ResumingClient()
  await eve.login(s.wsUrl, 'eve')
  await eve.client.close()
  const text = 'x'.repeat(400)
  const backlog = 4000
  for (let n = 1; n <= backlog; n++) await s.app.gate.pushToUids(['eve'], 'Note', { text, n })
  let live = backlog
  const loggingIn = eve.login(s.wsUrl, 'eve')
  // Pushes while the replay runs: they come after it, each once.
  while (live < backlog + 50) await s.app.gate.pushToUids(['eve'], 'Note', { text: 'live', n: ++live })
  const w = await loggingIn
  assert.equal(w.recovered, true)
  await eve.until(backlog + 50, 10000)
  assert.deepEqual(eve.ns, range(1, backlog + 50))
  assert.deepEqual(eve.offsets, range(1, backlog + 50))
  await eve.client.close()
})

test('uid-to-uid messages are kept too, and every connection of the uid tracks its own position', async (t) => {
  const s = await startHistoryGate(t, 'protobuf')
  const a = new ResumingClient('protobuf')
  const b1 = new ResumingClient('protobuf')
  await a.login(s.wsUrl, 'a')
  await b1.login(s.wsUrl, 'b')
  await b1.client.close()
  for (let n = 1; n <= 5; n++) a.client.send('Send', { to: 'b', n })
  // A's messages are handled in order: once a 6th to itself comes back, the 5 are stored.
  a.client.send('Send', { to: 'a', n: 6 })
  await a.until(1)
  const b2 = new ResumingClient('protobuf')
  b2.pos = b1.pos
  const w2 = await b2.login(s.wsUrl, 'b')
  assert.deepEqual([w2.recovered, w2.replayed], [true, 5])
  assert.deepEqual(b2.ns, [1, 2, 3, 4, 5])
  assert.equal(b2.notes[0].body.text, 'from a')
  // b1 resumes from its own (older) position: same messages, same offsets.
  const w1 = await b1.login(s.wsUrl, 'b')
  assert.deepEqual([w1.recovered, w1.replayed], [true, 5])
  assert.deepEqual(b1.offsets, b2.offsets)
  await Promise.all([a.client.close(), b1.client.close(), b2.client.close()])
})
