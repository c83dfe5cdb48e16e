import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connectAgent, until } from '../helper.js'
import { login, ok, startAdmin } from './helper.js'

test('GET /gate/stats counts connections by transport and distinct online uids', async (t) => {
  const s = await startAdmin(t, { nodeId: 'node-a' })
  assert.deepEqual(await ok(s, { url: '/gate/stats' }), {
    onlineUsers: 0, connections: 0, nodes: 1, transports: { ws: 0, tcp: 0 }, protocols: { leaf: 0, mqtt: 0 }, node: 'node-a', mode: 'local'
  })

  await login(s, 'ws', 'alice')
  await login(s, 'tcp', 'alice')
  await login(s, 'ws', 'bob')
  const anonymous = await connectAgent(s, 'tcp')
  assert.deepEqual(await ok(s, { url: '/gate/stats' }), {
    onlineUsers: 2, connections: 4, nodes: 1, transports: { ws: 2, tcp: 2 }, protocols: { leaf: 4, mqtt: 0 }, node: 'node-a', mode: 'local'
  })

  await anonymous.client.close()
  await until(() => s.app.gate.connectionCount === 3, 5000, 'the anonymous connection to go')
  const after = await ok(s, { url: '/gate/stats' })
  assert.equal(after.connections, 3)
  assert.deepEqual(after.transports, { ws: 2, tcp: 1 })
  assert.equal(after.onlineUsers, 2)
})
