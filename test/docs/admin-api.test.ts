/**
 * docs/admin-api.md against the code: its route table lists every admin route
 * with its operationId, and each answer's keys are the route's 200 schema; its
 * curl examples, run against the example app with alice (WebSocket, watching
 * "lobby") and bob (TCP) logged in, answer what the page shows.
 */
import Fastify, { type RouteOptions } from 'fastify'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { tokenSigner } from '../../examples/chat/tokens.js'
import gatePlugin, { gateMetrics } from '../../plugins/gate.js'
import { SECRET, startChat } from '../example/helper.js'
import { parseShape, schemaMismatches } from './shape.js'

const page = readFileSync(new URL('../../docs/admin-api.md', import.meta.url), 'utf8')
const run = promisify(execFile)

interface Row { method: string, url: string, answer: string, operationId: string }

/** The rows of the route table: `| \`GET /gate/x\` | body | answer | operationId |`. */
function routeTable (): Row[] {
  return page.split('\n').filter(line => /^\| `(GET|POST) \/gate/.test(line)).map(line => {
    const cells = line.split('|').slice(1, -1).map(cell => cell.trim())
    const [method, url] = cells[0]!.replaceAll('`', '').split(' ') as [string, string]
    return { method, url, answer: cells[2]!, operationId: cells[3]!.replaceAll('`', '').trim() }
  })
}

test('the route table lists every admin route, with its operationId and its answer\'s keys', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  const routes: RouteOptions[] = []
  app.addHook('onRoute', route => { if (route.method !== 'HEAD') routes.push(route) })
  await app.register(gatePlugin, { admin: { tokens: ['t'], dashboard: true } })
  await app.ready()
  const openapi = (await app.inject({ url: '/gate/openapi.json', headers: { authorization: 'Bearer t' } })).json()

  const rows = routeTable()
  const admin = routes.filter(r => r.url.startsWith('/gate/') && !r.url.startsWith('/gate/ui'))
  const key = (method: string, url: string): string => `${method} ${url}`
  assert.deepEqual(rows.map(r => key(r.method, r.url)).sort(), admin.map(r => key(String(r.method), r.url)).sort(), 'one row per route')

  for (const row of rows) {
    const route = admin.find(r => r.method === row.method && r.url === row.url)!
    const schema = route.schema as { operationId?: string, hide?: boolean, response?: Record<string, unknown> } | undefined
    const documented = openapi.paths[row.url.replace(/:(\w+)/g, '{$1}')]?.[row.method.toLowerCase()]?.operationId as string | undefined
    assert.equal(row.operationId, schema?.operationId ?? documented ?? '', `${row.method} ${row.url}: operationId`)
    const shape = /`(\{.*?\})`/.exec(row.answer)
    if (shape === null) continue
    assert.deepEqual(schemaMismatches(parseShape(shape[1]!), schema?.response?.[200]), [], `${row.method} ${row.url}: the documented answer`)
  }
  const ids = rows.map(r => r.operationId).filter(id => id !== '')
  assert.equal(new Set(ids).size, 16, `16 operationIds: ${ids.join(', ')}`)
})

test('the shape comparison fails on a key too many, too few, or wrongly optional', () => {
  const schema = { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'object', properties: { c: {} }, required: ['c'] } }, required: ['a'] }
  assert.deepEqual(schemaMismatches(parseShape('{ a, b?: { c } }'), schema), [])
  assert.notDeepEqual(schemaMismatches(parseShape('{ a, b?: { c }, d }'), schema), [])
  assert.notDeepEqual(schemaMismatches(parseShape('{ a }'), schema), [])
  assert.notDeepEqual(schemaMismatches(parseShape('{ a, b: { c } }'), schema), [])
  assert.notDeepEqual(schemaMismatches(parseShape('{ a, b?: { c? } }'), schema), [])
})

interface Example { command: string, shown?: string }

/** The curl commands of the page's second sh block, each with the answer shown under it. */
function curlExamples (): Example[] {
  const block = /## Try it against the example app[\s\S]*?```sh[\s\S]*?```[\s\S]*?```sh\n([\s\S]*?)```/.exec(page)
  assert.ok(block, 'the page has its curl examples')
  const lines = block[1]!.replace(/\\\n\s*/g, '').split('\n')
  const examples: Example[] = []
  for (const line of lines) {
    if (line.startsWith('curl ')) examples.push({ command: line })
    else if (line.startsWith('# {') && examples.length > 0) examples.at(-1)!.shown = line.slice(2).replace(/\s+\(.*\)$/, '')
  }
  return examples
}

/** Compares an answer with the one shown: the same keys, the same numbers and booleans; strings and what `…` leaves out are free. */
function sameShape (actual: unknown, shown: unknown, path = '$'): string[] {
  if (Array.isArray(shown)) {
    if (!Array.isArray(actual)) return [`${path}: not an array`]
    return shown.length === 0 || actual.length === 0 ? [] : sameShape(actual[0], shown[0], `${path}[0]`)
  }
  if (shown !== null && typeof shown === 'object') {
    if (actual === null || typeof actual !== 'object') return [`${path}: not an object`]
    const a = Object.keys(actual).sort()
    const s = Object.keys(shown).sort()
    if (a.join() !== s.join()) return [`${path}: keys ${a.join(',')}, shown ${s.join(',')}`]
    return s.flatMap(k => sameShape((actual as Record<string, unknown>)[k], (shown as Record<string, unknown>)[k], `${path}.${k}`))
  }
  if (typeof shown === 'string') return typeof actual === 'string' ? [] : [`${path}: not a string`]
  return actual === shown ? [] : [`${path}: ${JSON.stringify(actual)}, shown ${JSON.stringify(shown)}`]
}

test('the curl examples answer what the page shows', { timeout: 60_000 }, async (t) => {
  const chat = await startChat(t, 'json', { GATE_ADMIN_TOKEN: 'admin-secret' })
  const sign = tokenSigner(SECRET)
  const alice = await chat.ws()
  const bob = await chat.tcp()
  t.after(async () => { await alice.close(); await bob.close() })
  for (const [client, uid] of [[alice, 'alice'], [bob, 'bob']] as const) {
    client.send('C2S_UserLogin', { token: sign(uid), login_plat: 1 })
    assert.equal((await client.nextOf('S2C_UserLogin')).body.ret, 1)
  }
  alice.send('C2S_UpdateWatchRoom', { rooms: ['lobby'] })
  await alice.nextOf('S2C_UpdateWatchRoom')

  const { port } = chat.app.server.address() as { port: number }
  const examples = curlExamples()
  assert.ok(examples.length >= 10, `${examples.length} curl examples`)
  for (const example of examples) {
    const alicesId = (await chat.app.gate.user('alice'))?.connections[0]?.id ?? 'alice-offline'
    const command = example.command.replaceAll('127.0.0.1:3000', `127.0.0.1:${port}`).replaceAll('c2175cd9-1', alicesId)
    const { stdout } = await run('sh', ['-c', command], { env: { ...process.env, GATE_ADMIN_TOKEN: 'admin-secret' } })

    if (example.shown === undefined) {
      assert.ok(stdout.length > 0, `${example.command}: an answer`)
      continue
    }
    const shown = JSON.parse(example.shown.replace(/,…\]/g, ']'))
    assert.deepEqual(sameShape(JSON.parse(stdout), shown), [], `${example.command}\n  answered ${stdout}`)
  }
})

test('the metrics table lists every gate metric', async (t) => {
  const app = Fastify()
  t.after(() => app.close())
  await app.register(gatePlugin, { admin: false })
  await app.ready()
  const documented = [...page.slice(page.indexOf('## Metrics')).matchAll(/^\| (`gate_\w+`(?:, `gate_\w+`)*) \|/gm)].flatMap(m => m[1]!.replaceAll('`', '').split(', '))
  const registered = (await gateMetrics(app.gate).getMetricsAsJSON()).map(m => m.name)
  assert.deepEqual(documented.sort(), registered.sort())
})
