/**
 * History costs (issue 11), run briefly by hand: `npm run bench:history`.
 *
 * 1. The cost of history per push: `gate.pushToUids` of one `Note` to one
 *    offline uid, N times in sequence, with no history, with history in memory,
 *    and in cluster mode without and with history (Redis Streams: one Lua
 *    script with XADD per push), on a private redis-server.
 * 2. The time to resume 1,000 missed messages: the uid gets 1,000 pushes while
 *    offline, then a client logs in with its last position; timed from the login
 *    message to the login answer (which comes after the 1,000 replayed ones).
 *
 * In-process (server and client share the process and the machine's cores),
 * all on 127.0.0.1. Numbers are indicative.
 */
import { spawn, spawnSync } from 'node:child_process'
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Type } from '@sinclair/typebox'
import Fastify, { type FastifyInstance } from 'fastify'
import WebSocket from 'ws'
import gatePlugin, { type GatePluginOptions } from '../plugins/gate.js'
import { freePort } from './lib/ports.js'

const N = Number(process.env.BENCH_PUSHES ?? 5000)
const MISSED = 1000

async function gate (opts: GatePluginOptions, history: boolean): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(gatePlugin, { admin: false, ...opts })
  app.gate
    .message('Note', { schema: Type.Object({ text: Type.String(), n: Type.Integer() }), history })
    .message('Hello', { schema: Type.Object({ uid: Type.String(), resume: Type.String() }), login: true }, async (msg, agent) => {
      const r = await agent.bind(msg.uid, { resume: msg.resume })
      agent.send('Welcome', { replayed: r?.replayed ?? 0, recovered: r?.recovered ?? false, pos: r?.pos ?? '' })
    })
    .message('Welcome', { schema: Type.Object({ replayed: Type.Integer(), recovered: Type.Boolean(), pos: Type.String() }) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return app
}

async function perPush (app: FastifyInstance, label: string): Promise<void> {
  const body = { text: 'x'.repeat(100), n: 0 }
  for (let i = 0; i < 500; i++) await app.gate.pushToUids([`warm${i % 10}`], 'Note', body)
  const start = performance.now()
  for (let i = 0; i < N; i++) await app.gate.pushToUids([`u${i % 100}`], 'Note', { ...body, n: i })
  const us = (performance.now() - start) * 1000 / N
  process.stdout.write(`${label.padEnd(34)} ${us.toFixed(1).padStart(7)} µs per push (${N} pushes)\n`)
}

async function resume (app: FastifyInstance, label: string): Promise<void> {
  const { port } = app.server.address() as net.AddressInfo
  const uid = `resumer-${label}`
  const first = await login(port, uid, '')
  first.ws.close()
  for (let n = 1; n <= MISSED; n++) await app.gate.pushToUids([uid], 'Note', { text: 'x'.repeat(100), n })
  const again = await login(port, uid, first.pos)
  again.ws.close()
  process.stdout.write(`${label.padEnd(34)} ${again.ms.toFixed(1).padStart(7)} ms to resume ${again.replayed} missed messages (recovered ${String(again.recovered)})\n`)
}

async function login (port: number, uid: string, pos: string): Promise<{ ws: WebSocket, pos: string, ms: number, replayed: number, recovered: boolean }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`)
  await new Promise(resolve => ws.once('open', resolve))
  const start = performance.now()
  ws.send(JSON.stringify({ Hello: { uid, resume: pos } }))
  return await new Promise(resolve => {
    ws.on('message', (data: Buffer) => {
      const doc = JSON.parse(data.toString())
      if (doc.Welcome !== undefined) {
        const ms = performance.now() - start
        resolve({ ws, pos: doc.Welcome.pos, ms, replayed: doc.Welcome.replayed, recovered: doc.Welcome.recovered })
      }
    })
  })
}

const memoryOff = await gate({}, false)
await perPush(memoryOff, 'single node, no history')
await memoryOff.close()
const memoryOn = await gate({}, true)
await perPush(memoryOn, 'single node, history in memory')
await resume(memoryOn, 'single node, memory')
await memoryOn.close()

if (spawnSync('redis-server', ['--version']).status === 0) {
  const port = await freePort()
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  await sleep(300)
  try {
    const url = `redis://127.0.0.1:${port}`
    const clusterOff = await gate({ redis: url, nodeId: 'off' }, false)
    await perPush(clusterOff, 'cluster, no history')
    await clusterOff.close()
    const clusterOn = await gate({ redis: url, nodeId: 'on' }, true)
    await perPush(clusterOn, 'cluster, history (Redis XADD)')
    await resume(clusterOn, 'cluster, Redis Streams')
    await clusterOn.close()
  } finally {
    redis.kill('SIGKILL')
  }
} else {
  process.stdout.write('redis-server is missing: cluster figures skipped\n')
}
