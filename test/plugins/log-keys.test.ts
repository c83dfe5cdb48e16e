/**
 * Every JSON log line of the gate names each key once: the plugin's child
 * (`component`), a part's (`part`, `node`) and a connection's (`agent`,
 * `transport`, `protocol`) do not repeat a key their parent bound. Lines come
 * from a real run: a single node with history and sessions, a cluster node on a
 * private Redis, a connection that sends bad input.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test, type TestContext } from 'node:test'
import WebSocket from 'ws'
import gatePlugin, { type GatePluginOptions } from '../../plugins/gate.js'
import type { GateLogger } from '../../src/logger.js'
import { until } from '../helper.js'
import { startRedis } from '../redis-helper.js'

/** The keys of a JSON object's top level, in order, duplicates kept. */
function topLevelKeys (line: string): string[] {
  const keys: string[] = []
  let depth = 0
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (c === '"') {
      let j = i + 1
      while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1
      if (depth === 1 && line[j + 1] === ':') keys.push(JSON.parse(line.slice(i, j + 1)) as string)
      i = j
    } else if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') depth--
  }
  return keys
}

const repeated = (line: string): string[] => topLevelKeys(line).filter((k, i, all) => all.indexOf(k) !== i)

async function start (t: TestContext, opts: GatePluginOptions): Promise<{ app: FastifyInstance, lines: string[] }> {
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(...chunk.toString().split('\n').filter(l => l !== '')); done() } })
  const app = Fastify({ logger: { level: 'debug', stream } })
  t.after(() => app.close())
  await app.register(gatePlugin, opts)
  app.gate
    .message('Note', { schema: Type.Object({ text: Type.String() }), needsLogin: false, history: true })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, lines }
}

test('topLevelKeys finds a repeated key', () => {
  assert.deepEqual(repeated('{"level":30,"component":"gate","x":{"component":1},"component":"cluster","msg":"a\\"b"}'), ['component'])
  assert.deepEqual(repeated('{"level":30,"component":"gate","part":"cluster","msg":"ok"}'), [])
})

test('single node: no log line repeats a key (gate, history, session, a connection)', async (t) => {
  const { app, lines } = await start(t, { session: {} })
  const parts = app.gate as unknown as { history: { log: GateLogger }, sessions: { log: GateLogger } }
  parts.history.log.info('history probe')
  parts.sessions.log.info('session probe')
  const { port } = app.server.address() as { port: number }
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`)
  await new Promise(resolve => ws.once('open', resolve))
  ws.send('not json')
  await until(() => lines.some(l => l.includes('bad input')), 5000, 'the bad input line')
  ws.close()
  for (const probe of ['history probe', 'session probe', 'bad input']) {
    const line = lines.find(l => l.includes(probe))!
    assert.ok(line, probe)
    assert.deepEqual(repeated(line), [], line)
  }
  assert.deepEqual(lines.filter(l => repeated(l).length > 0), [])
})

test('cluster node: no log line repeats a key', async (t) => {
  const redis = await startRedis(t)
  const { lines } = await start(t, { nodeId: 'n1', redis: redis.url })
  await until(() => lines.some(l => l.includes('redis connected')), 10_000, 'the cluster part\'s line')
  const line = lines.find(l => l.includes('redis connected'))!
  assert.deepEqual(topLevelKeys(line).filter(k => ['component', 'part', 'node'].includes(k)), ['component', 'part', 'node'])
  assert.deepEqual(lines.filter(l => repeated(l).length > 0), [])
})
