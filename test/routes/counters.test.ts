import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assertError, call, login, ok, startAdmin, TOKENS } from './helper.js'

test('GET /gate/users/:uid/counters: the counters of the uid\'s connections on this node', async (t) => {
  const s = await startAdmin(t, { admin: { tokens: [...TOKENS], dashboard: true }, nodeId: 'node-a' })
  const ws = await login(s, 'ws', 'alice')
  const tcp = await login(s, 'tcp', 'alice')
  ws.client.send('Echo', { text: 'hi' })
  await ws.client.next()

  const answer = await ok(s, { url: '/gate/users/alice/counters' })
  assert.equal(answer.uid, 'alice')
  assert.equal(answer.node, 'node-a')
  const byId = new Map(answer.connections.map((c: { id: string }) => [c.id, c]))
  for (const [{ agent }, msgs] of [[ws, 2], [tcp, 1]] as const) {
    assert.deepEqual(byId.get(agent.id), {
      id: agent.id,
      msgsIn: msgs,
      msgsOut: msgs,
      bytesIn: agent.bytesIn,
      bytesOut: agent.bytesOut,
      lastSeen: new Date(agent.lastSeen).toISOString()
    })
  }
  assert.deepEqual(await ok(s, { url: '/gate/users/nobody/counters' }), { uid: 'nobody', node: 'node-a', connections: [] })
  assertError(await call(s, { url: '/gate/users/alice/counters', token: null }), 401, 'FST_GATE_UNAUTHORIZED')
})
