/**
 * Scenario 5, soak: N cycles of connect + login + disconnect against the gate
 * (the example app's handlers, limits off: servers/gate-soak.ts), WebSocket
 * and TCP alternating, a bounded number in flight, from several loopback
 * source addresses. Every `sampleEvery` cycles the load stops until the
 * server has no connection left, and the server's RSS and V8 heap are read
 * after a full GC: what a cycle leaves behind shows as growth between samples.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { targetOf, withServer, type Contender } from '../lib/contenders.js'
import { log } from '../lib/log.js'
import { envInt, type ScenarioResult } from '../lib/params.js'
import { errorList, int } from '../lib/stats.js'
import type { CycleResult } from '../load/cycles.js'

export const gateSoak: Contender = { id: 'gate-soak', label: 'fastify-gate', entry: 'servers/gate-soak.ts', kind: 'ws' }

export interface SoakSample {
  /** Cycles completed so far. */
  cycles: number
  failed: number
  /** Seconds since the start, and the cycle rate of the batch just run. */
  seconds: number
  cyclesPerSec: number
  rss: number
  heapUsed: number
  external: number
  /** Open connections on the server when sampled (0 once every close was handled). */
  connections: number
}

const MiB = 1024 * 1024

export async function run (): Promise<ScenarioResult> {
  const params = {
    cycles: envInt('BENCH_SOAK_CYCLES', 100_000),
    sampleEvery: envInt('BENCH_SOAK_SAMPLE', 5_000),
    concurrency: envInt('BENCH_SOAK_CONCURRENCY', 50),
    addresses: envInt('BENCH_SOAK_ADDRESSES', 4),
    transports: ['ws', 'tcp']
  }
  if (params.sampleEvery < 1 || params.concurrency < 1 || params.addresses < 1) throw new Error('BENCH_SOAK_SAMPLE, BENCH_SOAK_CONCURRENCY and BENCH_SOAK_ADDRESSES must be at least 1')
  const localAddresses = Array.from({ length: params.addresses }, (_, i) => `127.0.0.${i + 2}`)
  log(`soak: ${int(params.cycles)} cycles of connect + login + disconnect (WS and TCP alternating), ${params.concurrency} in flight, from ${localAddresses.join(', ')}; sampled every ${int(params.sampleEvery)}`)

  return await withServer(gateSoak, async s => {
    const targets = [targetOf({ ...gateSoak, kind: 'ws' }, s.server.info), targetOf({ ...gateSoak, kind: 'tcp' }, s.server.info)]
    const sample = async (cycles: number, failed: number, seconds: number, cyclesPerSec: number): Promise<SoakSample> => {
      // The server handles a close after the client sees it: wait (bounded) until it has none left.
      for (let i = 0; i < 500 && (await s.stats()).connections > 0; i++) await sleep(20)
      const st = await s.stats(true)
      return { cycles, failed, seconds, cyclesPerSec, rss: st.rss, heapUsed: st.heapUsed, external: st.external, connections: st.connections }
    }
    const samples: SoakSample[] = [await sample(0, 0, 0, 0)]
    const errors: Array<Record<string, number>> = []
    const start = performance.now()
    let done = 0
    let failed = 0
    while (done + failed < params.cycles) {
      const count = Math.min(params.sampleEvery, params.cycles - done - failed)
      const r = await s.load.call<CycleResult>('cycles', {
        targets,
        localAddresses,
        first: done + failed,
        count,
        uidPrefix: 's',
        concurrency: params.concurrency,
        maxFailures: Math.max(100, count / 10),
        stepTimeoutMs: 10_000
      }, 600_000)
      done += r.done
      failed += r.failed
      errors.push(r.errors)
      const point = await sample(done, failed, (performance.now() - start) / 1000, r.done / r.seconds)
      samples.push(point)
      log(`  ${int(done)} cycles (${int(point.cyclesPerSec)}/s${failed > 0 ? `, ${int(failed)} failed` : ''}): RSS ${(point.rss / MiB).toFixed(1)} MiB, heap ${(point.heapUsed / MiB).toFixed(1)} MiB, ${point.connections} open`)
      if (r.done + r.failed < count) throw new Error(`stopped after ${int(failed)} failed cycles: ${errorList(...errors).join('; ')}`)
    }
    return { scenario: 'soak', params, data: { samples, errors: errorList(...errors) } }
  }, { fdLimit: 65_536 })
}
