/**
 * Issue: one client disconnecting others or exhausting memory through the
 * outbound side. Replayed against the example app: a burst pipelined in one
 * write never closes a receiver that reads; receivers that stop reading are
 * closed with 4004 having pinned no more than their byte bound, read from the
 * gate's own counters.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setImmediate as turn } from 'node:timers/promises'
import { CloseCode } from '../../src/close-codes.js'
import { LEAF_STREAM, LEAF_WS_FRAME, OutboundMessage } from '../../src/codec/outbound.js'
import { defaults } from '../../src/options.js'
import { WsClient } from '../clients.js'
import { closeOf, connectAgent, recordCloses, registerTestMessages, startCore, until } from '../helper.js'
import { burst, startChat, type Client } from './chat.js'

function stopReading (client: Client): void {
  if (client instanceof WsClient) client.ws.pause()
  else client.socket.pause()
}

describe('a burst pipelined in one write never closes a receiver that reads', () => {
  test('4,000 messages of ~540 bytes to one uid (2.2 MB, over the 1 MiB bound), received on TCP and WebSocket', async (t) => {
    const chat = await startChat(t, { GATE_MSG_RATE: '0', GATE_MSG_RATE_PER_IP: '0' })
    const closes = recordCloses(chat.app)
    const { client: mallory } = await chat.user('mallory')
    const victims = [await chat.user('alice', 'tcp'), await chat.user('alice', 'ws')]
    const n = 4000
    const pad = 'x'.repeat(463) // the example's content limit is 468 (examples/chat/messages.ts)
    mallory.sendRaw(burst(n, i => ({ to_uid: 'alice', content: `${i} ${pad}` })))
    for (const { client } of victims) {
      for (let i = 0; i < n; i++) {
        const m = await client.nextOf('S2C_Message', 30_000)
        assert.equal(m.body.content, `${i} ${pad}`)
      }
    }
    assert.deepEqual(closes, [], 'nobody was closed')
    for (const { agent } of victims) assert.equal(agent.isOpen, true)
  })

  test('1,100 messages to a room of 100 members who read: none is closed', async (t) => {
    const chat = await startChat(t, { GATE_MSG_RATE: '0', GATE_MSG_RATE_PER_IP: '0' })
    const closes = recordCloses(chat.app)
    const { client: mallory } = await chat.user('mallory')
    const members: Client[] = []
    for (let i = 0; i < 100; i++) {
      const { client } = await chat.user(`m${i}`, i % 10 === 0 ? 'ws' : 'tcp')
      client.send('C2S_UpdateWatchRoom', { rooms: ['lobby'] })
      await client.nextOf('S2C_UpdateWatchRoom', 30_000)
      members.push(client)
    }
    const n = 1100
    mallory.sendRaw(burst(n, i => ({ room: 'lobby', content: `flood ${i}` })))
    await Promise.all(members.map(async (client) => {
      for (let i = 0; i < n; i++) assert.equal((await client.nextOf('S2C_Message', 30_000)).body.content, `flood ${i}`)
    }))
    assert.deepEqual(closes, [])
  })
})

describe('receivers that stop reading', () => {
  test('100 stalled room members are closed with 4004, each having pinned at most its byte bound; readers and bystanders carry on', async (t) => {
    // (No login timeout: on a loaded machine the pushes can outlast it, and the bystander never logs in.)
    const chat = await startChat(t, { GATE_MSG_RATE: '0', GATE_MSG_RATE_PER_IP: '0', GATE_LOGIN_TIMEOUT: '0' })
    const gate = chat.app.gate
    const closes = recordCloses(chat.app)
    const bound = defaults.maxBufferedBytes
    const stalled = []
    for (let i = 0; i < 100; i++) {
      const { client, agent } = await chat.user(`s${i}`, i % 4 === 0 ? 'ws' : 'tcp')
      client.send('C2S_UpdateWatchRoom', { rooms: ['lobby'] })
      await client.nextOf('S2C_UpdateWatchRoom', 30_000)
      stopReading(client)
      stalled.push(agent)
    }
    const { client: reader } = await chat.user('reader', 'ws')
    reader.send('C2S_UpdateWatchRoom', { rooms: ['lobby'] })
    await reader.nextOf('S2C_UpdateWatchRoom')
    const bystander = await chat.tcp()

    const content = 'é'.repeat(1500) // about 3 KB per message once encoded
    let most = 0
    let mostTotal = 0
    let pushes = 0
    let readerGot = 0
    const reading = (async () => { for (;;) { await reader.nextOf('S2C_Message', 30000); readerGot++ } })().catch(() => {})
    while (stalled.some(a => a.isOpen)) {
      assert.ok(pushes < 20000, 'the stalled receivers are closed in bounded time')
      await gate.pushToRoom('lobby', 'S2C_Message', { from_uid: 'server', room: 'lobby', content, ts: Date.now() })
      pushes++
      for (const a of stalled) most = Math.max(most, a.bufferedBytes)
      mostTotal = Math.max(mostTotal, gate.backlog.bytes)
      if (pushes % 8 === 0) await turn()
    }
    t.diagnostic(`${pushes} room pushes of ~3 KB; most waiting for one stalled receiver ${most} B (bound ${bound}); most queued process-wide ${(mostTotal / 2 ** 20).toFixed(1)} MiB`)
    assert.ok(most <= bound, `a stalled receiver never had more than its bound waiting (saw ${most})`)
    assert.ok(mostTotal <= 100 * bound)
    for (const a of stalled) assert.equal((await closeOf(closes, a)).code, CloseCode.SLOW_CONSUMER)
    assert.equal(gate.backlog.bytes, 0, 'closed connections left nothing queued')
    await until(() => readerGot === pushes, 30000, 'the reader to get every push')
    void reading
    bystander.send('C2S_UserHeartBeat', { ptime: 1 })
    await bystander.nextOf('C2S_UserHeartBeat', 30_000)
    assert.equal(closes.length, 100, 'only the stalled receivers were closed')
  })

  test('past maxTotalBufferedBytes, receivers with a backlog are closed; one that keeps up is not', async (t) => {
    // (No login timeout: on a loaded machine it could close a stalled receiver before its backlog does.)
    const s = await startCore(t, { maxBufferedBytes: 256 * 1024, maxTotalBufferedBytes: 512 * 1024, msgRate: 0, msgRatePerIp: 0, loginTimeout: 0 }, registerTestMessages)
    const gate = s.app.gate
    const closes = recordCloses(s.app)
    const stalled = []
    for (let i = 0; i < 8; i++) {
      const { client, agent } = await connectAgent(s, i % 2 === 0 ? 'tcp' : 'ws')
      stopReading(client)
      stalled.push(agent)
    }
    const { client: reader, agent: readerAgent } = await connectAgent(s, 'tcp')
    const text = 'y'.repeat(3000)
    let most = 0
    for (let i = 0; stalled.some(a => a.isOpen); i++) {
      assert.ok(i < 100000)
      for (const a of stalled) a.send('Echo', { text })
      readerAgent.send('Echo', { text })
      most = Math.max(most, gate.backlog.bytes)
      if (i % 4 === 0) await turn()
    }
    assert.ok(most <= 512 * 1024, `the process-wide backlog stayed within its bound (saw ${most})`)
    const reasons = new Set<string>()
    for (const a of stalled) {
      const c = await closeOf(closes, a)
      assert.equal(c.code, CloseCode.SLOW_CONSUMER)
      reasons.add(c.reason)
    }
    assert.ok(reasons.has('slow consumer: server backlog full'), 'some were shed by the process-wide bound')
    assert.equal(readerAgent.isOpen, true)
    reader.send('Echo', { text: 'still here' })
    while ((await reader.next()).body.text !== 'still here');
  })
})

test('a queued frame owns its memory: no 8 KiB pool slab behind a small message', () => {
  const payload = Buffer.from('{"Echo":{"text":"hi"}}') // from the shared pool
  assert.notEqual(payload.buffer.byteLength, payload.length)
  const msg = new OutboundMessage('Echo', payload, false, { lenMsgLen: 2, littleEndian: false })
  for (const tcp of [true, false]) {
    const q = msg.unpooledFrame(tcp ? LEAF_STREAM : LEAF_WS_FRAME)
    assert.equal(q.buffer.byteLength, q.length)
    assert.deepEqual(q, tcp ? msg.framed : msg.wsFrame)
    assert.equal(msg.unpooledFrame(tcp ? LEAF_STREAM : LEAF_WS_FRAME), q, 'made once per message, shared by every receiver')
  }
})
