/**
 * Except-the-sender: a room push that skips a connection or a uid, from a
 * handler and from the admin API, on one node and across two nodes on a
 * private Redis.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Agent } from '../../src/agent.js'
import type { Client } from '../helper.js'
import { until } from '../helper.js'
import { login as loginWs, startNode } from '../fixtures/cluster-app.js'
import { startRedis } from '../redis-helper.js'
import { assertError, assertNothingMore, call, login, ok, startAdmin } from '../routes/helper.js'

/** Subscribes through the control message and waits for the reply. */
async function subscribe (client: Client, room: string): Promise<void> {
  client.send('Gate_Subscribe', { id: 1, room })
  assert.deepEqual(await client.next(), { name: 'Gate_Reply', body: { id: 1, code: '' } })
}

async function expectEcho (client: Client, text: string): Promise<void> {
  assert.deepEqual(await client.next(), { name: 'Echo', body: { text } })
}

test('one node: a handler pushes to its room except its own connection; the admin route skips a connection or a uid', async (t) => {
  const s = await startAdmin(t, { clientControl: true })
  s.app.gate.handle('Secret', async (msg: { text: string }, agent: Agent) => {
    await s.app.gate.pushToRoom('r', 'Echo', { text: msg.text }, { except: { agent: agent.id } })
  })
  const alice1 = await login(s, 'ws', 'alice')
  const alice2 = await login(s, 'tcp', 'alice')
  const bob = await login(s, 'ws', 'bob')
  for (const c of [alice1, alice2, bob]) await subscribe(c.client, 'r')

  alice1.client.send('Secret', { text: 'from alice1' })
  await expectEcho(alice2.client, 'from alice1')
  await expectEcho(bob.client, 'from alice1')
  await assertNothingMore(alice1.client)

  assert.deepEqual(await ok(s, { url: '/gate/rooms/r/push', body: { name: 'Echo', body: { text: 'not alice' }, except: { uid: 'alice' } } }), { delivered: 1 })
  await expectEcho(bob.client, 'not alice')
  assert.deepEqual(await ok(s, { url: '/gate/rooms/r/push', body: { name: 'Echo', body: { text: 'not bob\'s connection' }, except: { agent: bob.agent.id } } }), { delivered: 2 })
  await expectEcho(alice1.client, 'not bob\'s connection')
  await expectEcho(alice2.client, 'not bob\'s connection')
  assert.deepEqual(await ok(s, { url: '/gate/rooms/r/push', body: { name: 'Echo', body: { text: 'everyone' }, except: {} } }), { delivered: 3 })
  for (const c of [alice1, alice2, bob]) {
    await expectEcho(c.client, 'everyone')
    await assertNothingMore(c.client)
  }
  assertError(await call(s, { url: '/gate/rooms/r/push', body: { name: 'Echo', body: { text: 'x' }, except: { nobody: 'x' } } }), 400, 'FST_ERR_VALIDATION')
})

test('two nodes on a private Redis: except a connection and except a uid skip them on every node', async (t) => {
  const redis = await startRedis(t)
  const a = await startNode(t, redis.option, 'a', { clientControl: true })
  const b = await startNode(t, redis.option, 'b', { clientControl: true })
  const alice1 = await loginWs(a.wsUrl, 'alice')
  const alice2 = await loginWs(b.wsUrl, 'alice')
  const bob = await loginWs(a.wsUrl, 'bob')
  const carol = await loginWs(b.wsUrl, 'carol')
  const all = [alice1, alice2, bob, carol]
  t.after(() => Promise.all(all.map(async c => await c.close())))
  for (const c of all) await subscribe(c, 'r')
  // Room pushes go to the nodes with members: wait until both nodes' members are published.
  await until(async () => (await a.app.gate.room('r'))?.total === 4 && (await b.app.gate.room('r'))?.total === 4, 5000, 'the four members to be listed from both nodes')
  const [alice1Agent] = a.app.gate.agentsOf('alice')

  assert.equal((await a.app.gate.pushToRoom('r', 'Echo', { text: 'one' }, { except: { agent: alice1Agent.id } })).delivered, 3)
  for (const c of [alice2, bob, carol]) await expectEcho(c, 'one')
  const [alice2Agent] = b.app.gate.agentsOf('alice')
  // Skipping a connection of the other node, asked from this one.
  assert.equal((await a.app.gate.pushToRoom('r', 'Echo', { text: 'two' }, { except: { agent: alice2Agent.id } })).delivered, 3)
  for (const c of [alice1, bob, carol]) await expectEcho(c, 'two')
  assert.equal((await b.app.gate.pushToRoom('r', 'Echo', { text: 'three' }, { except: { uid: 'alice' } })).delivered, 2)
  for (const c of [bob, carol]) await expectEcho(c, 'three')
  for (const c of all) await assertNothingMore(c)
})
