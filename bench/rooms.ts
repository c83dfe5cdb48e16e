/**
 * Room presence costs (issue 18), run briefly by hand: `npm run bench:rooms`.
 *
 * CONNS WebSocket connections log in (uid u<i>), then each joins ROOMS rooms
 * (of CONNS * ROOMS / 10 names, so rooms have about 10 members), then all leave.
 * Measured on one node (memory only) and in cluster mode on a private
 * redis-server (one bucket), with a second, idle node beside it:
 *
 * - time per join on the event loop (`agent.join`, the index and the batching),
 *   and, in cluster mode, until Redis holds every member (`gate.rooms()` total);
 * - Redis per join and per connection, from INFO commandstats and INFO cpu:
 *   script calls (EVALSHA), commands run inside the scripts, Redis CPU, memory;
 *   joins one per event-loop tick (the worst case: one script call each) and
 *   all in one tick (batched);
 * - a room push to a room whose members are all on the pushing node, and to a
 *   room with no member anywhere: Redis calls per push and SPUBLISH (none: the
 *   idle node is never asked);
 * - room history: a room push of a message kept in the room's history
 *   (`roomHistory: true`) against the same push of one that is not, side by
 *   side, to the room of about 10 members (time per push; in cluster mode the
 *   Redis calls, commands and CPU per kept message; on one node the memory
 *   store's bytes per kept message); and a resume: MISSED kept messages pushed
 *   while a client was away, then its `Gate_Subscribe { since }`, timed to
 *   the `Gate_Reply` that follows the replay, with Redis's share per resume.
 *
 * In-process (server and clients share the process and the machine's cores),
 * all on 127.0.0.1. Numbers are indicative.
 */
import { spawn, spawnSync } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises'
import { Type } from '@sinclair/typebox'
import Fastify, { type FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import WebSocket from 'ws'
import gatePlugin, { type Agent, type GatePluginOptions } from '../plugins/gate.js'
import { freePort } from './lib/ports.js'

const CONNS = Number(process.env.BENCH_CONNS ?? 500)
const ROOMS = Number(process.env.BENCH_ROOMS ?? 10)
const PUSHES = Number(process.env.BENCH_PUSHES ?? 2000)
const JOINS = CONNS * ROOMS
/** Resumes of this many missed room messages (at most `history.maxCount`, 1000 by default). */
const MISSED = [10, 1000]
const roomOf = (conn: number, k: number): string => `room-${(conn * ROOMS + k) % Math.max(1, Math.floor(JOINS / 10))}`

async function gate (opts: GatePluginOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false })
  await app.register(gatePlugin, { admin: false, maxConnPerIp: CONNS + 10, connRatePerIp: 0, clientControl: true, ...opts })
  app.gate
    .message('Note', { schema: Type.Object({ text: Type.String() }) })
    .message('Kept', { schema: Type.Object({ text: Type.String() }), roomHistory: true })
    .message('Hello', { schema: Type.Object({ uid: Type.String() }), login: true }, async (msg, agent) => {
      await agent.bind(msg.uid)
      agent.send('Note', { text: 'welcome' })
    })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return app
}

async function connect (app: FastifyInstance): Promise<WebSocket[]> {
  const { port } = app.server.address() as { port: number }
  const sockets: WebSocket[] = []
  for (let i = 0; i < CONNS; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`)
    await new Promise(resolve => ws.once('open', resolve))
    ws.send(JSON.stringify({ Hello: { uid: `u${i}` } }))
    await new Promise(resolve => ws.once('message', resolve))
    sockets.push(ws)
  }
  return sockets
}

function agentsOf (app: FastifyInstance): Agent[] {
  return Array.from({ length: CONNS }, (_, i) => [...app.gate.agentsOf(`u${i}`)][0]!)
}

interface RedisFigures { scripts: number, commands: number, spublish: number, cpuMs: number, memory: number }

async function figures (redis: Redis): Promise<RedisFigures> {
  const stats = await redis.info('commandstats')
  let scripts = 0
  let commands = 0
  let spublish = 0
  for (const [, name, calls] of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (name === 'info' || name === 'config') continue
    if (name === 'evalsha' || name === 'eval') scripts += Number(calls)
    else commands += Number(calls)
    if (name === 'spublish') spublish += Number(calls)
  }
  const cpu = await redis.info('cpu')
  const sec = (key: string): number => Number(new RegExp(`^${key}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? 0)
  const memory = Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))?.[1] ?? 0)
  return { scripts, commands, spublish, cpuMs: (sec('used_cpu_sys') + sec('used_cpu_user')) * 1000, memory }
}

function per (label: string, before: RedisFigures, after: RedisFigures, n: number, unit: string): void {
  const d = (k: keyof RedisFigures): string => ((after[k] - before[k]) / n).toFixed(k === 'cpuMs' ? 4 : 2)
  process.stdout.write(`${label.padEnd(44)} per ${unit}: ${d('scripts')} script calls, ${d('commands')} commands in them, ` +
    `${(Number(d('cpuMs')) * 1000).toFixed(1)} µs Redis CPU, ${d('memory')} B Redis memory, ${d('spublish')} SPUBLISH\n`)
}

async function until (check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000 && !(await check()); i++) await sleep(5)
}

async function joinAll (agents: Agent[], perTick: boolean): Promise<number> {
  const start = performance.now()
  for (let i = 0; i < agents.length; i++) {
    for (let k = 0; k < ROOMS; k++) {
      agents[i].join(roomOf(i, k))
      if (perTick) await tick()
    }
  }
  return performance.now() - start
}

function leaveAll (agents: Agent[]): void {
  for (let i = 0; i < agents.length; i++) for (let k = 0; k < ROOMS; k++) agents[i].leave(roomOf(i, k))
}

async function pushes (app: FastifyInstance, room: string, name: 'Note' | 'Kept' = 'Note', text = 'x'): Promise<number> {
  const start = performance.now()
  for (let i = 0; i < PUSHES; i++) await app.gate.pushToRoom(room, name, { text })
  return (performance.now() - start) * 1000 / PUSHES
}

/** Room history, side by side: kept and plain room pushes (100-byte bodies), alternated over 3 rounds; then a resume of MISSED messages. */
async function roomHistory (app: FastifyInstance, label: string, room: string, redis?: Redis): Promise<void> {
  const text = 'x'.repeat(100)
  const totals = { Note: 0, Kept: 0 }
  // The room's stream fills up to maxCount in the first round: the rounds after are the steady state (each append trims one).
  for (let round = 0; round < 3; round++) {
    for (const name of ['Note', 'Kept'] as const) {
      const before = redis === undefined ? undefined : await figures(redis)
      totals[name] += await pushes(app, room, name, text)
      if (before !== undefined && round === 2) per(`${label}: room push, ${name === 'Kept' ? 'kept' : 'not kept'}`, before, await figures(redis!), PUSHES, 'push')
    }
  }
  process.stdout.write(`${`${label}: room push, kept / not kept`.padEnd(44)} ${(totals.Kept / 3).toFixed(1)} / ${(totals.Note / 3).toFixed(1)} µs per push = ${(totals.Kept / totals.Note).toFixed(2)}x\n`)

  const { port } = app.server.address() as { port: number }
  const store = app.gate.history.store as { bytes?: number }
  for (const missed of MISSED) {
    // A room of its own, so that its stream starts empty: memory per kept message.
    const fresh = `resume-${missed}`
    const first = await subscriber(port, 'resumer', fresh, '')
    first.ws.close()
    const held = redis === undefined ? store.bytes ?? 0 : (await figures(redis)).memory
    for (let i = 0; i < missed; i++) await app.gate.pushToRoom(fresh, 'Kept', { text })
    const grown = (redis === undefined ? store.bytes ?? 0 : (await figures(redis)).memory) - held
    const before = redis === undefined ? undefined : await figures(redis)
    const again = await subscriber(port, 'resumer', fresh, first.pos)
    again.ws.close()
    process.stdout.write(`${`${label}: resume of ${missed} missed`.padEnd(44)} ${again.ms.toFixed(2)} ms from Gate_Subscribe to Gate_Reply, ${again.replayed} replayed, recovered ${String(again.recovered)}; ` +
      `${(grown / missed).toFixed(0)} B ${redis === undefined ? 'of the memory store' : 'of Redis memory'} per kept message (100-byte body)\n`)
    if (before !== undefined) per(`${label}: resume of ${missed} missed`, before, await figures(redis!), 1, 'resume')
  }
}

/** Logs in as `uid`, subscribes to `room` with `since`: the replayed messages, the reply's position, the time from subscribe to reply. */
async function subscriber (port: number, uid: string, room: string, since: string): Promise<{ ws: WebSocket, pos: string, replayed: number, recovered: boolean, ms: number }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`)
  await new Promise(resolve => ws.once('open', resolve))
  ws.send(JSON.stringify({ Hello: { uid } }))
  await new Promise(resolve => ws.once('message', resolve))
  return await new Promise(resolve => {
    let replayed = 0
    const start = performance.now()
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as { Gate_Reply?: { pos: string, recovered: boolean } }
      if (msg.Gate_Reply === undefined) {
        replayed++
        return
      }
      resolve({ ws, pos: msg.Gate_Reply.pos, replayed, recovered: msg.Gate_Reply.recovered, ms: performance.now() - start })
    })
    ws.send(JSON.stringify({ Gate_Subscribe: { id: 1, room, since } }))
  })
}

const us = (ms: number, n: number): string => `${(ms * 1000 / n).toFixed(2)} µs`
process.stdout.write(`${CONNS} connections, ${ROOMS} rooms each (${JOINS} joins over ${Math.floor(JOINS / 10)} rooms)\n`)

{
  const app = await gate({})
  const sockets = await connect(app)
  const agents = agentsOf(app)
  const ms = await joinAll(agents, false)
  process.stdout.write(`${'single node'.padEnd(44)} ${us(ms, JOINS)} per join (event loop)\n`)
  const listed = performance.now()
  const page = await app.gate.rooms(0, 100)
  process.stdout.write(`${'single node'.padEnd(44)} GET rooms page of 100 of ${page.total}: ${(performance.now() - listed).toFixed(2)} ms\n`)
  await roomHistory(app, 'single node', roomOf(0, 0))
  leaveAll(agents)
  for (const ws of sockets) ws.close()
  await app.close()
}

if (spawnSync('redis-server', ['--version']).status === 0) {
  const port = await freePort()
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  await sleep(300)
  const redis = new Redis(port, '127.0.0.1')
  try {
    const url = `redis://127.0.0.1:${port}`
    const a = await gate({ redis: url, nodeId: 'a' })
    const idle = await gate({ redis: url, nodeId: 'idle' })
    let before = await figures(redis)
    const sockets = await connect(a)
    per('cluster: connect + login', before, await figures(redis), CONNS, 'connection')
    const agents = agentsOf(a)
    const listed = async (): Promise<boolean> => (await a.gate.rooms(0, 1)).total === Math.floor(JOINS / 10)

    for (const perTick of [true, false]) {
      before = await figures(redis)
      const ms = await joinAll(agents, perTick)
      const loop = performance.now()
      await until(listed)
      const label = `cluster: joins ${perTick ? 'one per tick' : 'all in one tick'}`
      process.stdout.write(`${label.padEnd(44)} ${us(ms, JOINS)} per join (event loop), ${us(ms + performance.now() - loop, JOINS)} until Redis holds all\n`)
      per(label, before, await figures(redis), JOINS, 'join')
      before = await figures(redis)
      leaveAll(agents)
      await until(async () => (await a.gate.rooms(0, 1)).total === 0)
      per('cluster: leaves, all in one tick', before, await figures(redis), JOINS, 'leave')
    }

    await joinAll(agents, false)
    await until(listed)
    const start = performance.now()
    const page = await a.gate.rooms(0, 100)
    process.stdout.write(`${'cluster'.padEnd(44)} GET rooms page of 100 of ${page.total}: ${(performance.now() - start).toFixed(2)} ms\n`)
    for (const [room, label] of [[roomOf(0, 0), 'members on this node only'], ['nobody-here', 'no member anywhere']]) {
      before = await figures(redis)
      const t = await pushes(a, room)
      process.stdout.write(`${`cluster: room push, ${label}`.padEnd(44)} ${t.toFixed(1)} µs per push\n`)
      per(`cluster: room push, ${label}`, before, await figures(redis), PUSHES, 'push')
    }
    await roomHistory(a, 'cluster', roomOf(0, 0), redis)
    for (const ws of sockets) ws.close()
    await Promise.all([a.close(), idle.close()])
  } finally {
    redis.disconnect()
    server.kill('SIGKILL')
  }
} else {
  process.stdout.write('redis-server is missing: cluster figures skipped\n')
}
