/**
 * Scenario 1, echo: N logged-in connections, each with one heartbeat
 * outstanding, for a fixed time. msgs/s, p50 and p99 latency, server CPU.
 *
 * Every contender of a transport runs at once (each server with its own load
 * generator), and the measurement windows alternate between them (A, B, C, A,
 * B, C, ...), so that the rest of the machine's load falls on all of them alike.
 */
import { byTransport, selected, withServers, type Contender } from '../lib/contenders.js'
import { log } from '../lib/log.js'
import { envInt, envList, type ScenarioResult } from '../lib/params.js'
import { errorList, fixed, int } from '../lib/stats.js'
import type { EchoResult, OpenResult } from '../load/main.js'

export interface EchoSample {
  contender: string
  transport: Transport
  conns: number
  round: number
  msgsPerSec: number
  p50: number
  p99: number
  /** Server CPU over the window, in % of one core. */
  serverCpuPct: number
  loadCpuPct: number
  /** Server CPU time per message answered, microseconds. */
  serverUsPerMsg: number
}

export type Transport = 'ws' | 'tcp' | 'mqtt'

/** The leaf protocol over WebSocket and TCP, beside bare ws, socket.io and bare net. */
export async function run (): Promise<ScenarioResult> {
  return await echoOf('echo', byTransport)
}

/** Runs the echo for each group of contenders (all of a group at once, windows alternating). */
export async function echoOf (scenario: string, groups: ReadonlyArray<{ transport: Transport, contenders: readonly Contender[] }>): Promise<ScenarioResult> {
  const params = {
    rounds: envInt('BENCH_ECHO_WINDOWS', 10),
    conns: envList('BENCH_ECHO_CONNS', [100, 1000]),
    warmupMs: envInt('BENCH_WARMUP_MS', 300),
    durationMs: envInt('BENCH_DURATION_MS', 1000)
  }
  const samples: EchoSample[] = []
  for (const group of groups) {
    const contenders = selected(group.contenders)
    if (contenders.length === 0) continue
    log(`${group.transport.toUpperCase()}: ${contenders.map(c => c.label).join(', ')}, ${params.rounds} alternating windows of ${params.durationMs} ms each`)
    await withServers(contenders, async sessions => {
      let open = 0
      for (const conns of params.conns) {
        for (const s of sessions) {
          const opened = await s.load.call<OpenResult>('open', { target: s.target, count: conns - open, uidPrefix: `e${open}-`, concurrency: 64, maxFailures: 10, timeoutMs: 120_000 })
          if (opened.opened < conns - open) throw new Error(`${s.server.name}: only ${open + opened.opened}/${conns} connections opened: ${errorList(opened.errors).join('; ')}`)
        }
        open = conns
        for (let round = 0; round < params.rounds; round++) {
          for (let i = 0; i < sessions.length; i++) {
            const s = sessions[(i + round) % sessions.length]
            const c = contenders[sessions.indexOf(s)]
            const before = await s.stats()
            const r = await s.profiled(`echo-${c.id}-${conns}-w${round + 1}`, async () => await s.load.call<EchoResult>('echo', { warmupMs: params.warmupMs, durationMs: params.durationMs }))
            const after = await s.stats()
            // The CPU window spans the warm-up and the drain too: per message it is an upper bound.
            const cpuUs = after.cpuUser + after.cpuSystem - before.cpuUser - before.cpuSystem
            const answered = r.msgs / r.seconds * ((params.warmupMs + params.durationMs) / 1000)
            const sample: EchoSample = {
              contender: c.id,
              transport: group.transport,
              conns,
              round,
              msgsPerSec: r.msgs / r.seconds,
              p50: r.p50,
              p99: r.p99,
              serverCpuPct: cpuUs / 1e4 / ((params.warmupMs + params.durationMs) / 1000),
              loadCpuPct: r.loadCpuPct,
              serverUsPerMsg: cpuUs / answered
            }
            samples.push(sample)
            log(`  ${c.label} ${group.transport} N=${conns} w${round + 1}: ${int(sample.msgsPerSec)} msg/s, p50 ${fixed(sample.p50)} ms, p99 ${fixed(sample.p99)} ms, server ${fixed(sample.serverUsPerMsg, 1)} µs/msg`)
          }
        }
      }
    })
  }
  return { scenario, params, data: { samples } }
}
