import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connectAgent, until } from '../helper.js'
import { assertError, call, login, ok, startAdmin } from './helper.js'

test('GET /gate/users pages through every uid in a stable order, without skipping or repeating', async (t) => {
  const s = await startAdmin(t)
  const uids = ['carol', 'alice', 'dave', 'bob', 'erin']
  for (const uid of uids) await login(s, uid === 'bob' ? 'tcp' : 'ws', uid)
  await login(s, 'tcp', 'alice')
  await connectAgent(s, 'ws') // not logged in: not a user

  const all = await ok(s, { url: '/gate/users' })
  assert.equal(all.total, 5)
  assert.equal(all.offset, 0)
  assert.equal(all.limit, 100, 'the default limit')
  assert.equal(all.items.length, 5)
  assert.deepEqual(all.items.find((i: { uid: string }) => i.uid === 'alice'), { uid: 'alice', connections: 2 })

  const paged = []
  for (let offset = 0; offset < 5; offset += 2) {
    const page = await ok(s, { url: `/gate/users?offset=${offset}&limit=2` })
    assert.equal(page.total, 5)
    assert.equal(page.offset, offset)
    assert.equal(page.limit, 2)
    paged.push(...page.items)
  }
  assert.deepEqual(paged, all.items, 'pages of 2 join up to the full list')
  assert.deepEqual(await ok(s, { url: '/gate/users' }), all, 'the same order on every call')
})

test('GET /gate/users: offset past the end is an empty page; limit and offset out of bounds are 400', async (t) => {
  const s = await startAdmin(t)
  await login(s, 'ws', 'alice')
  await login(s, 'tcp', 'bob')

  assert.deepEqual(await ok(s, { url: '/gate/users?offset=2' }), { total: 2, offset: 2, limit: 100, items: [] })
  assert.deepEqual(await ok(s, { url: '/gate/users?offset=1000000&limit=1000' }), { total: 2, offset: 1000000, limit: 1000, items: [] })
  assert.equal((await ok(s, { url: '/gate/users?offset=1&limit=1' })).items.length, 1)

  for (const query of ['limit=0', 'limit=1001', 'limit=-1', 'limit=1.5', 'limit=ten', 'offset=-1', 'offset=0.5', 'offset=x', `offset=${2 ** 53}`]) {
    assertError(await call(s, { url: `/gate/users?${query}` }), 400, 'FST_ERR_VALIDATION')
  }
})

test('GET /gate/users/:uid lists every connection of the uid; 404 once it is offline', async (t) => {
  const s = await startAdmin(t, { nodeId: 'node-a' })
  const ws = await login(s, 'ws', 'alice')
  const tcp = await login(s, 'tcp', 'alice')
  await login(s, 'ws', 'bob')

  const user = await ok(s, { url: '/gate/users/alice' })
  assert.equal(user.uid, 'alice')
  const byId = new Map(user.connections.map((c: { id: string }) => [c.id, c]))
  assert.equal(byId.size, 2)
  for (const { agent } of [ws, tcp]) {
    assert.deepEqual(byId.get(agent.id), {
      id: agent.id,
      node: 'node-a',
      transport: agent.transport,
      protocol: 'leaf',
      remoteAddress: agent.remoteAddress,
      connectedAt: new Date(agent.connectedAt).toISOString()
    })
  }
  assert.match(ws.agent.remoteAddress, /127\.0\.0\.1/)

  assertError(await call(s, { url: '/gate/users/nobody' }), 404, 'FST_GATE_USER_OFFLINE')
  await ws.client.close()
  await tcp.client.close()
  await until(() => s.app.gate.agentsOf('alice').size === 0, 5000, 'alice to go offline')
  assertError(await call(s, { url: '/gate/users/alice' }), 404, 'FST_GATE_USER_OFFLINE')
  assert.equal((await ok(s, { url: '/gate/users' })).total, 1)
})

test('GET /gate/users/:uid takes a URL-encoded uid; one over maxParamLength gets 414', async (t) => {
  const s = await startAdmin(t)
  await login(s, 'ws', 'team/a b')
  assert.equal((await ok(s, { url: `/gate/users/${encodeURIComponent('team/a b')}` })).uid, 'team/a b')
  // Path parameters over Fastify's maxParamLength (default 100) are refused by the router.
  assert.equal((await call(s, { url: `/gate/users/${'x'.repeat(101)}` })).statusCode, 414)
})
