/**
 * Scenario 2, idle connections: open N logged-in connections and leave them
 * idle; the server's RSS and heap per connection (after a full GC, against the
 * same server empty) and the connect rate. Then a probe: as many WebSocket
 * connections as the machine allows, from several loopback source addresses.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { byTransport, gateWs, rounds, withServer } from '../lib/contenders.js'
import { log } from '../lib/log.js'
import { envInt, type ScenarioResult } from '../lib/params.js'
import { errorList, int, kib } from '../lib/stats.js'
import type { OpenResult } from '../load/main.js'

export interface IdleSample {
  contender: string
  transport: 'ws' | 'tcp'
  round: number
  conns: number
  rssPerConn: number
  heapPerConn: number
  externalPerConn: number
  connectPerSec: number
}

export interface ProbeResult {
  asked: number
  reached: number
  seconds: number
  loadProcesses: number
  sourceAddresses: string[]
  errors: string[]
  serverFds: number
  serverFdLimit: string
  rssPerConn: number
}

/** Connections per load generator in the probe (each process has its own descriptor limit). */
const PER_LOAD = 15_000

export async function run (): Promise<ScenarioResult> {
  const params = {
    rounds: envInt('BENCH_IDLE_ROUNDS', 3),
    conns: envInt('BENCH_IDLE_CONNS', 10_000),
    probe: envInt('BENCH_IDLE_MAX', 50_000)
  }
  const samples: IdleSample[] = []
  for (const group of byTransport) {
    await rounds(params.rounds, group.contenders, async (c, round) => {
      await withServer(c, async s => {
        const before = await s.stats(true)
        const open = await s.load.call<OpenResult>('open', { target: s.target, count: params.conns, uidPrefix: 'i', concurrency: 128, maxFailures: 100, timeoutMs: 180_000 }, 200_000)
        if (open.opened < params.conns) throw new Error(`${c.id}: only ${open.opened}/${params.conns} connections: ${errorList(open.errors).join('; ')}`)
        await sleep(1000)
        const after = await s.stats(true)
        if (process.env.BENCH_HEAP_SNAPSHOT === '1' && round === 0) {
          log(`  heap snapshot: ${String(await s.server.call('heapSnapshot', { file: `.bench-tmp/heap/idle-${c.id}.heapsnapshot` }))}`)
        }
        const sample: IdleSample = {
          contender: c.id,
          transport: group.transport,
          round,
          conns: open.opened,
          rssPerConn: (after.rss - before.rss) / open.opened,
          heapPerConn: (after.heapUsed - before.heapUsed) / open.opened,
          externalPerConn: (after.external - before.external) / open.opened,
          connectPerSec: open.opened / open.seconds
        }
        samples.push(sample)
        log(`  ${c.label} ${group.transport} ${int(open.opened)} idle: RSS ${kib(sample.rssPerConn)}/conn, heap ${kib(sample.heapPerConn)}/conn, ${int(sample.connectPerSec)} logins/s`)
      }, { env: { GATE_MAX_CONN: String(params.conns + 1000) } })
    })
  }
  const probe = params.probe > 0 ? await runProbe(params.probe) : undefined
  return { scenario: 'idle', params, data: { samples, probe } }
}

/** Opens up to `asked` WebSocket connections to the gate from several processes and source addresses. */
async function runProbe (asked: number): Promise<ProbeResult> {
  const loads = Math.ceil(asked / PER_LOAD)
  const sourceAddresses = Array.from({ length: loads }, (_, i) => `127.0.0.${i + 2}`)
  log(`probe: up to ${int(asked)} WebSocket connections to fastify-gate from ${loads} load processes (${sourceAddresses.join(', ')})`)
  return await withServer(gateWs, async s => {
    const before = await s.stats(true)
    const start = Date.now()
    const results = await Promise.all(s.loads.map(async (load, i) => await load.call<OpenResult>('open', {
      target: s.target,
      count: Math.min(PER_LOAD, asked - i * PER_LOAD),
      uidPrefix: `p${i}-`,
      concurrency: 64,
      localAddress: sourceAddresses[i],
      maxFailures: 200,
      timeoutMs: 240_000
    }, 260_000)))
    const seconds = (Date.now() - start) / 1000
    const after = await s.stats(true)
    const reached = results.reduce((n, r) => n + r.opened, 0)
    const errors = errorList(...results.map(r => r.errors))
    log(`  probe: ${int(reached)}/${int(asked)} connections in ${seconds.toFixed(0)} s; server fds ${after.fds} (limit ${after.fdLimit})${errors.length > 0 ? `; errors: ${errors.join('; ')}` : ''}`)
    return {
      asked,
      reached,
      seconds,
      loadProcesses: loads,
      sourceAddresses,
      errors,
      serverFds: after.fds,
      serverFdLimit: after.fdLimit,
      rssPerConn: (after.rss - before.rss) / reached
    }
  }, { loads, fdLimit: asked + 1000, env: { GATE_MAX_CONN: String(asked + 1000) } })
}
