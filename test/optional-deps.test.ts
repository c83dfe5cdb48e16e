import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { loaderArgs, moduleExt } from './node-script.js'

const root = fileURLToPath(new URL('../', import.meta.url))

/** Builds and closes a gate in a fresh process; returns which of `modules` were loaded. */
function loadedBy (options: string, modules: string[]): string[] {
  const script = `
    import Fastify from 'fastify'
    import { createRequire } from 'node:module'
    import gatePlugin from './plugins/gate${moduleExt}'
    const app = Fastify()
    await app.register(gatePlugin, ${options})
    await app.ready()
    await app.close()
    const loaded = Object.keys(createRequire(import.meta.url).cache)
    console.log(JSON.stringify(${JSON.stringify(modules)}.filter(m => loaded.some(k => k.includes('/node_modules/' + m + '/')))))
  `
  const run = spawnSync(process.execPath, [...loaderArgs, '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 })
  assert.equal(run.status, 0, run.stderr)
  return JSON.parse(run.stdout.trim().split('\n').pop()!)
}

test('a single-node gate never loads ioredis (cluster mode is loaded only with the redis option)', () => {
  assert.deepEqual(loadedBy('{ admin: false }', ['ioredis', 'fastify']), ['fastify'], 'the probe sees fastify, and not ioredis')
})

test('with the redis option, the cluster directory and ioredis are loaded', () => {
  // A port nobody listens on: the gate waits for Redis up to nodeTtl, logs that it is down, and serves.
  const loaded = loadedBy("{ admin: false, redis: { port: 1, host: '127.0.0.1', lazyConnect: true }, cluster: { nodeTtl: 1000 } }", ['ioredis'])
  assert.deepEqual(loaded, ['ioredis'])
})

test('a gate without metrics or MQTT never loads prom-client or mqtt-packet', () => {
  const loaded = loadedBy("{ admin: { tokens: 'probe-token', metrics: false } }", ['prom-client', 'mqtt-packet', '@fastify/swagger'])
  assert.deepEqual(loaded, ['@fastify/swagger'], 'the probe sees the admin API\'s swagger, and neither prom-client nor mqtt-packet')
})

test('the admin API\'s metrics load prom-client, and the mqtt option mqtt-packet', () => {
  assert.deepEqual(loadedBy("{ admin: { tokens: 'probe-token' } }", ['prom-client', 'mqtt-packet']), ['prom-client'])
  assert.deepEqual(loadedBy("{ admin: false, mqtt: { path: '/mqtt' } }", ['prom-client', 'mqtt-packet']), ['mqtt-packet'])
})
