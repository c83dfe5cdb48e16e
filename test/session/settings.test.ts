import assert from 'node:assert/strict'
import { test } from 'node:test'
import { login } from '../fixtures/cluster-app.js'
import { startGate, until } from '../helper.js'
import { startRedis } from '../redis-helper.js'
import { call, ok, TOKENS } from '../routes/helper.js'
import { noRedis } from '../history/app.js'
import { registerSessionMessages } from './app.js'
import type { WsClient } from '../clients.js'
import type { GatePluginOptions } from '../../plugins/gate.js'

async function ask (client: WsClient, name: string, body: object): Promise<string> {
  client.send(name, body)
  return (await client.nextOf('Echo')).body.text
}

const admin = { admin: { tokens: [...TOKENS] } }

test('settings: set by handlers, bounded, listed in GET /gate/users/:uid, set by the admin route', async (t) => {
  const s = await startGate(t, { ...admin, session: { maxSettings: 2, maxValueLength: 8 } }, registerSessionMessages)
  const alice = await login(s.wsUrl, 'alice')
  const other = await login(s.wsUrl, 'alice')
  t.after(() => Promise.all([alice.close(), other.close()]))
  assert.equal(await ask(alice, 'Set', { key: 'lang', value: 'fr' }), '{"lang":"fr"}')
  assert.equal(await ask(alice, 'Set', { key: 'room', value: 'r1' }), '{"lang":"fr","room":"r1"}')
  assert.equal(await ask(alice, 'Set', { key: 'third', value: 'x' }), 'error FST_GATE_INVALID_SETTING', 'over the count')
  assert.equal(await ask(alice, 'Set', { key: 'lang', value: 'x'.repeat(9) }), 'error FST_GATE_INVALID_SETTING', 'over the size')
  const user = await ok(s, { url: '/gate/users/alice' })
  assert.deepEqual(user.connections.map((c: any) => c.settings), [{ lang: 'fr', room: 'r1' }, undefined])

  const res = await ok(s, { url: '/gate/users/alice/settings', body: { set: { lang: 'de' }, remove: ['room'] } })
  assert.deepEqual(res, { updated: 2 })
  assert.equal(await ask(alice, 'Get', {}), '{"lang":"de"}')
  assert.equal(await ask(other, 'Get', {}), '{"lang":"de"}')
  const bad = await call(s, { url: '/gate/users/alice/settings', body: { set: { a: '1', b: '2', c: '3' } } })
  assert.equal(bad.statusCode, 400)
  assert.equal(bad.json().code, 'FST_GATE_INVALID_SETTING')
  assert.equal(await ask(alice, 'Get', {}), '{"lang":"de"}', 'nothing changed')
})

test('storage (memory): settings come back at the next login; an explicit logout deletes them', async (t) => {
  const s = await startGate(t, admin, registerSessionMessages)
  const a1 = await login(s.wsUrl, 'bob')
  await ask(a1, 'Set', { key: 'theme', value: 'dark' })
  await a1.close()
  const a2 = await login(s.wsUrl, 'bob')
  assert.equal(await ask(a2, 'Get', {}), '{"theme":"dark"}')
  assert.equal(await ask(a2, 'Logout', {}), 'bye')
  await a2.close()
  const a3 = await login(s.wsUrl, 'bob')
  assert.equal(await ask(a3, 'Get', {}), '{}')
  await a3.close()
})

test('storage off: nothing is kept', async (t) => {
  const s = await startGate(t, { ...admin, session: { store: false } }, registerSessionMessages)
  const a1 = await login(s.wsUrl, 'carol')
  await ask(a1, 'Set', { key: 'k', value: 'v' })
  await a1.close()
  const a2 = await login(s.wsUrl, 'carol')
  assert.equal(await ask(a2, 'Get', {}), '{}')
  await a2.close()
})

test('cluster: settings and stored data follow a uid across two nodes', { skip: noRedis }, async (t) => {
  const redis = await startRedis(t)
  const node = (id: string): GatePluginOptions => ({ ...admin, redis: redis.url, nodeId: id, cluster: { nodeTtl: 1500, heartbeat: 100, requestTimeout: 500 } })
  const a = await startGate(t, node('a'), registerSessionMessages)
  const b = await startGate(t, node('b'), registerSessionMessages)
  const dave = await login(a.wsUrl, 'dave')
  await ask(dave, 'Set', { key: 'team', value: 'blue' })
  // Listed with its settings on the other node.
  await until(async () => (await b.app.gate.user('dave'))?.connections[0].settings?.team === 'blue', 5000, 'the settings to be listed on b')
  // Set from the other node's admin API.
  assert.deepEqual(await ok(b, { url: '/gate/users/dave/settings', body: { set: { team: 'red' } } }), { updated: 1 })
  assert.equal(await ask(dave, 'Get', {}), '{"team":"red"}')
  const raw = redis.raw(t)
  await until(async () => (await raw.hget('{gate:u:dave}:session', 'team')) === 'red', 5000, 'the session to be saved')
  assert.ok(await raw.pttl('{gate:u:dave}:session') > 0, 'it expires')
  await dave.close()
  // Restored on login on the other node.
  const again = await login(b.wsUrl, 'dave')
  assert.equal(await ask(again, 'Get', {}), '{"team":"red"}')
  assert.equal(await ask(again, 'Logout', {}), 'bye')
  await until(async () => (await raw.exists('{gate:u:dave}:session')) === 0, 5000, 'the session to be deleted')
  await again.close()
})
