/**
 * The moonshot of issue 17, run by hand, not in CI: `npm run bench:hold`.
 * 100,000 logged-in connections on one host, across workers, then a room push
 * to all of them.
 *
 * - The gateway is the example app (compiled by the bench's build, as
 *   `npm start` would run it with GATE_WORKERS) with GATE_WORKERS workers on a
 *   private redis-server, the per-IP and rate limits off, idle and login
 *   timeouts off. A process stops at its descriptor limit (`ulimit -n`, 20,000
 *   here, soft and hard): each worker gets GATE_MAX_CONN 19,000, so a worker
 *   that is full refuses a connection (the load process tries it again, and
 *   the primary hands it to another worker) instead of failing on EMFILE.
 * - The load is BENCH_HOLD_LOADERS processes (bench/load/hold.ts), each with
 *   its share of the connections from 200 source addresses of its own
 *   (127.0.<10 + i>.1-200): lean raw leaf TCP clients that log in and join
 *   room `hold` in one write. Many addresses, as real users have: the
 *   example's per-address login bucket (the gate's `loginRatePerIp`, 10/s,
 *   burst 20) holds a token per login in flight, so one address with hundreds
 *   in flight would wait on it.
 * - Figures: login rate (connections logged in and in the room per second,
 *   logins in two halves), CPU per login by process role (from /proc), memory
 *   per connection (the workers' RSS from half to full, and over their idle
 *   RSS), how the connections spread over the workers (descriptors of each),
 *   and BENCH_HOLD_PUSHES room pushes (`POST /gate/rooms/hold/push` on any
 *   worker): from the request until every client has the message, and the CPU
 *   per delivered message.
 *
 * Every wait is bounded and the whole run is bounded (BENCH_HOLD_LIMIT_MS, 10
 * minutes); every process it started is killed at the end, on an error, or on
 * Ctrl-C. Figures go to stdout and bench/results/hold.json.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { build, useTsx } from './lib/build.js'
import { Child } from './lib/ipc.js'
import { log, note } from './lib/log.js'
import { freePort } from './lib/ports.js'
import { startRedis, type BenchRedis } from './lib/redis.js'
import { median } from './lib/stats.js'
import { SECRET } from './servers/control.js'
import type { HoldOpenResult, HoldReceived } from './load/hold.js'

const env = process.env
const CONNS = Number(env.BENCH_HOLD_CONNS ?? 100_000)
const WORKERS = Number(env.BENCH_HOLD_WORKERS ?? 6)
const LOADERS = Number(env.BENCH_HOLD_LOADERS ?? 6)
/** Logins in flight per load process. */
const CONCURRENCY = Number(env.BENCH_HOLD_CONCURRENCY ?? 128)
/** Source addresses per load process: a login in flight holds a token of its address's bucket (loginRatePerIp, burst 20) until it succeeds. */
const ADDRESSES = 200
const PUSHES = Number(env.BENCH_HOLD_PUSHES ?? 3)
const LOGIN_MS = Number(env.BENCH_HOLD_LOGIN_MS ?? 240_000)
const LIMIT_MS = Number(env.BENCH_HOLD_LIMIT_MS ?? 10 * 60_000)
/**
 * How the `node:cluster` primary spreads connections: `rr` (its round-robin, the
 * default: it accepts each connection and hands it to a worker over IPC, one
 * at a time per worker) or `none` (every worker accepts on the shared socket).
 */
const SCHED = env.BENCH_HOLD_SCHED ?? 'rr'
/**
 * BENCH_HOLD_REDIS=0 with BENCH_HOLD_WORKERS=1: one gateway process without
 * Redis (a single node), to tell what cluster mode costs a login.
 */
const USE_REDIS = env.BENCH_HOLD_REDIS !== '0'
if (!USE_REDIS && WORKERS !== 1) throw new Error('BENCH_HOLD_REDIS=0 needs BENCH_HOLD_WORKERS=1: workers share their users through Redis')
const MAX_CONN_PER_WORKER = 19_000
const ROOM = 'hold'
const ADMIN = 'bench-admin'
const ROOT = fileURLToPath(new URL('..', import.meta.url))

const now = (): number => performance.timeOrigin + performance.now()
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KiB`

/** RSS of a process, from /proc (0 if it is gone). */
function rss (pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? 0 : Number(m[1]) * 1024
  } catch {
    return 0
  }
}

/** Open descriptors of a process (its connections and a few dozen of its own). */
function fds (pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return -1
  }
}

/** CPU time (user + system) a process has used, in ms, from /proc (0 if it is gone). */
function cpuMs (pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return 0
  }
}

function fdLimit (): string {
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'))
  return m === null ? 'unknown' : `${m[1]} soft / ${m[2]} hard`
}

interface Gateway { proc: ChildProcess, port: number, tcpPort: number, workerPids: number[], tail: () => string }

async function startGateway (redisUrl: string | undefined): Promise<Gateway> {
  const [port, tcpPort] = [await freePort(), await freePort()]
  // Compiled, as in the other benches (BENCH_TSX=1: through tsx).
  build()
  const args = useTsx ? ['--import', 'tsx', 'examples/chat/server.ts'] : ['.bench-tmp/build/examples/chat/server.js']
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    // Its own process group, so the whole tree can be killed at once.
    detached: true,
    env: {
      ...env,
      PORT: String(port),
      GATE_TCP_PORT: String(tcpPort),
      GATE_MQTT_PORT: 'off',
      REDIS_URL: redisUrl ?? '',
      REDIS_CLUSTER_NODES: '',
      GATE_WORKERS: String(WORKERS),
      GATE_NODE_ID: 'hold',
      GATE_TOKEN_SECRET: SECRET,
      GATE_ADMIN_TOKEN: ADMIN,
      GATE_MAX_CONN: String(MAX_CONN_PER_WORKER),
      GATE_MAX_CONN_PER_IP: '0',
      GATE_CONN_RATE_PER_IP: '0',
      GATE_MSG_RATE: '0',
      GATE_MSG_RATE_PER_IP: '0',
      GATE_HTTP_RATE_PER_IP: '0',
      GATE_IDLE_TIMEOUT: '0',
      GATE_LOGIN_TIMEOUT: '0',
      GATE_DRAIN_TIME: '0',
      NODE_CLUSTER_SCHED_POLICY: SCHED,
      LOG_LEVEL: 'info'
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let tail = ''
  const workerPids: number[] = []
  const state = { ready: false }
  let partial = ''
  const read = (d: Buffer): void => {
    const text = partial + d.toString()
    const lines = text.split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      tail = (tail + line + '\n').slice(-8000)
      if (!line.startsWith('{')) continue
      try {
        const l = JSON.parse(line) as { msg?: string, pid?: number, component?: string }
        if (l.msg === 'worker ready' && typeof l.pid === 'number') workerPids.push(l.pid)
        if (l.msg === 'all workers ready') state.ready = true
        // One worker: the top process is the gateway.
        if (WORKERS === 1 && l.msg === 'chat gateway ready') {
          workerPids.push(proc.pid!)
          state.ready = true
        }
      } catch {}
    }
  }
  proc.stdout!.on('data', read)
  proc.stderr!.on('data', read)
  const deadline = Date.now() + 180_000
  while (!state.ready) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`the gateway did not start:\n${tail}`)
    await sleep(100)
  }
  return { proc, port, tcpPort, workerPids, tail: () => tail }
}

async function admin (g: Gateway, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${g.port}/gate${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000)
  })
  return await res.json()
}

interface PushFigures { delivered: number, partial: boolean, answerMs: number, firstMs: number, lastMs: number, got: number, cpuUs: Record<string, number> }

/** One room push to every held connection: from the request until the last client has it. */
async function push (g: Gateway, loaders: Child[], n: number, expected: number, cpuOf: () => Record<string, number>): Promise<PushFigures> {
  const content = `hold push ${n} ${Date.now()}`
  await Promise.all(loaders.map(async l => await l.call('arm', { content })))
  const cpuBefore = cpuOf()
  const t0 = now()
  const answer = await admin(g, 'POST', `/rooms/${ROOM}/push`, { name: 'S2C_Message', body: { from_uid: 'bench', room: ROOM, content, ts: Date.now() } })
  const answerMs = now() - t0
  let r: HoldReceived[] = []
  const deadline = performance.now() + 60_000
  for (;;) {
    r = await Promise.all(loaders.map(async l => await l.call<HoldReceived>('received')))
    if (r.reduce((s, x) => s + x.got, 0) >= expected || performance.now() > deadline) break
    await sleep(20)
  }
  const got = r.reduce((s, x) => s + x.got, 0)
  const cpuAfter = cpuOf()
  const withAny = r.filter(x => x.got > 0)
  return {
    delivered: answer.delivered,
    partial: answer.partial === true,
    answerMs,
    firstMs: withAny.length === 0 ? NaN : Math.min(...withAny.map(x => x.firstAt)) - t0,
    lastMs: withAny.length === 0 ? NaN : Math.max(...withAny.map(x => x.lastAt)) - t0,
    got,
    // CPU per delivered message, by role (the polling of the load processes included).
    cpuUs: Object.fromEntries(Object.keys(cpuAfter).map(k => [k, (cpuAfter[k] - cpuBefore[k]) * 1000 / Math.max(1, got)]))
  }
}

let redis: BenchRedis | undefined
let gateway: Gateway | undefined
const loaders: Child[] = []

/** Kills everything this run started: the gateway's process group, the load processes, Redis. */
async function cleanUp (): Promise<void> {
  if (gateway !== undefined) {
    try { process.kill(-gateway.proc.pid!, 'SIGKILL') } catch {}
    for (const pid of gateway.workerPids) { try { process.kill(pid, 'SIGKILL') } catch {} }
    gateway = undefined
  }
  await Promise.all(loaders.splice(0).map(async l => { await l.stop(3000).catch(() => { l.proc.kill('SIGKILL') }) }))
  redis?.stop()
  redis = undefined
}

const hardStop = setTimeout(() => {
  log(`the run passed its bound (${LIMIT_MS} ms): stopping`)
  void cleanUp().finally(() => process.exit(1))
}, LIMIT_MS)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => { void cleanUp().finally(() => process.exit(130)) })
}

try {
  log(`hold: ${CONNS.toLocaleString('en')} connections, ${WORKERS} workers (GATE_MAX_CONN ${MAX_CONN_PER_WORKER} each, scheduling ${SCHED}), ${LOADERS} load processes x ${CONCURRENCY} logins in flight from ${ADDRESSES} addresses each; descriptors per process: ${fdLimit()}; load average ${loadavg().map(x => x.toFixed(1)).join(' ')}`)
  redis = USE_REDIS ? await startRedis() : undefined
  gateway = await startGateway(redis?.url)
  const g = gateway
  await sleep(3000)
  const idle = g.workerPids.map(rss)
  const idlePrimary = rss(g.proc.pid!)
  log(`gateway ready: ${g.workerPids.length} workers, idle RSS ${mib(idle.reduce((a, b) => a + b, 0))} (${idle.map(mib).join(', ')}), primary ${mib(idlePrimary)}`)

  const counts = new Array<number>(LOADERS).fill(0)
  for (let i = 0; i < LOADERS; i++) {
    loaders.push(await Child.start(`hold-load-${i}`, 'load/hold.ts', { onProgress: line => { counts[i] = Number(line) } }))
  }
  const loaderIdle = (await Promise.all(loaders.map(async l => await l.call<{ rss: number }>('memory')))).map(m => m.rss)

  // Logins, every load process at once, in two halves: memory is read at each (the
  // difference between the two is the cost of a connection, whatever the idle
  // workers' heaps held), and CPU time over both.
  const roles = {
    workers: g.workerPids,
    primary: WORKERS === 1 ? [] : [g.proc.pid!],
    load: loaders.map(l => l.info.pid as number),
    redis: redis === undefined ? [] : [redis.pid]
  }
  const cpuOf = (): Record<string, number> => Object.fromEntries(Object.entries(roles).map(([k, pids]) => [k, pids.reduce((a, pid) => a + cpuMs(pid), 0)]))
  const cpuBefore = cpuOf()
  const started = performance.now()
  const ticker = setInterval(() => {
    const total = counts.reduce((a, b) => a + b, 0)
    note(`${total.toLocaleString('en')} logged in (${Math.round(total / ((performance.now() - started) / 1000))}/s), load average ${loadavg()[0].toFixed(1)}`)
  }, 5000)
  const errors: Record<string, number> = {}
  let failed = 0
  let retried = 0
  let loginMs = 0
  let held = 0
  /** Opens `part` of each load process's share (the uids continue from `from`). */
  const openPart = async (part: (i: number) => number, from: (i: number) => number): Promise<void> => {
    const opened = await Promise.all(loaders.map(async (l, i) => await l.call<HoldOpenResult>('open', {
      port: g.tcpPort,
      addressPrefix: `127.0.${10 + i}`,
      addresses: ADDRESSES,
      count: part(i),
      first: from(i),
      uidPrefix: `h${i}-`,
      room: ROOM,
      secret: SECRET,
      concurrency: CONCURRENCY,
      retries: 5,
      timeoutMs: LOGIN_MS
    }, LOGIN_MS + 60_000)))
    for (const o of opened) {
      for (const [k, v] of Object.entries(o.errors)) errors[k] = (errors[k] ?? 0) + v
      failed += o.failed
      retried += o.retried
    }
    loginMs += Math.max(...opened.map(o => o.endedAt)) - Math.min(...opened.map(o => o.startedAt))
    held += opened.reduce((s, o) => s + o.opened, 0)
  }
  /** Waits until the admin API (any worker) counts every connection, then a few seconds; reads the workers' memory. */
  const settle = async (): Promise<{ stats: any, workersRss: number, settledMs: number }> => {
    const from = performance.now()
    let stats: any
    for (;;) {
      stats = await admin(g, 'GET', '/stats')
      if ((stats.connections === held && stats.onlineUsers === held) || performance.now() - from > 60_000) break
      await sleep(250)
    }
    const settledMs = performance.now() - from
    await sleep(5000)
    return { stats, workersRss: g.workerPids.map(rss).reduce((a, b) => a + b, 0), settledMs }
  }
  const share = (i: number): number => Math.floor(CONNS / LOADERS) + (i < CONNS % LOADERS ? 1 : 0)
  const half = (i: number): number => Math.floor(share(i) / 2)
  let half1: Awaited<ReturnType<typeof settle>>
  try {
    await openPart(half, () => 0)
    half1 = await settle()
    log(`half: ${held.toLocaleString('en')} held, workers ${mib(half1.workersRss)}`)
    await openPart(i => share(i) - half(i), half)
  } finally {
    clearInterval(ticker)
  }
  const cpuAfter = cpuOf()
  const loginSeconds = loginMs / 1000
  log(`logged in and in room "${ROOM}": ${held.toLocaleString('en')} of ${CONNS.toLocaleString('en')} in ${loginSeconds.toFixed(1)} s of logging in (two halves, ${Math.round(held / loginSeconds)}/s); failed ${failed}, retried ${retried}${Object.keys(errors).length > 0 ? `; errors ${JSON.stringify(errors)}` : ''}`)
  const cpuPerLogin = Object.fromEntries(Object.keys(roles).map(k => [k, (cpuAfter[k] - cpuBefore[k]) * 1000 / held]))
  log(`CPU per login (µs, both halves, settling included): ${Object.entries(cpuPerLogin).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')}`)

  // Every worker's presence is in Redis: the admin API, on any worker, counts them all.
  const full = await settle()
  const stats = full.stats
  log(`GET /gate/stats: ${JSON.stringify(stats)} (${Math.round(full.settledMs)} ms after the last login)`)
  const spread = g.workerPids.map(fds)
  const primary = rss(g.proc.pid!)
  const loaderAfter = (await Promise.all(loaders.map(async l => await l.call<{ rss: number }>('memory')))).map(m => m.rss)
  const workersRss = full.workersRss
  const idleRss = idle.reduce((a, b) => a + b, 0)
  const perConn = (workersRss - idleRss) / held
  const marginal = (full.workersRss - half1.workersRss) / (held - half1.stats.connections)
  log(`descriptors per worker: ${spread.join(', ')}`)
  log(`memory: workers ${mib(workersRss)} (idle ${mib(idleRss)}, at half ${mib(half1.workersRss)}): ${kib(marginal)} per connection from half to full, ${kib(perConn)} over the idle baseline, ${kib(workersRss / held)} all told; primary ${mib(primary)} (idle ${mib(idlePrimary)}); redis ${redis === undefined ? 'none' : mib(rss(redis.pid))}; load processes ${kib((loaderAfter.reduce((a, b) => a + b, 0) - loaderIdle.reduce((a, b) => a + b, 0)) / held)} per connection`)

  const pushes: PushFigures[] = []
  for (let n = 1; n <= PUSHES; n++) {
    const p = await push(g, loaders, n, held, cpuOf)
    pushes.push(p)
    log(`room push ${n}: answered in ${Math.round(p.answerMs)} ms (delivered ${p.delivered}${p.partial ? ', partial' : ''}); first client ${Math.round(p.firstMs)} ms, every client (${p.got.toLocaleString('en')}) ${Math.round(p.lastMs)} ms after the request; CPU per delivery (µs): ${Object.entries(p.cpuUs).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}; load average ${loadavg()[0].toFixed(1)}`)
    await sleep(1000)
  }
  const result = {
    at: new Date().toISOString(),
    commit: (() => { try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim() } catch { return 'unknown' } })(),
    connections: CONNS,
    held,
    workers: WORKERS,
    scheduling: SCHED,
    loaders: LOADERS,
    concurrency: CONCURRENCY,
    fdLimit: fdLimit(),
    loginSeconds,
    loginsPerSec: held / loginSeconds,
    cpuPerLoginUs: cpuPerLogin,
    errors,
    stats,
    descriptorsPerWorker: spread,
    idleWorkersRss: idleRss,
    workersRss,
    rssPerConn: perConn,
    rssPerConnHalfToFull: marginal,
    halfWorkersRss: half1.workersRss,
    primaryRss: primary,
    pushes,
    medianPushMs: median(pushes.map(p => p.lastMs)),
    loadAverage: loadavg()
  }
  writeFileSync(new URL('results/hold.json', import.meta.url), JSON.stringify(result, null, 2) + '\n')
  log(`room push to ${held.toLocaleString('en')}: median ${Math.round(result.medianPushMs)} ms until every client had it (goal 1,500 ms); bench/results/hold.json written`)
} catch (err) {
  log(`hold failed: ${(err as Error).stack ?? String(err)}`)
  if (gateway !== undefined) log(`gateway output (tail):\n${gateway.tail()}`)
  process.exitCode = 1
} finally {
  clearTimeout(hardStop)
  await cleanUp()
}
process.exit(process.exitCode ?? 0)
