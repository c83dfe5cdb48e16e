/**
 * The load generator: a child process of the runner holding client connections.
 * Commands: `open` (connect, log in, join a room; MQTT logs in at CONNECT), `echo` (one heartbeat
 * outstanding per connection, for a fixed time), `fanout` (admin pushes, timed
 * until the last client has received), `closeAll`, `cycles` (connect, log in,
 * disconnect, over and over: the soak). Every wait is bounded.
 */
import { createSigner } from 'fast-jwt'
import http from 'node:http'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { progress, serveCommands } from '../lib/ipc.js'
import { percentile } from '../lib/stats.js'
import { SECRET } from '../servers/control.js'
import { connect, pool, poolCounts, prepare, request, type LoadConn, type Target } from './conns.js'
import { cycles } from './cycles.js'
import { MqttConn } from './mqtt-conn.js'

const sign = createSigner({ key: SECRET, algorithm: 'HS256' })
let target: Target
let conns: LoadConn[] = []
const uids: string[] = []

/** Polls until `check()` holds or `ms` passed; returns whether it held. */
async function until (check: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms
  while (!check()) {
    if (performance.now() > deadline) return false
    await sleep(2)
  }
  return true
}

export interface OpenArgs {
  target: Target
  count: number
  uidPrefix: string
  room?: string
  concurrency: number
  localAddress?: string
  /** Stop after this many failed connections. */
  maxFailures: number
  /** Overall time limit. */
  timeoutMs: number
}

export interface OpenResult { opened: number, failed: number, seconds: number, /** Error message -> count. */ errors: Record<string, number> }

async function open (a: OpenArgs): Promise<OpenResult> {
  target = a.target
  const start = performance.now()
  const deadline = start + a.timeoutMs
  const roomMsg = a.room === undefined ? undefined : prepare(target.kind, 'C2S_UpdateWatchRoom', { rooms: [a.room] })
  const counts = poolCounts()
  const ticker = setInterval(() => {
    const s = (performance.now() - start) / 1000
    progress(`opened ${counts.ok}/${a.count} (${Math.round(counts.ok / s)}/s)${counts.failed > 0 ? `, ${counts.failed} failed` : ''}`)
  }, 2000)
  await pool(a.count, a.concurrency, counts, () => counts.failed < a.maxFailures && performance.now() < deadline, async (n) => {
    const uid = `${a.uidPrefix}${n}`
    const token = sign({ sub: uid })
    let conn: LoadConn
    if (target.kind === 'mqtt') {
      // Logged in by CONNECT's password: CONNACK 0 is the login's answer.
      conn = await MqttConn.open(target, uid, token, a.localAddress, 10_000)
    } else {
      conn = await connect(target, a.localAddress, 10_000)
      const login = await request(conn, prepare(target.kind, 'C2S_UserLogin', { token, login_plat: 1 }), 10_000)
      if (!login.includes('"ret":1')) throw new Error(`login refused: ${login.toString().slice(0, 80)}`)
    }
    if (roomMsg !== undefined) await request(conn, roomMsg, 10_000)
    conns.push(conn)
    uids.push(uid)
  })
  clearInterval(ticker)
  return {
    opened: counts.ok,
    failed: counts.failed,
    seconds: (performance.now() - start) / 1000,
    errors: Object.fromEntries(counts.errors)
  }
}

export interface EchoResult { msgs: number, seconds: number, p50: number, p99: number, loadCpuPct: number }

const MAX_SAMPLES = 4_000_000

/** One closed loop: `send` sends a message, and the next goes when `receiver` gets it. */
interface Loop { receiver: LoadConn, send: () => void }

/**
 * Runs the loops, each with one message in flight, for a warm-up and then a
 * measured time; then lets every message in flight arrive. Round trips are
 * timed from the send to the receipt.
 */
async function closedLoops (loops: Loop[], warmupMs: number, durationMs: number): Promise<EchoResult> {
  const sentAt = new Float64Array(loops.length)
  const samples = new Float64Array(MAX_SAMPLES)
  let n = 0
  let count = 0
  let measuring = false
  let stopping = false
  let outstanding = loops.length
  loops.forEach((loop, i) => {
    loop.receiver.onMessage = () => {
      const now = performance.now()
      if (measuring) {
        count++
        if (n < MAX_SAMPLES) samples[n++] = now - sentAt[i]
      }
      if (stopping) { outstanding--; return }
      sentAt[i] = now
      loop.send()
    }
  })
  const t = performance.now()
  loops.forEach((loop, i) => { sentAt[i] = t; loop.send() })
  await sleep(warmupMs)
  measuring = true
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  for (let left = durationMs; left > 0; left -= 5000) {
    await sleep(Math.min(5000, left))
    if (left > 5000) progress(`${Math.round(count / ((performance.now() - t0) / 1000))} msg/s`)
  }
  measuring = false
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  stopping = true
  if (!await until(() => outstanding <= 0, 10_000)) progress(`warning: ${outstanding} messages unanswered after the run`)
  const sorted = samples.subarray(0, n).sort()
  return {
    msgs: count,
    seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    loadCpuPct: (cpu.user + cpu.system) / 1e4 / seconds
  }
}

/** Every connection keeps one heartbeat in flight and sends the next when the answer arrives. */
async function echo (a: { warmupMs: number, durationMs: number }): Promise<EchoResult> {
  const shared = prepare(target.kind, 'C2S_UserHeartBeat', { ptime: 1 })
  return await closedLoops(conns.map(conn => {
    const hb = conn.heartbeat ?? shared
    return { receiver: conn, send: () => conn.send(hb) }
  }), a.warmupMs, a.durationMs)
}

export interface Admin {
  port: number
  headers: Record<string, string>
}

/** POSTs JSON to a server's admin API over keep-alive connections; rejects on a non-200 answer. */
function adminClient (admin: Admin, sockets: number): { post: (path: string, body: unknown) => Promise<{ delivered: number }>, close: () => void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets })
  const post = async (path: string, body: unknown): Promise<{ delivered: number }> => await new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body))
    const req = http.request({
      host: target.host,
      port: admin.port,
      path,
      method: 'POST',
      agent,
      timeout: 10_000,
      headers: { ...admin.headers, 'content-type': 'application/json', 'content-length': data.length }
    }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${path}: HTTP ${String(res.statusCode)} ${Buffer.concat(chunks).toString().slice(0, 200)}`))
        else resolve(JSON.parse(Buffer.concat(chunks).toString()) as { delivered: number })
      })
    })
    req.on('timeout', () => req.destroy(new Error(`${path}: timeout`)))
    req.on('error', reject)
    req.end(data)
  })
  return { post, close: () => agent.destroy() }
}

const pushed = (): { name: string, body: unknown } => ({ name: 'S2C_Message', body: { from_uid: 'admin', content: 'fan-out benchmark', ts: Date.now() } })

export interface FanoutArgs {
  admin: Admin
  /** How many uids the multi-uid push names. */
  pushUids: number
  reps: number
  /** Seconds of single-uid pushes, and how many requests in flight. */
  singleSeconds: number
  singleConcurrency: number
}

export interface FanoutOp { lastMs: number, httpMs: number, delivered: number, received: number }
export interface FanoutResult { uids: FanoutOp[], room: FanoutOp[], broadcast: FanoutOp[], singlePerSec: number, singleErrors: number }

async function fanout (a: FanoutArgs): Promise<FanoutResult> {
  const { post, close } = adminClient(a.admin, a.singleConcurrency)
  let received = 0
  let lastAt = 0
  for (const conn of conns) conn.onMessage = () => { received++; lastAt = performance.now() }
  const op = async (path: string, body: object, expected: number): Promise<FanoutOp> => {
    await sleep(20)
    received = 0
    const t0 = performance.now()
    const res = await post(path, body)
    const httpMs = performance.now() - t0
    if (!await until(() => received >= expected, 10_000)) progress(`warning: ${path} reached ${received}/${expected} clients in 10 s`)
    return { lastMs: lastAt - t0, httpMs, delivered: res.delivered, received }
  }
  const some = uids.slice(0, a.pushUids)
  const result: FanoutResult = { uids: [], room: [], broadcast: [], singlePerSec: 0, singleErrors: 0 }
  for (let r = 0; r < a.reps; r++) {
    result.uids.push(await op('/gate/push', { uids: some, ...pushed() }, some.length))
    result.room.push(await op('/gate/rooms/bench/push', pushed(), conns.length))
    result.broadcast.push(await op('/gate/broadcast', pushed(), conns.length))
  }
  progress(`fan-out x${a.reps} done; ${a.singleConcurrency} requests in flight push to single uids for ${a.singleSeconds} s`)
  let done = 0
  const deadline = performance.now() + a.singleSeconds * 1000
  const t0 = performance.now()
  await Promise.all(Array.from({ length: a.singleConcurrency }, async (_, w) => {
    for (let i = w; performance.now() < deadline; i += a.singleConcurrency) {
      try {
        await post('/gate/push', { uids: [uids[i % uids.length]], ...pushed() })
        done++
      } catch {
        result.singleErrors++
      }
    }
  }))
  result.singlePerSec = done / ((performance.now() - t0) / 1000)
  close()
  return result
}

export interface LatencyResult { count: number, p50: number, p99: number, lost: number }

/** Single-uid pushes through `admin`, one at a time, to the connections `from..to`: time until received. */
async function pushLatency (a: { admin: Admin, from: number, to: number, count: number }): Promise<LatencyResult> {
  const { post, close } = adminClient(a.admin, 1)
  const samples: number[] = []
  let lost = 0
  for (let i = 0; i < a.count; i++) {
    const k = a.from + i % (a.to - a.from)
    const conn = conns[k]
    let got = false
    conn.onMessage = () => { got = true }
    const t0 = performance.now()
    await post('/gate/push', { uids: [uids[k]], ...pushed() })
    if (await until(() => got, 5000)) samples.push(performance.now() - t0)
    else lost++
  }
  close()
  const sorted = samples.sort((x, y) => x - y)
  return { count: samples.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), lost }
}

/**
 * Closed-loop uid-to-uid messages: connection `senders[i]` sends `C2S_Message`
 * to the uid of `receivers[i]`, and sends the next one when it arrives.
 */
async function pairs (a: { senders: [number, number], receivers: [number, number], warmupMs: number, durationMs: number }): Promise<EchoResult> {
  const loops = Array.from({ length: a.senders[1] - a.senders[0] }, (_, i): Loop => {
    const sender = conns[a.senders[0] + i]
    const msg = prepare(target.kind, 'C2S_Message', { to_uid: uids[a.receivers[0] + i], content: 'uid-to-uid benchmark' })
    sender.onMessage = () => {}
    return { receiver: conns[a.receivers[0] + i], send: () => sender.send(msg) }
  })
  return await closedLoops(loops, a.warmupMs, a.durationMs)
}

async function closeAll (): Promise<{ closed: number }> {
  const all = conns
  conns = []
  uids.length = 0
  for (const conn of all) conn.close()
  await Promise.race([Promise.all(all.map(async c => await c.closed)), sleep(10_000)])
  return { closed: all.length }
}

serveCommands({ open, echo, fanout, pushLatency, pairs, closeAll, cycles }, { pid: process.pid })
