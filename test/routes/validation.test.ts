import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assertError, call, login, ok, startAdmin } from './helper.js'

test('admin bodies: wrong types are 400, never coerced, and nothing is sent or kicked', async (t) => {
  const s = await startAdmin(t)
  const alice = await login(s, 'ws', 'alice')
  const bad: Array<[string, unknown]> = [
    ['/gate/push', { uids: 'alice', name: 'Echo', body: { text: 'x' } }],
    ['/gate/push', { uids: [1], name: 'Echo', body: { text: 'x' } }],
    ['/gate/broadcast', { name: 'Echo', body: { text: 'x' }, loggedInOnly: 'true' }],
    ['/gate/broadcast', { name: 'Echo', body: { text: 'x' }, loggedInOnly: 1 }],
    ['/gate/kick', { uids: 'alice' }],
    ['/gate/kick', { uids: ['alice'], reason: 5 }],
    ['/gate/rooms/lobby/push', { name: ['Echo'], body: { text: 'x' } }]
  ]
  for (const [url, body] of bad) assertError(await call(s, { url, body }), 400, 'FST_ERR_VALIDATION')
  assert.equal(alice.agent.isOpen, true, 'not kicked')
  assert.equal(alice.client.pending, 0, 'nothing sent')
})

test('admin bodies: unknown fields are 400, not silently dropped', async (t) => {
  const s = await startAdmin(t)
  const alice = await login(s, 'tcp', 'alice')
  const bad: Array<[string, unknown]> = [
    ['/gate/push', { uids: ['alice'], name: 'Echo', body: { text: 'x' }, priority: 1 }],
    ['/gate/broadcast', { name: 'Echo', body: { text: 'x' }, loggedinonly: true }],
    ['/gate/kick', { uids: ['alice'], why: 'typo of reason' }],
    ['/gate/rooms/lobby/push', { name: 'Echo', body: { text: 'x' }, room: 'other' }]
  ]
  for (const [url, body] of bad) assertError(await call(s, { url, body }), 400, 'FST_ERR_VALIDATION')
  assert.equal(alice.agent.isOpen, true)
  assert.equal(alice.client.pending, 0)
  // The same bodies without the extra field work.
  assert.deepEqual(await ok(s, { url: '/gate/push', body: { uids: ['alice'], name: 'Echo', body: { text: 'x' } } }), { delivered: 1 })
  assert.deepEqual(await alice.client.next(), { name: 'Echo', body: { text: 'x' } })
})

test('query strings are text: ?offset=0&limit=2 still works; non-numbers and unknown parameters are 400', async (t) => {
  const s = await startAdmin(t)
  await login(s, 'ws', 'alice')
  await login(s, 'ws', 'bob')
  await login(s, 'tcp', 'carol')
  const page = await ok(s, { url: '/gate/users?offset=0&limit=2' })
  assert.deepEqual({ total: page.total, offset: page.offset, limit: page.limit, n: page.items.length }, { total: 3, offset: 0, limit: 2, n: 2 })
  const defaults = await ok(s, { url: '/gate/users' })
  assert.deepEqual({ offset: defaults.offset, limit: defaults.limit, n: defaults.items.length }, { offset: 0, limit: 100, n: 3 })
  assertError(await call(s, { url: '/gate/users?offset=abc' }), 400, 'FST_ERR_VALIDATION')
  assertError(await call(s, { url: '/gate/users?limit=1.5' }), 400, 'FST_ERR_VALIDATION')
  assertError(await call(s, { url: '/gate/users?page=2' }), 400, 'FST_ERR_VALIDATION')
})
