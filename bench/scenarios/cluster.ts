/**
 * Scenario 4, cluster: two gate nodes (the example chat app) on a private Redis:
 * one redis-server on a free port of 127.0.0.1 (never 6379) and, with
 * `BENCH_CLUSTER_REDIS=single,cluster`, a Redis Cluster of three masters and
 * three replicas (test/redis-cluster-helper.ts). Single-uid admin pushes
 * through node A to a client on A (local) and on B (cross-node), timed until
 * received; closed-loop uid-to-uid `C2S_Message`s from clients on A to clients
 * on A (local) and on B (cross-node).
 *
 * Two node pairs run at once, one with history on (the example's default), one
 * with it off (`GATE_HISTORY_MAX_COUNT=0`), each with its own load generator;
 * their windows alternate, so that their ratio is measured side by side
 * (`BENCH_CLUSTER_HISTORY=on` or `off` runs one). `BENCH_BEFORE=<checkout>`
 * adds that tree's pairs beside this one's. Per window it also reads what the messages cost: the gate
 * nodes' CPU and Redis's (INFO cpu, every master) per message, and the
 * commands Redis ran per message (INFO commandstats, script internals
 * included). `BENCH_CPU_PROF=1` profiles both nodes in each uid-to-uid window
 * (.bench-tmp/prof/cluster-<redis>-<history>-<path>-<node>-<round>.cpuprofile).
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { RedisServer } from '../../test/redis-helper.js'
import { RedisClusterServer } from '../../test/redis-cluster-helper.js'
import { LOAD_CPU, SERVER_CPU, gateWs, targetOf } from '../lib/contenders.js'
import { Child } from '../lib/ipc.js'
import { log, note } from '../lib/log.js'
import { envInt, type ScenarioResult } from '../lib/params.js'
import { errorList, fixed, int } from '../lib/stats.js'
import type { EchoResult, LatencyResult } from '../load/main.js'
import type { ServerStats } from '../servers/control.js'

export type RedisKind = 'single' | 'cluster'
export type HistoryMode = 'on' | 'off'

export interface ClusterSample {
  /** Absent in results saved before the Redis Cluster was measured: a single Redis. */
  redis?: RedisKind
  /** Absent in results saved before history was measured both ways: on. */
  history?: HistoryMode
  /** `@before` for the `BENCH_BEFORE` tree's nodes. */
  build?: string
  path: 'local' | 'cross-node'
  round: number
  pushP50: number
  pushP99: number
  msgsPerSec: number
  msgP50: number
  msgP99: number
  /** CPU of both gate nodes per uid-to-uid message, µs. */
  gateCpuUs?: number
  /** CPU of Redis (every master) per uid-to-uid message, µs. */
  redisCpuUs?: number
  /** Calls Redis ran per uid-to-uid message, by command (scripts' own commands included). */
  redisCalls?: Record<string, number>
}

interface Backend {
  kind: RedisKind
  env: Record<string, string>
  /** Runs a command on every server (on a Redis Cluster: every master). */
  each: (...args: string[]) => Promise<unknown[]>
  close: () => Promise<void>
}

const PROF_DIR = '.bench-tmp/prof'

/** Why the scenario cannot run here, if it cannot. */
function unavailable (): string | undefined {
  if (!existsSync(fileURLToPath(new URL('../../src/cluster/directory.ts', import.meta.url)))) return 'the Redis cluster mode (src/cluster) is not in this tree'
  if (spawnSync('redis-server', ['--version']).status !== 0) return 'redis-server is not on PATH (apt-get install redis-server)'
  return undefined
}

function list<T extends string> (name: string, allowed: readonly T[], fallback: T[]): T[] {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const items = raw.split(',').map(s => s.trim())
  const bad = items.filter(s => !(allowed as readonly string[]).includes(s))
  if (bad.length > 0) throw new Error(`${name} must be a comma-separated list of ${allowed.join(', ')}; got "${raw}"`)
  return [...new Set(items)] as T[]
}

async function startBackend (kind: RedisKind): Promise<Backend> {
  if (kind === 'single') {
    const server = await RedisServer.start()
    return { kind, env: { REDIS_URL: server.url }, each: async (...args) => await server.each(...args), close: async () => await server.close() }
  }
  const server = await RedisClusterServer.start()
  return {
    kind,
    env: { REDIS_CLUSTER_NODES: server.seeds.join(',') },
    each: async (...args) => [...(await server.onMasters(...args)).values()],
    close: async () => await server.close()
  }
}

/** Redis's CPU (µs, every server) and its command calls, summed over the servers. */
async function redisFigures (backend: Backend): Promise<{ cpuUs: number, calls: Map<string, number> }> {
  const infos = (await backend.each('INFO', 'all')).map(String)
  let cpu = 0
  const calls = new Map<string, number>()
  for (const info of infos) {
    for (const m of info.matchAll(/^used_cpu_(?:sys|user):([\d.]+)/gm)) cpu += Number(m[1])
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      if (m[1] === 'config' || m[1] === 'info') continue
      calls.set(m[1], (calls.get(m[1]) ?? 0) + Number(m[2]))
    }
  }
  return { cpuUs: cpu * 1e6, calls }
}

const cpuOf = (s: ServerStats): number => s.cpuUser + s.cpuSystem

export async function run (): Promise<ScenarioResult> {
  const before = process.env.BENCH_BEFORE ?? ''
  const params = {
    rounds: envInt('BENCH_CLUSTER_ROUNDS', 8),
    clients: envInt('BENCH_CLUSTER_CLIENTS', 100),
    pushes: envInt('BENCH_CLUSTER_PUSHES', 200),
    durationMs: envInt('BENCH_CLUSTER_DURATION_MS', 1500),
    warmupMs: 500,
    redis: list<RedisKind>('BENCH_CLUSTER_REDIS', ['single', 'cluster'], ['single']),
    history: list<HistoryMode>('BENCH_CLUSTER_HISTORY', ['on', 'off'], ['on', 'off']),
    builds: before === '' ? [''] : ['', '@before']
  }
  const why = unavailable()
  if (why !== undefined) {
    log(`cluster: skipped: ${why}`)
    return { scenario: 'cluster', params, data: {}, skipped: why }
  }
  if (params.redis.includes('cluster') && spawnSync('redis-cli', ['--version']).status !== 0) {
    log('cluster: the Redis Cluster is left out: redis-cli is not on PATH')
    params.redis = params.redis.filter(k => k !== 'cluster')
  }
  const profile = process.env.BENCH_CPU_PROF === '1'
  const samples: ClusterSample[] = []
  const n = params.clients
  const setups = params.builds.flatMap(build => params.history.map(history => ({ build, history })))
  for (const kind of params.redis) {
    const backend = await startBackend(kind)
    log(`cluster: ${kind === 'single' ? 'a private redis-server' : 'a private Redis Cluster (3 masters, 3 replicas)'}; history ${params.history.join(' and ')}${before === '' ? '' : `; this tree and ${before}`}`)
    // Every setup's two nodes and load generator run at once; windows alternate between setups.
    const sessions: Array<{ build: string, history: HistoryMode, nodes: Child[], load?: Child }> = []
    try {
      for (const [s, { build, history }] of setups.entries()) {
        const session: (typeof sessions)[number] = { build, history, nodes: [] }
        sessions.push(session)
        for (const id of ['a', 'b']) {
          const env: Record<string, string> = { LOG_LEVEL: 'warn', ...backend.env, GATE_NODE_ID: `bench-${id}${s}` }
          if (history === 'off') env.GATE_HISTORY_MAX_COUNT = '0'
          session.nodes.push(await Child.start(`node-${id}${s}`, 'servers/gate.ts', { cpu: SERVER_CPU, env, root: build === '' ? undefined : path.resolve(before) }))
        }
        session.load = await Child.start(`load${s}`, 'load/main.ts', { cpu: LOAD_CPU, onProgress: line => note(line) })
        // connections 0..n-1 on node A, n..2n-1 on node B
        for (const [i, node] of session.nodes.entries()) {
          const open = await session.load.call<{ opened: number, errors: Record<string, number> }>('open', { target: targetOf(gateWs, node.info), count: n, uidPrefix: `c${s}${'ab'[i]}`, concurrency: 32, maxFailures: 10, timeoutMs: 60_000 })
          if (open.opened < n) throw new Error(`node ${'ab'[i]}: only ${open.opened}/${n} connections: ${errorList(open.errors).join('; ')}`)
        }
      }
      await sleep(500) // presence reaches Redis asynchronously
      const half = n >> 1
      for (let round = 0; round < params.rounds; round++) {
        const paths = round % 2 === 0 ? ['local', 'cross-node'] as const : ['cross-node', 'local'] as const
        for (const where of paths) {
          for (const { build, history, nodes, load } of round % 2 === 0 ? sessions : [...sessions].reverse()) {
            const far = where === 'local' ? 0 : n
            const admin = { port: nodes[0].info.port, headers: nodes[0].info.adminHeaders }
            const push = await load!.call<LatencyResult>('pushLatency', { admin, from: far, to: far + n, count: params.pushes })
            const args = { senders: [0, half], receivers: where === 'local' ? [half, n] : [n, n + half], warmupMs: params.warmupMs, durationMs: params.durationMs }
            // The warm-up is its own window, so that the CPU and Redis figures cover the measured one only.
            await load!.call<EchoResult>('pairs', { ...args, warmupMs: 0, durationMs: params.warmupMs })
            if (profile) for (const node of nodes) await node.call('profile', { start: true })
            const cpu0 = await Promise.all(nodes.map(async node => cpuOf(await node.call<ServerStats>('stats'))))
            const redis0 = await redisFigures(backend)
            const msgs = await load!.call<EchoResult>('pairs', { ...args, warmupMs: 0 })
            const redis1 = await redisFigures(backend)
            const cpu1 = await Promise.all(nodes.map(async node => cpuOf(await node.call<ServerStats>('stats'))))
            if (profile) {
              for (const [i, node] of nodes.entries()) {
                note(`profile: ${String(await node.call('profile', { file: path.resolve(PROF_DIR, `cluster-${kind}-${history}${build}-${where}-${'ab'[i]}-${round}.cpuprofile`) }))}`)
              }
            }
            const count = Math.max(1, msgs.msgs)
            const calls: Record<string, number> = {}
            for (const [cmd, c] of redis1.calls) {
              const d = c - (redis0.calls.get(cmd) ?? 0)
              if (d > 0) calls[cmd] = Number((d / count).toFixed(3))
            }
            const sample: ClusterSample = {
              redis: kind,
              history,
              build,
              path: where,
              round,
              pushP50: push.p50,
              pushP99: push.p99,
              msgsPerSec: msgs.msgs / msgs.seconds,
              msgP50: msgs.p50,
              msgP99: msgs.p99,
              gateCpuUs: (cpu1[0] + cpu1[1] - cpu0[0] - cpu0[1]) / count,
              redisCpuUs: (redis1.cpuUs - redis0.cpuUs) / count,
              redisCalls: calls
            }
            samples.push(sample)
            const top = Object.entries(calls).sort((x, y) => y[1] - x[1]).slice(0, 6).map(([cmd, c]) => `${cmd} ${c.toFixed(2)}`).join(', ')
            log(`  round ${round + 1}/${params.rounds} ${kind}, history ${history}${build}, ${where}: push p50 ${fixed(push.p50)} ms p99 ${fixed(push.p99)} ms${push.lost > 0 ? ` (${push.lost} lost)` : ''}; ` +
              `uid-to-uid ${int(sample.msgsPerSec)} msg/s, p50 ${fixed(msgs.p50)} ms; per msg: gates ${fixed(sample.gateCpuUs!)} µs, Redis ${fixed(sample.redisCpuUs!)} µs (${top})`)
          }
        }
      }
    } finally {
      for (const { nodes, load } of sessions) {
        await load?.stop()
        for (const node of nodes) await node.stop()
      }
      await backend.close()
    }
  }
  return { scenario: 'cluster', params, data: { samples } }
}
