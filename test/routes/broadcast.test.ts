import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connectAgent } from '../helper.js'
import { assertError, assertNothingMore, call, login, ok, startAdmin } from './helper.js'

test('POST /gate/broadcast reaches every open connection, or only logged-in ones with loggedInOnly', async (t) => {
  const s = await startAdmin(t)
  const users = [await login(s, 'ws', 'alice'), await login(s, 'tcp', 'bob')]
  const anonymous = [await connectAgent(s, 'ws'), await connectAgent(s, 'tcp')]

  assert.deepEqual(await ok(s, { url: '/gate/broadcast', body: { name: 'Echo', body: { text: 'to all' } } }), { delivered: 4 })
  for (const { client } of [...users, ...anonymous]) assert.deepEqual(await client.next(), { name: 'Echo', body: { text: 'to all' } })

  const body = { name: 'Echo', body: { text: 'members only' }, loggedInOnly: true }
  assert.deepEqual(await ok(s, { url: '/gate/broadcast', body }), { delivered: 2 })
  for (const { client } of users) assert.deepEqual(await client.next(), { name: 'Echo', body: { text: 'members only' } })
  for (const { client } of anonymous) await assertNothingMore(client)

  assert.deepEqual(await ok(s, { url: '/gate/broadcast', body: { ...body, loggedInOnly: false } }), { delivered: 4 })
})

test('POST /gate/broadcast: an unknown name or a bad body is 400, and nothing is sent', async (t) => {
  const s = await startAdmin(t)
  const clients = [await connectAgent(s, 'ws'), await login(s, 'tcp', 'bob')]
  assertError(await call(s, { url: '/gate/broadcast', body: { name: 'Nope', body: {} } }), 400, 'FST_GATE_UNKNOWN_MESSAGE')
  assertError(await call(s, { url: '/gate/broadcast', body: { name: 'Echo', body: { text: 1 } } }), 400, 'FST_GATE_INVALID_BODY')
  assertError(await call(s, { url: '/gate/broadcast', body: { name: 'Echo', body: { text: 'x' }, loggedInOnly: 'maybe' } }), 400, 'FST_ERR_VALIDATION')
  for (const { client } of clients) await assertNothingMore(client)
})
