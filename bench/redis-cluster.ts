/**
 * Cross-node pushes through one Redis and through a Redis Cluster of three
 * masters (and three replicas), side by side in one run, by hand:
 * `npm run bench:redis-cluster`.
 *
 * Two gate nodes (a, b) in this process on each backend; `BENCH_CLIENTS`
 * WebSocket clients logged in on b; from a, `BENCH_INFLIGHT` loops each push a
 * `Note` to one uid of b and wait for the answer (which comes once b wrote
 * it), for `BENCH_DURATION_MS`. Reported per backend: pushes per second, the
 * answer's p50 and p99, and the Redis commands per push (INFO commandstats
 * summed over every server, reset before the window). `BENCH_HISTORY=0`
 * keeps no history. Backends alternate over `BENCH_ROUNDS` rounds. Servers,
 * gates and load share the machine's cores; the numbers compare the two
 * backends, they are not a gate's capacity.
 */
import { performance } from 'node:perf_hooks'
import { Type } from '@sinclair/typebox'
import Fastify, { type FastifyInstance } from 'fastify'
import WebSocket from 'ws'
import gatePlugin from '../plugins/gate.js'
import type { RedisOption } from '../src/cluster/options.js'
import { RedisServer } from '../test/redis-helper.js'
import { RedisClusterServer } from '../test/redis-cluster-helper.js'

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50)
const INFLIGHT = Number(process.env.BENCH_INFLIGHT ?? 16)
const DURATION = Number(process.env.BENCH_DURATION_MS ?? 4000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)
const HISTORY = process.env.BENCH_HISTORY !== '0'

interface Backend {
  label: string
  option: RedisOption
  each: (...args: string[]) => Promise<unknown[]>
}

async function gate (redis: RedisOption, nodeId: string): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(gatePlugin, { admin: false, redis, nodeId, cluster: { requestTimeout: 2000 } })
  app.gate
    .message('Note', { schema: Type.Object({ text: Type.String(), n: Type.Integer() }), history: HISTORY })
    .message('Hello', { schema: Type.Object({ uid: Type.String() }), login: true }, async (msg, agent) => {
      await agent.bind(msg.uid)
      agent.send('Note', { text: 'welcome', n: 0 })
    })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return app
}

async function client (app: FastifyInstance, uid: string): Promise<WebSocket> {
  const { port } = app.server.address() as { port: number }
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`)
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  ws.send(JSON.stringify({ Hello: { uid } }))
  await new Promise(resolve => ws.once('message', resolve))
  return ws
}

function percentile (sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
}

function commandCalls (infos: unknown[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const info of infos) {
    for (const m of String(info).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      if (m[1] === 'config' || m[1] === 'info') continue
      out.set(m[1], (out.get(m[1]) ?? 0) + Number(m[2]))
    }
  }
  return out
}

async function round (backend: Backend): Promise<string> {
  const a = await gate(backend.option, 'bench-a')
  const b = await gate(backend.option, 'bench-b')
  const uids = Array.from({ length: CLIENTS }, (_, i) => `user-${i}`)
  const sockets = await Promise.all(uids.map(async uid => await client(b, uid)))
  try {
    for (let i = 0; i < 200; i++) await a.gate.pushToUids([uids[i % CLIENTS]], 'Note', { text: 'warm', n: i })
    await backend.each('CONFIG', 'RESETSTAT')
    const latencies: number[] = []
    let partial = 0
    const end = performance.now() + DURATION
    const start = performance.now()
    await Promise.all(Array.from({ length: INFLIGHT }, async (_, loop) => {
      for (let i = loop; performance.now() < end; i += INFLIGHT) {
        const t0 = performance.now()
        const answer = await a.gate.pushToUids([uids[i % CLIENTS]], 'Note', { text: 'x'.repeat(100), n: i })
        latencies.push(performance.now() - t0)
        if (answer.partial === true || answer.delivered !== 1) partial++
      }
    }))
    const seconds = (performance.now() - start) / 1000
    const calls = commandCalls(await backend.each('INFO', 'commandstats'))
    const total = [...calls.values()].reduce((x, y) => x + y, 0)
    const sorted = latencies.sort((x, y) => x - y)
    // What the gate sends (scripts and SPUBLISH), and everything Redis ran (commands inside scripts too).
    const per = (name: string): string => ((calls.get(name) ?? 0) / latencies.length).toFixed(2)
    const sent = ['evalsha', 'eval', 'spublish', 'publish'].reduce((n, name) => n + (calls.get(name) ?? 0), 0) / latencies.length
    return `${backend.label.padEnd(20)} ${Math.round(latencies.length / seconds).toString().padStart(6)} pushes/s  p50 ${percentile(sorted, 0.5).toFixed(2)} ms  p99 ${percentile(sorted, 0.99).toFixed(2)} ms  ` +
      `sent ${sent.toFixed(2)}/push (EVALSHA ${per('evalsha')}, SPUBLISH ${per('spublish')}, PUBLISH ${per('publish')}), run ${(total / latencies.length).toFixed(2)}/push with script internals${partial > 0 ? `  ${partial} partial` : ''}`
  } finally {
    for (const ws of sockets) ws.terminate()
    await a.close()
    await b.close()
  }
}

const single = await RedisServer.start()
const cluster = await RedisClusterServer.start()
try {
  const backends: Backend[] = [
    { label: 'one Redis', option: single.option, each: async (...args) => await single.each(...args) },
    { label: 'Redis Cluster (3+3)', option: { clusterNodes: cluster.seeds }, each: async (...args) => [...(await cluster.onMasters(...args)).values()] }
  ]
  process.stdout.write(`cross-node pushes, ${CLIENTS} clients on node b, ${INFLIGHT} in flight from node a, ${DURATION} ms a round, history ${HISTORY ? 'on' : 'off'}\n`)
  for (let r = 0; r < ROUNDS; r++) {
    for (const backend of r % 2 === 0 ? backends : [...backends].reverse()) {
      if (backend.label !== 'one Redis') await cluster.flush()
      process.stdout.write(`round ${r + 1}: ${await round(backend)}\n`)
    }
  }
} finally {
  await single.close()
  await cluster.close()
}
