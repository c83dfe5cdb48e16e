import assert from 'node:assert/strict'
import { test } from 'node:test'
import { assertError, call, ok, startAdmin, TOKENS } from './helper.js'

test('GET /gate/messages lists every message with the JSON Schema of its body, behind the token', async (t) => {
  const s = await startAdmin(t, { admin: { tokens: [...TOKENS], dashboard: true } })
  const { messages } = await ok(s, { url: '/gate/messages' })
  assert.deepEqual(messages.map((m: { id: number, name: string }) => `${m.id}:${m.name}`), ['0:Echo', '1:Login', '2:Secret'])
  const echo = messages[0]
  assert.equal(echo.needsLogin, false)
  assert.deepEqual(echo.schema, {
    type: 'object',
    required: ['text'],
    properties: { text: { type: 'string' }, n: { type: 'integer' } }
  })
  assert.equal(messages[2].needsLogin, true)
  assertError(await call(s, { url: '/gate/messages', token: null }), 401, 'FST_GATE_UNAUTHORIZED')
})
