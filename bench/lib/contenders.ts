/**
 * What is compared: a server process and the client kind that talks to it.
 * `withServer` starts the server and one load generator for a measurement and
 * always stops both, `withServers` does so for several contenders at once;
 * `rounds` alternates the contenders (A/B/C, A/B/C, ...).
 */
import { existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Kind, Target } from '../load/conns.js'
import type { ServerInfo, ServerStats } from '../servers/control.js'
import { Child } from './ipc.js'
import { log, note } from './log.js'

export interface Contender {
  id: string
  label: string
  entry: string
  kind: Kind
  /** Another checkout whose server to run (`BENCH_BEFORE`). */
  root?: string
  env?: Record<string, string>
  /** Why this contender cannot run on this machine, if it cannot (a program is missing). */
  missing?: () => string | undefined
}

export const gateWs: Contender = { id: 'gate-ws', label: 'fastify-gate', entry: 'servers/gate.ts', kind: 'ws' }
export const gateTcp: Contender = { id: 'gate-tcp', label: 'fastify-gate', entry: 'servers/gate.ts', kind: 'tcp' }
export const bareWs: Contender = { id: 'bare-ws', label: 'bare ws', entry: 'servers/bare-ws.ts', kind: 'ws' }
export const bareNet: Contender = { id: 'bare-net', label: 'bare net', entry: 'servers/bare-net.ts', kind: 'tcp' }
export const socketIo: Contender = { id: 'socket.io', label: 'socket.io', entry: 'servers/socketio.ts', kind: 'sio' }
export const gateMqtt: Contender = { id: 'gate-mqtt', label: 'fastify-gate', entry: 'servers/gate.ts', kind: 'mqtt' }
export const aedes: Contender = { id: 'aedes', label: 'aedes', entry: 'servers/aedes.ts', kind: 'mqtt' }
/** Debian's mosquitto (package `mosquitto`); its wrapper (servers/mosquitto.ts) starts this program. */
const MOSQUITTO = process.env.BENCH_MOSQUITTO ?? '/usr/sbin/mosquitto'
export const mosquitto: Contender = {
  id: 'mosquitto',
  label: 'mosquitto',
  entry: 'servers/mosquitto.ts',
  kind: 'mqtt',
  env: { BENCH_MOSQUITTO: MOSQUITTO },
  missing: () => existsSync(MOSQUITTO) ? undefined : `${MOSQUITTO} is missing (apt-get install mosquitto)`
}

/** The contenders per transport, gate first: WebSocket beside bare ws and socket.io, TCP beside bare net. */
export const byTransport: ReadonlyArray<{ transport: 'ws' | 'tcp', contenders: readonly Contender[] }> = [
  { transport: 'ws', contenders: [gateWs, bareWs, socketIo] },
  { transport: 'tcp', contenders: [gateTcp, bareNet] }
]

/** MQTT 3.1.1 over TCP: the gate's `mqtt` protocol beside aedes (Node) and mosquitto (C). */
export const mqttBrokers: readonly Contender[] = [gateMqtt, aedes, mosquitto]

export interface Session {
  server: Child
  load: Child
  /** Every load generator (`load` is the first). */
  loads: Child[]
  target: Target
  /** Server memory and CPU; `gc` runs a full collection first. */
  stats: (gc?: boolean) => Promise<ServerStats>
  /**
   * Runs `fn`; with `BENCH_CPU_PROF=1`, under the server's CPU profiler, written
   * to .bench-tmp/prof/<name>.cpuprofile (summarise with bench/tools/cpuprofile-top.ts).
   */
  profiled: <T>(name: string, fn: () => Promise<T>) => Promise<T>
}

const PROF_DIR = '.bench-tmp/prof'

/**
 * Servers run on CPU 0 and load generators on CPU 1 (`BENCH_PIN=0` leaves the
 * placement to the scheduler). Unpinned, the scheduler now and then puts a
 * client on its server's CPU, and that window's throughput halves.
 */
export const pinning = process.env.BENCH_PIN !== '0' && os.availableParallelism() >= 2
export const SERVER_CPU = pinning ? '0' : undefined
export const LOAD_CPU = pinning ? '1' : undefined

export function targetOf (c: Contender, info: ServerInfo): Target {
  const port = c.kind === 'tcp' ? info.tcpPort : c.kind === 'mqtt' ? info.mqttPort : info.port
  if (port === undefined) throw new Error(`${c.id}: the server reports no ${c.kind} port`)
  return { kind: c.kind, host: '127.0.0.1', port, path: info.path ?? '/', broker: info.broker }
}

export interface SessionOptions {
  /** Environment of the server. */
  env?: Record<string, string>
  /** File descriptors to ask for, for the server and the load generators. */
  fdLimit?: number
  /** How many load generator processes (default 1). */
  loads?: number
}

/** Starts `c`'s server and its load generator(s); `stop()` ends them all. */
async function startSession (c: Contender, opts: SessionOptions): Promise<Session & { stop: () => Promise<void> }> {
  const nodeFlags = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean)
  const server = await Child.start(c.id, c.entry, { env: { LOG_LEVEL: 'warn', ...c.env, ...opts.env }, fdLimit: opts.fdLimit, root: c.root, nodeFlags, cpu: SERVER_CPU })
  const loads: Child[] = []
  const stop = async (): Promise<void> => {
    for (const load of loads) await load.stop()
    await server.stop()
  }
  try {
    for (let i = 0; i < (opts.loads ?? 1); i++) {
      const name = `load${i + 1}`
      loads.push(await Child.start(name, 'load/main.ts', { fdLimit: opts.fdLimit, cpu: LOAD_CPU, onProgress: line => note(`${c.label} ${c.kind} ${name}: ${line}`) }))
    }
  } catch (err) {
    await stop()
    throw err
  }
  const profiled = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    if (process.env.BENCH_CPU_PROF !== '1') return await run()
    await server.call('profile', { start: true })
    const result = await run()
    note(`profile: ${String(await server.call('profile', { file: path.resolve(PROF_DIR, `${name}.cpuprofile`) }))}`)
    return result
  }
  const stats = async (gc = false): Promise<ServerStats> => await server.call('stats', { gc })
  return { server, load: loads[0], loads, target: targetOf(c, server.info), stats, profiled, stop }
}

/** Starts `c`'s server and its load generator(s), runs `fn`, stops them all. */
export async function withServer<T> (c: Contender, fn: (s: Session) => Promise<T>, opts: SessionOptions = {}): Promise<T> {
  const session = await startSession(c, opts)
  try {
    return await fn(session)
  } finally {
    await session.stop()
  }
}

/**
 * Starts every contender's server and load generator at once, runs `fn`, stops
 * them all: measurements can then alternate between contenders every second,
 * so that a change in the machine's background load hits all of them alike.
 */
export async function withServers<T> (contenders: readonly Contender[], fn: (s: Session[]) => Promise<T>, opts: SessionOptions = {}): Promise<T> {
  const sessions: Array<Session & { stop: () => Promise<void> }> = []
  try {
    for (const c of contenders) sessions.push(await startSession(c, opts))
    return await fn(sessions)
  } finally {
    for (const s of sessions) await s.stop()
  }
}

/**
 * `BENCH_ONLY=gate-ws,bare-ws` limits a run to those contenders;
 * `BENCH_BEFORE=<checkout>` adds that checkout's gate (`gate-ws@before`, ...).
 */
export function selected (contenders: readonly Contender[]): Contender[] {
  const before = process.env.BENCH_BEFORE
  const all = before === undefined || before === ''
    ? [...contenders]
    : contenders.flatMap(c => c.id.startsWith('gate-') ? [c, { ...c, id: `${c.id}@before`, label: `${c.label}@before`, root: path.resolve(before) }] : [c])
  const only = process.env.BENCH_ONLY?.split(',').filter(Boolean)
  return (only === undefined || only.length === 0 ? all : all.filter(c => only.includes(c.id))).filter(c => {
    const why = c.missing?.()
    if (why !== undefined) log(`*** ${c.label} left out: ${why} ***`)
    return why === undefined
  })
}

/** Runs `fn` for every contender, `n` rounds, each round in a rotated order. */
export async function rounds (n: number, all: readonly Contender[], fn: (c: Contender, round: number) => Promise<void>): Promise<void> {
  const contenders = selected(all)
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < contenders.length; i++) {
      const c = contenders[(i + r) % contenders.length]
      log(`round ${r + 1}/${n}: ${c.label} (${c.kind})`)
      await fn(c, r)
    }
  }
}
