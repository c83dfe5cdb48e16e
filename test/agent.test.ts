import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Agent } from '../src/agent.js'
import { CloseCode } from '../src/close-codes.js'
import type { MultiLoginPolicy } from '../src/options.js'
import {
  assertEchoes, closeOf, connectAgent, encodingOptions, encodings, recordCloses, registerTestMessages, startCore,
  testWire, transports, until, type Client, type Started
} from './helper.js'

/** Connects on `transport`, logs in as `uid` (when given) and returns client and agent. */
async function login (s: Started, transport: 'ws' | 'tcp', uid?: string): Promise<{ client: Client, agent: Agent }> {
  const c = await connectAgent(s, transport)
  if (uid !== undefined) {
    c.client.send('Login', { uid })
    assert.equal((await c.client.next()).body.text, `welcome ${uid}`)
  }
  return c
}

for (const transport of transports) {
  describe(`agent over ${transport}`, () => {
    test('identity: id, transport, remoteAddress, connectedAt, data', async (t) => {
      const s = await startCore(t, { nodeId: 'node-a' }, registerTestMessages)
      const before = Date.now()
      const a = await connectAgent(s, transport)
      const b = await connectAgent(s, transport)
      assert.match(a.agent.id, /^node-a-/)
      assert.notEqual(a.agent.id, b.agent.id)
      assert.equal(a.agent.transport, transport)
      assert.equal(a.agent.remoteAddress, '127.0.0.1')
      assert.ok(a.agent.connectedAt >= before - 1000 && a.agent.connectedAt <= Date.now())
      assert.deepEqual(a.agent.data, {})
      assert.equal(a.agent.uid, undefined)
      assert.equal(s.app.gate.agent(a.agent.id), a.agent)
      assert.equal(s.app.gate.agent('nope'), undefined)
    })

    test('send returns false once the connection is closed', async (t) => {
      const s = await startCore(t, {}, registerTestMessages)
      const { client, agent } = await connectAgent(s, transport)
      assert.equal(agent.send('Echo', { text: 'one' }), true)
      assert.equal((await client.next()).body.text, 'one')
      await client.close()
      await until(() => !agent.isOpen)
      assert.equal(agent.send('Echo', { text: 'two' }), false)
      agent.close() // closing twice does nothing
    })

    for (const encoding of encodings) {
      test(`send: unknown name, invalid body and too large are thrown, and the connection stays open (${encoding})`, async (t) => {
        const s = await startCore(t, { ...encodingOptions(encoding), maxMsgLen: 200 }, registerTestMessages)
        const { client, agent } = await connectAgent(s, transport, testWire(encoding))
        assert.throws(() => agent.send('Nope', {}), { code: 'FST_GATE_UNKNOWN_MESSAGE' })
        assert.throws(() => agent.send('Echo', { text: 5 }), { code: 'FST_GATE_INVALID_BODY' })
        assert.throws(() => agent.send('Echo', { text: 'x'.repeat(300) }), { code: 'FST_GATE_MESSAGE_TOO_LARGE' })
        assert.equal(agent.isOpen, true)
        assert.equal(agent.msgsOut, 0, 'nothing was sent')
        await assertEchoes(client)
      })
    }

    test('counters of messages and bytes, per agent and gate-wide', async (t) => {
      const s = await startCore(t, {}, registerTestMessages)
      const { client, agent } = await connectAgent(s, transport)
      const payload = client.wire.encode('Echo', { text: 'count me' })
      const wireBytes = payload.length + (transport === 'tcp' ? 2 : 0)
      await assertEchoes(client, 'count me')
      await assertEchoes(client, 'count me')
      assert.deepEqual([agent.msgsIn, agent.msgsOut, agent.bytesIn, agent.bytesOut], [2, 2, 2 * wireBytes, 2 * wireBytes])
      const c = s.app.gate.counters
      assert.deepEqual([c.msgsIn, c.msgsOut, c.bytesIn, c.bytesOut], [2, 2, 2 * wireBytes, 2 * wireBytes])
    })

    test('bind and unbind', async (t) => {
      const s = await startCore(t, {}, registerTestMessages)
      const { agent } = await connectAgent(s, transport)
      await agent.bind('u1')
      assert.equal(agent.uid, 'u1')
      assert.deepEqual([...s.app.gate.agentsOf('u1')], [agent])
      assert.equal((await s.app.gate.stats()).onlineUsers, 1)
      await agent.bind('u2')
      assert.equal(agent.uid, 'u2')
      assert.equal(s.app.gate.agentsOf('u1').size, 0)
      assert.deepEqual((await s.app.gate.users()).items, [{ uid: 'u2', connections: 1 }])
      agent.unbind()
      assert.equal(agent.uid, undefined)
      assert.equal(s.app.gate.agentsOf('u2').size, 0)
      assert.equal((await s.app.gate.stats()).onlineUsers, 0)
      await assert.rejects(agent.bind(''), { code: 'FST_GATE_INVALID_UID' })
      await assert.rejects(agent.bind('x'.repeat(101)), { code: 'FST_GATE_INVALID_UID' })
    })

    test('a closed agent cannot bind, and closing forgets its uid and rooms', async (t) => {
      const s = await startCore(t, {}, registerTestMessages)
      const closes = recordCloses(s.app)
      const { client, agent } = await login(s, transport, 'u1')
      agent.join('r1')
      await client.close()
      await closeOf(closes, agent)
      assert.equal(s.app.gate.agentsOf('u1').size, 0)
      assert.equal((await s.app.gate.pushToRoom('r1', 'Echo', { text: 'x' })).delivered, 0)
      await assert.rejects(agent.bind('u2'), { code: 'FST_GATE_NOT_CONNECTED' })
      assert.deepEqual(await s.app.gate.stats(), { onlineUsers: 0, connections: 0, nodes: 1, transports: { ws: 0, tcp: 0 }, protocols: { leaf: 0, mqtt: 0 }, node: s.app.gate.nodeId, mode: 'local' })
    })

    test('join, leave and rooms', async (t) => {
      const s = await startCore(t, {}, registerTestMessages)
      const { client, agent } = await connectAgent(s, transport)
      agent.join('r1')
      agent.join('r2')
      agent.join('r1')
      assert.deepEqual([...agent.rooms].sort(), ['r1', 'r2'])
      assert.equal((await s.app.gate.pushToRoom('r1', 'Echo', { text: 'to r1' })).delivered, 1)
      assert.equal((await client.next()).body.text, 'to r1')
      agent.leave('r1')
      agent.leave('never joined')
      assert.deepEqual([...agent.rooms], ['r2'])
      assert.equal((await s.app.gate.pushToRoom('r1', 'Echo', { text: 'x' })).delivered, 0)
      assert.throws(() => agent.join(''), { code: 'FST_GATE_INVALID_ROOM' })
      assert.equal(client.pending, 0)
    })

    test('kick: 4001 with the reason; by uid and by agent id; the default reason is "kicked"', async (t) => {
      const s = await startCore(t, {}, registerTestMessages)
      const closes = recordCloses(s.app)
      const a = await login(s, transport, 'u1')
      const b = await login(s, transport, 'u1')
      const c = await login(s, transport)
      const bystander = await login(s, transport, 'u2')
      assert.deepEqual(await s.app.gate.kick({ uids: ['u1'] }, 'bye now'), { kicked: 2 })
      for (const k of [a, b]) {
        assert.deepEqual(await closeOf(closes, k.agent), { id: k.agent.id, transport, code: CloseCode.KICKED, reason: 'bye now' })
        if (transport === 'ws') assert.deepEqual(await k.client.closed, { code: CloseCode.KICKED, reason: 'bye now' })
      }
      assert.deepEqual(await s.app.gate.kick({ agents: [c.agent.id, 'unknown'] }), { kicked: 1 })
      assert.equal((await closeOf(closes, c.agent)).reason, 'kicked')
      if (transport === 'ws') assert.deepEqual(await c.client.closed, { code: CloseCode.KICKED, reason: 'kicked' })
      assert.deepEqual(await s.app.gate.kick({ uids: ['nobody'] }), { kicked: 0 })
      await assertEchoes(bystander.client)
    })

    test('a kick reason is cut to the 123 bytes a close frame holds, on a character boundary', async (t) => {
      const s = await startCore(t, {}, registerTestMessages)
      const closes = recordCloses(s.app)
      const { client, agent } = await login(s, transport, 'u1')
      const reason = 'é'.repeat(100) // 200 bytes
      await s.app.gate.kick({ uids: ['u1'] }, reason)
      const expected = 'é'.repeat(61) // 122 bytes: a 62nd would make 124
      assert.equal((await closeOf(closes, agent)).reason, expected)
      if (transport === 'ws') assert.deepEqual(await client.closed, { code: CloseCode.KICKED, reason: expected })
    })
  })
}

describe('multiLogin policies', () => {
  const policies: MultiLoginPolicy[] = ['allow', 'replace', 'reject']
  for (const multiLogin of policies) {
    for (const [first, second] of [['ws', 'tcp'], ['tcp', 'ws'], ['tcp', 'tcp']] as const) {
      test(`${multiLogin}: ${first} logged in, then ${second} logs in as the same uid`, async (t) => {
        const s = await startCore(t, { multiLogin }, registerTestMessages)
        const closes = recordCloses(s.app)
        const old = await login(s, first, 'u1')
        const next = await connectAgent(s, second)
        if (multiLogin === 'reject') {
          await assert.rejects(next.agent.bind('u1'), { code: 'FST_GATE_UID_IN_USE' })
          assert.equal(next.agent.uid, undefined)
          assert.equal(next.agent.isOpen, true)
          assert.deepEqual([...s.app.gate.agentsOf('u1')], [old.agent])
          // Once the first one leaves, the uid is free.
          await old.client.close()
          await closeOf(closes, old.agent)
          await next.agent.bind('u1')
          assert.equal(next.agent.uid, 'u1')
          return
        }
        await next.agent.bind('u1')
        if (multiLogin === 'allow') {
          assert.equal(s.app.gate.agentsOf('u1').size, 2)
          assert.equal((await s.app.gate.pushToUids(['u1'], 'Echo', { text: 'both' })).delivered, 2)
          assert.equal((await old.client.next()).body.text, 'both')
          assert.equal((await next.client.next()).body.text, 'both')
          assert.deepEqual(closes, [])
        } else {
          assert.equal((await closeOf(closes, old.agent)).code, CloseCode.REPLACED)
          if (first === 'ws') assert.equal((await old.client.closed).code, CloseCode.REPLACED)
          await until(() => s.app.gate.agentsOf('u1').size === 1)
          assert.deepEqual([...s.app.gate.agentsOf('u1')], [next.agent])
          assert.equal(next.agent.isOpen, true)
        }
        await assertEchoes(next.client)
      })
    }
  }

  test('replace: binding the uid the agent already has changes nothing', async (t) => {
    const s = await startCore(t, { multiLogin: 'replace' }, registerTestMessages)
    const closes = recordCloses(s.app)
    const { client, agent } = await login(s, 'ws', 'u1')
    await agent.bind('u1')
    assert.equal(agent.isOpen, true)
    await assertEchoes(client)
    assert.deepEqual(closes, [])
  })

  test('reject, through the login message: the handler error is counted and the connection stays', async (t) => {
    const s = await startCore(t, { multiLogin: 'reject' }, registerTestMessages)
    await login(s, 'tcp', 'u1')
    const { client } = await connectAgent(s, 'ws')
    client.send('Login', { uid: 'u1' })
    await until(() => s.app.gate.counters.handlerErrors === 1)
    await assertEchoes(client)
  })
})

describe('pushes and broadcast across both transports', () => {
  /** u1 on ws and tcp, u2 on tcp, an anonymous ws; u1(ws) and u2 in room r. */
  async function population (t: import('node:test').TestContext): Promise<{ s: Started, clients: Record<string, Client> }> {
    const s = await startCore(t, {}, registerTestMessages)
    const u1ws = await login(s, 'ws', 'u1')
    const u1tcp = await login(s, 'tcp', 'u1')
    const u2tcp = await login(s, 'tcp', 'u2')
    const anon = await login(s, 'ws')
    u1ws.agent.join('r')
    u2tcp.agent.join('r')
    return { s, clients: { u1ws: u1ws.client, u1tcp: u1tcp.client, u2tcp: u2tcp.client, anon: anon.client } }
  }

  /** Asserts exactly these clients got the message, and the others nothing. */
  async function assertReached (clients: Record<string, Client>, names: string[], text: string): Promise<void> {
    for (const name of names) assert.deepEqual((await clients[name].next()).body, { text }, name)
    // A round trip on every client proves nothing else was queued before it.
    for (const [name, client] of Object.entries(clients)) {
      await assertEchoes(client, `after ${text}`)
      assert.equal(client.pending, 0, name)
    }
  }

  test('pushToUids counts every connection of those uids, once each', async (t) => {
    const { s, clients } = await population(t)
    assert.deepEqual(await s.app.gate.pushToUids(['u1', 'u2', 'nobody', 'u1'], 'Echo', { text: 'p' }), { delivered: 3 })
    await assertReached(clients, ['u1ws', 'u1tcp', 'u2tcp'], 'p')
    assert.deepEqual(await s.app.gate.pushToUids([], 'Echo', { text: 'none' }), { delivered: 0 })
  })

  test('pushToRoom counts the members', async (t) => {
    const { s, clients } = await population(t)
    assert.deepEqual(await s.app.gate.pushToRoom('r', 'Echo', { text: 'room' }), { delivered: 2 })
    await assertReached(clients, ['u1ws', 'u2tcp'], 'room')
    assert.deepEqual(await s.app.gate.pushToRoom('empty', 'Echo', { text: 'x' }), { delivered: 0 })
  })

  test('broadcast reaches every connection, or only logged-in ones', async (t) => {
    const { s, clients } = await population(t)
    assert.deepEqual(await s.app.gate.broadcast('Echo', { text: 'all' }), { delivered: 4 })
    await assertReached(clients, ['u1ws', 'u1tcp', 'u2tcp', 'anon'], 'all')
    assert.deepEqual(await s.app.gate.broadcast('Echo', { text: 'members' }, { loggedInOnly: true }), { delivered: 3 })
    await assertReached(clients, ['u1ws', 'u1tcp', 'u2tcp'], 'members')
  })

  test('closed connections are not counted', async (t) => {
    const { s, clients } = await population(t)
    await clients.u1tcp.close()
    await until(() => s.app.gate.connectionCount === 3)
    assert.deepEqual(await s.app.gate.pushToUids(['u1'], 'Echo', { text: 'left' }), { delivered: 1 })
    assert.deepEqual(await s.app.gate.broadcast('Echo', { text: 'left' }), { delivered: 3 })
  })

  test('an unknown name or invalid body is thrown before anything is sent', async (t) => {
    const { s, clients } = await population(t)
    await assert.rejects(s.app.gate.broadcast('Nope', {}), { code: 'FST_GATE_UNKNOWN_MESSAGE' })
    await assert.rejects(s.app.gate.pushToUids(['u1'], 'Echo', { text: 1 }), { code: 'FST_GATE_INVALID_BODY' })
    await assert.rejects(s.app.gate.pushToRoom('r', 'Echo', { text: 'x'.repeat(5000) }), { code: 'FST_GATE_MESSAGE_TOO_LARGE' })
    for (const client of Object.values(clients)) await assertEchoes(client)
  })

  test('stats count connections, users and transports', async (t) => {
    const { s } = await population(t)
    const stats = await s.app.gate.stats()
    assert.deepEqual([stats.connections, stats.onlineUsers, stats.transports], [4, 2, { ws: 2, tcp: 2 }])
    assert.deepEqual((await s.app.gate.users()).items, [{ uid: 'u1', connections: 2 }, { uid: 'u2', connections: 1 }])
    assert.deepEqual((await s.app.gate.user('u1'))?.connections.map(c => c.transport).sort(), ['tcp', 'ws'])
    assert.equal(await s.app.gate.user('nobody'), null)
  })
})
