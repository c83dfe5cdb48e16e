import swagger from '@fastify/swagger'
import Fastify from 'fastify'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import gatePlugin from '../../plugins/gate.js'
import { TOKENS, call, ok, startAdmin } from './helper.js'

const ADMIN_ROUTES = {
  '/gate/stats': ['get'],
  '/gate/users': ['get'],
  '/gate/users/{uid}': ['get'],
  '/gate/users/{uid}/history': ['get'],
  '/gate/users/{uid}/settings': ['post'],
  '/gate/kick': ['post'],
  '/gate/push': ['post'],
  '/gate/broadcast': ['post'],
  '/gate/rooms/{room}/push': ['post'],
  '/gate/rooms': ['get'],
  '/gate/rooms/{room}': ['get'],
  '/gate/protocol': ['get'],
  '/gate/metrics': ['get']
}

test('GET /gate/openapi.json lists every admin route, with every response and the bearer scheme', async (t) => {
  const s = await startAdmin(t)
  assert.equal((await call(s, { url: '/gate/openapi.json', token: null })).statusCode, 401)
  const doc = await ok(s, { url: '/gate/openapi.json' })
  assert.match(doc.openapi, /^3\./)
  assert.deepEqual(Object.keys(doc.paths).sort(), Object.keys(ADMIN_ROUTES).sort(), 'the admin routes and nothing else (not the WebSocket route)')
  for (const [path, methods] of Object.entries(ADMIN_ROUTES)) {
    assert.deepEqual(Object.keys(doc.paths[path]), methods, path)
  }
  assert.deepEqual(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer' })
  assert.deepEqual(doc.security, [{ bearerAuth: [] }])
  assert.deepEqual(doc.paths['/gate/protocol'].get.security, [], 'the public route says so')

  const responses = (path: string, method: string): string[] => Object.keys(doc.paths[path][method].responses).sort()
  assert.deepEqual(responses('/gate/users', 'get'), ['200', '400', '401', '503'])
  assert.deepEqual(responses('/gate/users/{uid}/history', 'get'), ['200', '400', '401', '404', '503'])
  assert.deepEqual(responses('/gate/users/{uid}', 'get'), ['200', '400', '401', '404', '503'])
  assert.deepEqual(responses('/gate/rooms', 'get'), ['200', '400', '401', '503'])
  assert.deepEqual(responses('/gate/rooms/{room}', 'get'), ['200', '400', '401', '404', '503'])
  assert.deepEqual(responses('/gate/push', 'post'), ['200', '400', '401', '503'])
  assert.deepEqual(responses('/gate/protocol', 'get'), ['200'])
  assert.deepEqual(responses('/gate/metrics', 'get'), ['200', '401'])
  const error = doc.paths['/gate/kick'].post.responses['401'].content['application/json'].schema
  assert.deepEqual(Object.keys(error.properties).sort(), ['code', 'error', 'message', 'statusCode'])
  const delivery = doc.paths['/gate/broadcast'].post.responses['200'].content['application/json'].schema
  assert.deepEqual(Object.keys(delivery.properties).sort(), ['delivered', 'missingNodes', 'partial', 'stored'])
  assert.deepEqual(delivery.required, ['delivered'])
})

test('with publicProtocol: false the protocol route is documented as protected', async (t) => {
  const s = await startAdmin(t, { admin: { tokens: [...TOKENS], publicProtocol: false, prefix: '/admin' } })
  const doc = await ok(s, { url: '/admin/openapi.json' })
  assert.equal(doc.paths['/admin/protocol'].get.security, undefined)
  assert.deepEqual(Object.keys(doc.paths['/admin/protocol'].get.responses).sort(), ['200', '401'])
})

test('a host app\'s own @fastify/swagger, registered before or after the gate, does not clash', async (t) => {
  for (const order of ['before', 'after'] as const) {
    const app = Fastify()
    t.after(() => app.close())
    const hostSwagger = async (): Promise<void> => { await app.register(swagger, { openapi: { info: { title: 'host', version: '1' } }, hiddenTag: 'gate-admin' }) }
    if (order === 'before') await hostSwagger()
    await app.register(gatePlugin, { admin: { tokens: ['t'] } })
    if (order === 'after') await hostSwagger()
    app.get('/hello', { schema: { response: { 200: { type: 'string' } } } }, async () => 'hi')
    await app.ready()

    const host = app.swagger() as { info: { title: string }, paths: Record<string, unknown> }
    assert.equal(host.info.title, 'host', order)
    assert.ok('/hello' in host.paths, order)
    assert.ok(!Object.keys(host.paths).some(p => p.startsWith('/gate')), `${order}: hidden by the host's hiddenTag`)

    const res = await app.inject({ url: '/gate/openapi.json', headers: { authorization: 'Bearer t' } })
    const ours = res.json()
    assert.equal(ours.info.title, 'fastify-gate admin API', order)
    assert.ok('/gate/stats' in ours.paths, order)
    assert.ok(!('/hello' in ours.paths), `${order}: the host's routes are not in the admin document`)
  }
})
