/**
 * Scenario 4, cluster: two gate nodes on a private redis-server (a free port on
 * 127.0.0.1, never 6379). Single-uid admin pushes through node A to a client on
 * A (local) and on B (cross-node), timed until received; closed-loop uid-to-uid
 * `C2S_Message`s from clients on A to clients on A (local) and on B (cross-node).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { LOAD_CPU, SERVER_CPU, gateWs, targetOf } from '../lib/contenders.js'
import { Child } from '../lib/ipc.js'
import { log, note } from '../lib/log.js'
import { envInt, type ScenarioResult } from '../lib/params.js'
import { errorList, fixed, int } from '../lib/stats.js'
import type { EchoResult, LatencyResult, OpenResult } from '../load/main.js'
import { freePort } from '../lib/ports.js'

export interface ClusterSample {
  path: 'local' | 'cross-node'
  round: number
  pushP50: number
  pushP99: number
  msgsPerSec: number
  msgP50: number
  msgP99: number
}

/** Why the scenario cannot run here, if it cannot. */
function unavailable (): string | undefined {
  if (!existsSync(fileURLToPath(new URL('../../src/cluster/directory.ts', import.meta.url)))) return 'the Redis cluster mode (src/cluster) is not in this tree'
  if (spawnSync('redis-server', ['--version']).status !== 0) return 'redis-server is not on PATH (apt-get install redis-server)'
  return undefined
}

/** A throwaway redis-server: no persistence, loopback only; resolves once it answers PING. */
async function startRedis (port: number): Promise<ChildProcess> {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>(resolve => {
      const s = net.connect(port, '127.0.0.1')
      s.once('data', d => { s.destroy(); resolve(d.toString().startsWith('+PONG')) })
      s.once('connect', () => s.write('PING\r\n'))
      s.once('error', () => resolve(false))
    })
    if (ok) return proc
    await sleep(50)
  }
  proc.kill('SIGKILL')
  throw new Error(`redis-server did not answer on port ${port}`)
}

export async function run (): Promise<ScenarioResult> {
  const params = {
    rounds: envInt('BENCH_CLUSTER_ROUNDS', 3),
    clients: envInt('BENCH_CLUSTER_CLIENTS', 100),
    pushes: envInt('BENCH_CLUSTER_PUSHES', 300),
    durationMs: envInt('BENCH_CLUSTER_DURATION_MS', 3000),
    warmupMs: 500
  }
  const why = unavailable()
  if (why !== undefined) {
    log(`cluster: skipped: ${why}`)
    return { scenario: 'cluster', params, data: {}, skipped: why }
  }
  const port = await freePort()
  const redis = await startRedis(port)
  log(`cluster: private redis-server on 127.0.0.1:${port}`)
  const samples: ClusterSample[] = []
  const n = params.clients
  try {
    for (let round = 0; round < params.rounds; round++) {
      const nodes: Child[] = []
      let load: Child | undefined
      try {
        for (const id of ['a', 'b']) {
          nodes.push(await Child.start(`node-${id}`, 'servers/gate.ts', { cpu: SERVER_CPU, env: { LOG_LEVEL: 'warn', REDIS_URL: `redis://127.0.0.1:${port}`, GATE_NODE_ID: `bench-${id}${round}` } }))
        }
        load = await Child.start('load', 'load/main.ts', { cpu: LOAD_CPU, onProgress: line => note(line) })
        // connections 0..n-1 on node A, n..2n-1 on node B
        for (const [i, node] of nodes.entries()) {
          const open = await load.call<OpenResult>('open', { target: targetOf(gateWs, node.info), count: n, uidPrefix: `c${round}${'ab'[i]}`, concurrency: 32, maxFailures: 10, timeoutMs: 60_000 })
          if (open.opened < n) throw new Error(`node ${'ab'[i]}: only ${open.opened}/${n} connections: ${errorList(open.errors).join('; ')}`)
        }
        await sleep(500) // presence reaches Redis asynchronously
        const admin = { port: nodes[0].info.port, headers: nodes[0].info.adminHeaders }
        const half = n >> 1
        const paths = round % 2 === 0 ? ['local', 'cross-node'] as const : ['cross-node', 'local'] as const
        for (const path of paths) {
          const far = path === 'local' ? 0 : n
          const push = await load.call<LatencyResult>('pushLatency', { admin, from: far, to: far + n, count: params.pushes })
          const msgs = await load.call<EchoResult>('pairs', {
            senders: [0, half],
            receivers: path === 'local' ? [half, n] : [n, n + half],
            warmupMs: params.warmupMs,
            durationMs: params.durationMs
          })
          const sample: ClusterSample = { path, round, pushP50: push.p50, pushP99: push.p99, msgsPerSec: msgs.msgs / msgs.seconds, msgP50: msgs.p50, msgP99: msgs.p99 }
          samples.push(sample)
          log(`  round ${round + 1}/${params.rounds} ${path}: push p50 ${fixed(push.p50)} ms p99 ${fixed(push.p99)} ms${push.lost > 0 ? ` (${push.lost} lost)` : ''}; uid-to-uid ${int(sample.msgsPerSec)} msg/s, p50 ${fixed(msgs.p50)} ms`)
        }
      } finally {
        await load?.stop()
        for (const node of nodes) await node.stop()
      }
    }
  } finally {
    redis.kill('SIGTERM')
  }
  return { scenario: 'cluster', params, data: { samples } }
}
