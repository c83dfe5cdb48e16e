import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildChatApp } from '../../examples/chat/app.js'
import { loadConfig } from '../../examples/chat/config.js'
import { CONTENT_MAX_LENGTH, ROOM_MAX_LENGTH, UID_MAX_LENGTH } from '../../examples/chat/messages.js'
import { tokenSigner, tokenVerifier } from '../../examples/chat/tokens.js'
import { ensureClientBuilt } from './build.js'

async function app (t: TestContext, env: Record<string, string>): Promise<FastifyInstance> {
  ensureClientBuilt()
  const a = await buildChatApp(loadConfig({ PORT: '0', GATE_TCP_PORT: 'off', GATE_MQTT_PORT: 'off', GATE_ADMIN_TOKEN: 'admin', GATE_DRAIN_TIME: '0', ...env }), { logger: false })
  t.after(() => a.close())
  return a
}

test('the example serves the demo page at / and the SDK bundle at /gate/client.js', async (t) => {
  const a = await app(t, { GATE_TOKEN_SECRET: 'real-secret' })
  const page = await a.inject('/')
  assert.equal(page.statusCode, 200)
  assert.match(page.headers['content-type'] as string, /^text\/html/)
  assert.match(page.body, /src="\/demo\/demo\.js"/)
  assert.match(page.headers['content-security-policy'] as string, /connect-src 'self'/)
  assert.match((await a.inject('/demo/demo.js')).body, /from '\/gate\/client\.js'/)
  assert.equal((await a.inject('/gate/client.js')).statusCode, 200)
})

test('dev tokens: /demo/token exists only with the default secret, and its tokens log in', async (t) => {
  const real = await app(t, { GATE_TOKEN_SECRET: 'real-secret' })
  assert.equal((await real.inject('/demo/token?uid=alice')).statusCode, 404)

  const dev = await app(t, {})
  const res = await dev.inject('/demo/token?uid=alice')
  assert.equal(res.statusCode, 200)
  assert.equal(tokenVerifier('dev-secret')(res.json().token), 'alice')
  assert.equal((await dev.inject('/demo/token')).statusCode, 400)
  assert.equal((await dev.inject(`/demo/token?uid=${'x'.repeat(65)}`)).statusCode, 400)
})

test('/demo/limits serves the message schemas\' limits; /demo/online lists uids to logged-in users only', async (t) => {
  const a = await app(t, { GATE_TOKEN_SECRET: 'real-secret' })
  assert.deepEqual((await a.inject('/demo/limits')).json(), { content: CONTENT_MAX_LENGTH, uid: UID_MAX_LENGTH, room: ROOM_MAX_LENGTH, rooms: 64 })
  assert.equal((await a.inject('/demo/online')).statusCode, 400)
  assert.equal((await a.inject({ url: '/demo/online', headers: { authorization: 'Bearer not-a-token' } })).statusCode, 401)
  const token = tokenSigner('real-secret')('alice')
  assert.deepEqual((await a.inject({ url: '/demo/online', headers: { authorization: `Bearer ${token}` } })).json(), { total: 0, uids: [] })
})
