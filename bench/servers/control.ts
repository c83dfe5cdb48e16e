/**
 * What every bench server answers over IPC: its memory (after a full GC when
 * asked), its CPU time, its open connections and file descriptors, and a heap
 * snapshot on demand.
 */
import type { FastifyInstance } from 'fastify'
import { mkdirSync, openSync, readdirSync, readFileSync, readSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { setImmediate as tick } from 'node:timers/promises'
import v8 from 'node:v8'
import { serveCommands, type Handler } from '../lib/ipc.js'

export interface ServerInfo {
  /** HTTP / WebSocket port. */
  port: number
  /** TCP port, for servers that speak the length-prefixed protocol. */
  tcpPort?: number
  /** WebSocket path. */
  path?: string
  /** MQTT (TCP) port, for servers that speak MQTT. */
  mqttPort?: number
  /** An MQTT broker with no handlers of its own: the echo goes through a subscription (load/mqtt-conn.ts). */
  broker?: boolean
  /** Headers for the admin API (e.g. the bearer token). */
  adminHeaders?: Record<string, string>
  /** Where the admin API comes from, for the report. */
  adminApi?: string
}

export interface ServerStats {
  rss: number
  heapUsed: number
  external: number
  /** CPU time since start, microseconds. */
  cpuUser: number
  cpuSystem: number
  connections: number
  fds: number
  fdLimit: string
}

export const SECRET = 'bench-secret'

async function fullGc (): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) return
  for (let i = 0; i < 3; i++) {
    gc()
    await tick()
  }
}

function fdLimit (): string {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find(l => l.startsWith('Max open files'))
    return line?.split(/\s{2,}/).slice(1, 3).join('/') ?? '?'
  } catch {
    return '?'
  }
}

// Read at start: a process out of descriptors cannot open /proc/self/limits.
const FD_LIMIT = fdLimit()

/** -1 when the directory cannot even be opened (the process is out of descriptors). */
function openFds (): number {
  try {
    return readdirSync('/proc/self/fd').length
  } catch {
    return -1
  }
}

// Opened at start, so RSS can still be read when the process is out of descriptors.
const statm = (() => { try { return openSync('/proc/self/statm', 'r') } catch { return undefined } })()
const statmBuf = Buffer.alloc(128)
const PAGE = 4096

function rss (): number {
  if (statm === undefined) return process.memoryUsage.rss()
  const n = readSync(statm, statmBuf, 0, statmBuf.length, 0)
  return Number(statmBuf.toString('latin1', 0, n).split(' ')[1]) * PAGE
}

let profiler: Session | undefined

/** Serves a listening app that carries the gate, with its admin API behind `adminToken`. */
export function serveGate (app: FastifyInstance, adminToken: string): void {
  serveServer({
    port: (app.server.address() as AddressInfo).port,
    tcpPort: app.gateTcpAddress()?.port,
    mqttPort: app.gateAddress('mqtt')?.port,
    path: app.gate.options.path,
    adminHeaders: { authorization: `Bearer ${adminToken}` },
    adminApi: 'the admin API (routes/admin)'
  }, () => app.gate.connectionCount)
}

/** Serves the stats commands (plus `extra`) and reports `info` as ready. */
export function serveServer (info: ServerInfo, connections: () => number, extra: Record<string, Handler> = {}): void {
  serveCommands({
    stats: async (args: { gc?: boolean }): Promise<ServerStats> => {
      if (args.gc === true) await fullGc()
      const heap = v8.getHeapStatistics()
      const cpu = process.cpuUsage()
      return {
        rss: rss(),
        heapUsed: heap.used_heap_size,
        external: heap.external_memory,
        cpuUser: cpu.user,
        cpuSystem: cpu.system,
        connections: connections(),
        fds: openFds(),
        fdLimit: FD_LIMIT
      }
    },
    heapSnapshot: async (args: { file: string }) => {
      await fullGc()
      mkdirSync(path.dirname(args.file), { recursive: true })
      return v8.writeHeapSnapshot(args.file)
    },
    /** CPU profile of a window: `{ start: true }`, then `{ file }` to stop and write it. */
    profile: async (args: { start?: boolean, file?: string }) => {
      if (args.start === true) {
        profiler ??= new Session()
        profiler.connect()
        await profiler.post('Profiler.enable')
        await profiler.post('Profiler.start')
        return null
      }
      if (profiler === undefined) throw new Error('no profile started')
      const { profile } = await profiler.post('Profiler.stop')
      profiler.disconnect()
      profiler = undefined
      mkdirSync(path.dirname(args.file!), { recursive: true })
      writeFileSync(args.file!, JSON.stringify(profile))
      return args.file
    },
    ...extra
  }, info)
}
