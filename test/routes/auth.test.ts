import Fastify from 'fastify'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { tokenChecker } from '../../plugins/admin-auth.js'
import gatePlugin from '../../plugins/gate.js'
import { startGate } from '../helper.js'
import { TOKENS, assertError, call, startAdmin } from './helper.js'

const PROTECTED = [
  { url: '/gate/stats' },
  { url: '/gate/users' },
  { url: '/gate/users/alice' },
  { url: '/gate/kick', body: { uids: ['alice'] } },
  { url: '/gate/push', body: { uids: ['alice'], name: 'Echo', body: { text: 'x' } } },
  { url: '/gate/rooms/lobby/push', body: { name: 'Echo', body: { text: 'x' } } },
  { url: '/gate/broadcast', body: { name: 'Echo', body: { text: 'x' } } },
  { url: '/gate/metrics' },
  { url: '/gate/openapi.json' }
]

test('every protected route answers 401 to a missing, wrong or malformed token, with one body', async (t) => {
  const s = await startAdmin(t)
  for (const route of PROTECTED) {
    const answers = []
    for (const authorization of [undefined, 'Bearer wrong', `Bearer ${TOKENS[0]}x`, `Basic ${TOKENS[0]}`, TOKENS[0], 'Bearer ', `Bearer ${TOKENS[0]} ${TOKENS[1]}`]) {
      const res = await s.app.inject({
        method: route.body === undefined ? 'GET' : 'POST',
        url: route.url,
        headers: authorization === undefined ? {} : { authorization },
        ...(route.body === undefined ? {} : { payload: route.body })
      })
      assertError(res, 401, 'FST_GATE_UNAUTHORIZED')
      assert.equal(res.headers['www-authenticate'], 'Bearer')
      answers.push(res.body)
    }
    assert.equal(new Set(answers).size, 1, `${route.url}: the same answer whatever was wrong`)
  }
})

test('both tokens of a list work (rotation), and the scheme is case-insensitive', async (t) => {
  const s = await startAdmin(t)
  for (const token of TOKENS) {
    for (const route of PROTECTED) {
      const res = await call(s, { ...route, token })
      assert.notEqual(res.statusCode, 401, `${route.url} with ${token}`)
    }
  }
  const res = await s.app.inject({ url: '/gate/stats', headers: { authorization: `bearer ${TOKENS[1]}` } })
  assert.equal(res.statusCode, 200)
})

test('a single token may be given as a string', async (t) => {
  const s = await startGate(t, { admin: { tokens: 'only-one' } })
  assert.equal((await call(s, { url: '/gate/stats', token: 'only-one' })).statusCode, 200)
  assertError(await call(s, { url: '/gate/stats', token: TOKENS[0] }), 401, 'FST_GATE_UNAUTHORIZED')
})

test('without tokens the admin API refuses every call but the public protocol, and warns at start', async (t) => {
  const lines: string[] = []
  const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { lines.push(line) } } } })
  t.after(() => app.close())
  await app.register(gatePlugin)
  await app.ready()
  assert.ok(lines.some(line => line.includes('no admin.tokens')), 'a warning names the missing tokens')
  for (const route of PROTECTED) {
    const res = await app.inject({ method: route.body === undefined ? 'GET' : 'POST', url: route.url, ...(route.body === undefined ? {} : { payload: route.body }) })
    assertError(res, 401, 'FST_GATE_UNAUTHORIZED')
  }
  for (const authorization of ['Bearer ', 'Bearer undefined', 'Bearer null']) {
    assertError(await app.inject({ url: '/gate/stats', headers: { authorization } }), 401, 'FST_GATE_UNAUTHORIZED')
  }
  assert.equal((await app.inject({ url: '/gate/protocol' })).statusCode, 200)
})

test('GET /gate/protocol is public by default, and needs the token with publicProtocol: false', async (t) => {
  const open = await startAdmin(t)
  assert.equal((await call(open, { url: '/gate/protocol', token: null })).statusCode, 200)
  assert.equal((await call(open, { url: '/gate/protocol', token: 'wrong' })).statusCode, 200)

  const closed = await startAdmin(t, { admin: { tokens: [...TOKENS], publicProtocol: false } })
  assertError(await call(closed, { url: '/gate/protocol', token: null }), 401, 'FST_GATE_UNAUTHORIZED')
  assert.equal((await call(closed, { url: '/gate/protocol' })).statusCode, 200)
})

test('prefix moves every admin route; admin: false and metrics: false switch routes off', async (t) => {
  const moved = await startAdmin(t, { admin: { tokens: [...TOKENS], prefix: '/ops/gate/' } })
  assert.equal((await call(moved, { url: '/ops/gate/stats' })).statusCode, 200)
  assert.equal((await call(moved, { url: '/ops/gate/protocol', token: null })).statusCode, 200)
  assert.equal((await call(moved, { url: '/gate/stats' })).statusCode, 404)

  const off = await startAdmin(t, { admin: false })
  for (const url of ['/gate/stats', '/gate/protocol', '/gate/openapi.json', '/gate/metrics']) {
    assert.equal((await call(off, { url })).statusCode, 404, url)
  }

  const noMetrics = await startAdmin(t, { admin: { tokens: [...TOKENS], metrics: false } })
  assert.equal((await call(noMetrics, { url: '/gate/metrics' })).statusCode, 404)
  assert.equal((await call(noMetrics, { url: '/gate/stats' })).statusCode, 200)
})

test('bad admin options fail at register time with FST_GATE_INVALID_OPTION', async () => {
  const bad: unknown[] = [
    { tokens: '' },
    { tokens: ['ok', ''] },
    { tokens: 'secret\n' },
    { tokens: ['two words'] },
    { tokens: 42 },
    { tokens: [42] },
    { prefix: 'gate' },
    { prefix: '/ga te' },
    { publicProtocol: 'yes' },
    { metrics: 1 },
    'secret'
  ]
  for (const admin of bad) {
    const app = Fastify()
    await assert.rejects(
      async () => { await app.register(gatePlugin, { admin: admin as never }); await app.ready() },
      (err: { code?: string, message: string }) => err.code === 'FST_GATE_INVALID_OPTION' && err.message.includes('admin'),
      JSON.stringify(admin)
    )
    await app.close()
  }
})

test('tokenChecker: any listed token, nothing else, and nothing at all without tokens', () => {
  const check = tokenChecker(['a-token', 'b-token'])
  assert.equal(check('Bearer a-token'), true)
  assert.equal(check('Bearer b-token'), true)
  assert.equal(check('BEARER  b-token '), true)
  for (const bad of [undefined, '', 'Bearer', 'Bearer ', 'Bearer a-toke', 'Bearer a-token2', 'Token a-token', 'Bearer a-token b-token']) {
    assert.equal(check(bad), false, String(bad))
  }
  const none = tokenChecker([])
  for (const any of [undefined, '', 'Bearer ', 'Bearer a-token']) assert.equal(none(any), false)
})
