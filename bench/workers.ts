/**
 * Workers and drain (issue 17), run by hand, not in CI: `npm run bench:workers`.
 *
 * The example gateway as `npm start` runs it (`node --import tsx
 * examples/chat/server.ts`), in cluster mode on a private redis-server, with
 * GATE_WORKERS=1 and then 2, the per-IP and rate limits off:
 *
 * 1. Echo: 1,000 logged-in WebSocket connections from the bench's load
 *    generator (pinned to CPU 1 as in `npm run bench`; the gateway tree is not
 *    pinned, so two workers can use both cores, the load generator's
 *    included), each with one heartbeat in flight: msgs/s, p50, p99, in
 *    alternating-free windows (median of BENCH_WORKERS_WINDOWS).
 * 2. Spread: which worker each of 200 logins landed on (GET /gate/users/:uid).
 * 3. Drain: 10,000 raw leaf TCP connections held by this process, then SIGTERM
 *    to the top process: when each connection got its close notice (1012), and
 *    when the process tree exited; GATE_DRAIN_TIME 5000.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Child } from './lib/ipc.js'
import { LOAD_CPU } from './lib/contenders.js'
import { freePort } from './lib/ports.js'
import { startRedis } from './lib/redis.js'
import { median } from './lib/stats.js'
import { SECRET } from './servers/control.js'
import type { EchoResult, OpenResult } from './load/main.js'

const ADMIN = 'bench-admin'
const WINDOWS = Number(process.env.BENCH_WORKERS_WINDOWS ?? 5)
const ECHO_CONNS = Number(process.env.BENCH_WORKERS_CONNS ?? 1000)
const DRAIN_CONNS = Number(process.env.BENCH_DRAIN_CONNS ?? 10_000)
const DRAIN_TIME = 5000

const log = (line: string): void => { process.stdout.write(`${line}\n`) }

interface Gateway { proc: ChildProcess, port: number, tcpPort: number, exited: Promise<unknown> }

async function startGateway (workers: number, redisUrl: string): Promise<Gateway> {
  const [port, tcpPort] = [await freePort(), await freePort()]
  const proc = spawn(process.execPath, ['--import', 'tsx', 'examples/chat/server.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      GATE_TCP_PORT: String(tcpPort),
      GATE_MQTT_PORT: 'off',
      REDIS_URL: redisUrl,
      GATE_WORKERS: String(workers),
      GATE_NODE_ID: 'bench',
      GATE_TOKEN_SECRET: SECRET,
      GATE_ADMIN_TOKEN: ADMIN,
      GATE_MAX_CONN: '1000000',
      GATE_MAX_CONN_PER_IP: '0',
      GATE_CONN_RATE_PER_IP: '0',
      GATE_MSG_RATE: '0',
      GATE_MSG_RATE_PER_IP: '0',
      GATE_IDLE_TIMEOUT: '600000',
      GATE_LOGIN_TIMEOUT: '0',
      GATE_DRAIN_TIME: String(DRAIN_TIME),
      LOG_LEVEL: 'info'
    },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  let out = ''
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  const exited = once(proc, 'exit')
  const ready = workers === 1 ? 'chat gateway ready' : 'all workers ready'
  const deadline = Date.now() + 120_000
  while (!out.includes(ready)) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`the gateway did not start: ${out}`)
    await sleep(50)
  }
  return { proc, port, tcpPort, exited }
}

async function stats (port: number): Promise<{ connections: number }> {
  const res = await fetch(`http://127.0.0.1:${port}/gate/stats`, { headers: { authorization: `Bearer ${ADMIN}` } })
  return await res.json() as { connections: number }
}

async function nodeOf (port: number, uid: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/gate/users/${uid}`, { headers: { authorization: `Bearer ${ADMIN}` } })
  const body = await res.json() as { connections: Array<{ node: string }> }
  return body.connections[0].node
}

/** Echo windows and the spread of the logins. */
async function echo (g: Gateway, workers: number): Promise<{ msgsPerSec: number, p50: number, p99: number, spread: Record<string, number> }> {
  const load = await Child.start('load', 'load/main.ts', { cpu: LOAD_CPU })
  try {
    const target = { kind: 'ws' as const, host: '127.0.0.1', port: g.port, path: '/ws' }
    const opened = await load.call<OpenResult>('open', { target, count: ECHO_CONNS, uidPrefix: `w${workers}-`, concurrency: 64, maxFailures: 10, timeoutMs: 120_000 })
    if (opened.opened < ECHO_CONNS) throw new Error(`only ${opened.opened} connections opened: ${JSON.stringify(opened.errors)}`)
    const spread: Record<string, number> = {}
    for (let i = 0; i < Math.min(200, ECHO_CONNS); i++) {
      const node = await nodeOf(g.port, `w${workers}-${i}`)
      spread[node] = (spread[node] ?? 0) + 1
    }
    const windows: EchoResult[] = []
    for (let w = 0; w < WINDOWS; w++) {
      const r = await load.call<EchoResult>('echo', { warmupMs: 300, durationMs: 2000 })
      windows.push(r)
      log(`  workers=${workers} window ${w + 1}: ${Math.round(r.msgs / r.seconds)} msg/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms`)
    }
    return {
      msgsPerSec: median(windows.map(r => r.msgs / r.seconds)),
      p50: median(windows.map(r => r.p50)),
      p99: median(windows.map(r => r.p99)),
      spread
    }
  } finally {
    await load.stop()
  }
}

/** Opens `count` raw TCP connections; resolves with them once all are connected. */
async function openTcp (port: number, count: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = []
  const batch = 200
  for (let i = 0; i < count; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, count - i) }, async () => {
      const s = net.connect(port, '127.0.0.1')
      s.on('error', () => {})
      s.resume()
      await once(s, 'connect')
      sockets.push(s)
    }))
  }
  return sockets
}

/** SIGTERM to the top process with `count` connections open: close times relative to the signal, and the exit. */
async function drain (g: Gateway, count: number): Promise<{ exitMs: number, firstMs: number, lastMs: number, deciles: number[], notices: number }> {
  const sockets = await openTcp(g.tcpPort, count)
  // Connected is not yet served: under node:cluster the primary accepts, then hands each socket to a worker.
  const served = Date.now() + 120_000
  while ((await stats(g.port)).connections < count) {
    if (Date.now() > served) throw new Error(`the gateway never counted ${count} connections`)
    await sleep(200)
  }
  const closedAt: number[] = []
  let notices = 0
  for (const s of sockets) {
    let got = ''
    s.on('data', (d: Buffer) => { got += d.toString('latin1') })
    s.on('close', () => {
      closedAt.push(performance.now())
      if (/S2C_Close.*1012/.test(got)) notices++
    })
  }
  const start = performance.now()
  g.proc.kill('SIGTERM')
  await g.exited
  const exitMs = performance.now() - start
  const deadline = Date.now() + 10_000
  while (closedAt.length < count && Date.now() < deadline) await sleep(50)
  for (const s of sockets) s.destroy()
  const rel = closedAt.map(t => t - start).sort((a, b) => a - b)
  // How many closed in each tenth of the drain time.
  const deciles = Array.from({ length: 11 }, (_, i) => rel.filter(t => t >= i * DRAIN_TIME / 10 && (i === 10 || t < (i + 1) * DRAIN_TIME / 10)).length)
  return { exitMs, firstMs: rel[0], lastMs: rel[rel.length - 1], deciles, notices }
}

const redis = await startRedis()
try {
  for (const workers of [1, 2]) {
    log(`== GATE_WORKERS=${workers}`)
    const g = await startGateway(workers, redis.url)
    try {
      const e = await echo(g, workers)
      log(`echo, ${ECHO_CONNS} WebSocket connections, workers=${workers}: ${Math.round(e.msgsPerSec)} msg/s (median of ${WINDOWS}), p50 ${e.p50.toFixed(2)} ms, p99 ${e.p99.toFixed(2)} ms; logins per worker (200 sampled): ${JSON.stringify(e.spread)}`)
      const d = await drain(g, DRAIN_CONNS)
      log(`drain, ${DRAIN_CONNS} TCP connections, GATE_DRAIN_TIME ${DRAIN_TIME}, workers=${workers}: SIGTERM to exit ${Math.round(d.exitMs)} ms; closes from ${Math.round(d.firstMs)} to ${Math.round(d.lastMs)} ms; 1012 notices ${d.notices}; closes per tenth of the drain time: ${d.deciles.join(' ')}`)
    } finally {
      g.proc.kill('SIGKILL')
    }
  }
} finally {
  redis.stop()
}
process.exit(0)
