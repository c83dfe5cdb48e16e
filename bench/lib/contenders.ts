/**
 * What is compared: a server process and the client kind that talks to it.
 * `withServer` starts the server and one load generator for a measurement and
 * always stops both; `rounds` alternates the contenders (A/B/C, A/B/C, ...).
 */
import path from 'node:path'
import type { Kind, Target } from '../load/conns.js'
import type { ServerStats } from '../servers/control.js'
import { Child } from './ipc.js'
import { log, note } from './log.js'

export interface Contender {
  id: string
  label: string
  entry: string
  kind: Kind
}

export const gateWs: Contender = { id: 'gate-ws', label: 'fastify-gate', entry: 'servers/gate.ts', kind: 'ws' }
export const gateTcp: Contender = { id: 'gate-tcp', label: 'fastify-gate', entry: 'servers/gate.ts', kind: 'tcp' }
export const bareWs: Contender = { id: 'bare-ws', label: 'bare ws', entry: 'servers/bare-ws.ts', kind: 'ws' }
export const bareNet: Contender = { id: 'bare-net', label: 'bare net', entry: 'servers/bare-net.ts', kind: 'tcp' }
export const socketIo: Contender = { id: 'socket.io', label: 'socket.io', entry: 'servers/socketio.ts', kind: 'sio' }

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

export function targetOf (c: Contender, info: { port: number, tcpPort?: number, path?: string }): Target {
  return { kind: c.kind, host: '127.0.0.1', port: c.kind === 'tcp' ? info.tcpPort! : info.port, path: info.path ?? '/' }
}

export interface SessionOptions {
  /** Environment of the server. */
  env?: Record<string, string>
  /** File descriptors to ask for, for the server and the load generators. */
  fdLimit?: number
  /** How many load generator processes (default 1). */
  loads?: number
}

/** Starts `c`'s server and its load generator(s), runs `fn`, stops them all. */
export async function withServer<T> (c: Contender, fn: (s: Session) => Promise<T>, opts: SessionOptions = {}): Promise<T> {
  const server = await Child.start(c.id, c.entry, { env: { LOG_LEVEL: 'warn', ...opts.env }, fdLimit: opts.fdLimit })
  const loads: Child[] = []
  try {
    for (let i = 0; i < (opts.loads ?? 1); i++) {
      const name = `load${i + 1}`
      loads.push(await Child.start(name, 'load/main.ts', { fdLimit: opts.fdLimit, onProgress: line => note(`${c.label} ${c.kind} ${name}: ${line}`) }))
    }
    const target = targetOf(c, server.info)
    const profiled = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
      if (process.env.BENCH_CPU_PROF !== '1') return await run()
      await server.call('profile', { start: true })
      const result = await run()
      note(`profile: ${String(await server.call('profile', { file: path.resolve(PROF_DIR, `${name}.cpuprofile`) }))}`)
      return result
    }
    const stats = async (gc = false): Promise<ServerStats> => await server.call('stats', { gc })
    return await fn({ server, load: loads[0], loads, target, stats, profiled })
  } finally {
    for (const load of loads) await load.stop()
    await server.stop()
  }
}

/** `BENCH_ONLY=gate-ws,bare-ws` limits a run to those contenders. */
function selected (contenders: readonly Contender[]): Contender[] {
  const only = process.env.BENCH_ONLY?.split(',').filter(Boolean)
  return only === undefined || only.length === 0 ? [...contenders] : contenders.filter(c => only.includes(c.id))
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
