/**
 * Scenario 1, echo: N logged-in connections, each with one heartbeat
 * outstanding, for a fixed time. msgs/s, p50 and p99 latency, server CPU.
 */
import { bareNet, bareWs, gateTcp, gateWs, rounds, socketIo, withServer, type Contender } from '../lib/contenders.js'
import { log } from '../lib/log.js'
import { envInt, envList, type ScenarioResult } from '../lib/params.js'
import { fixed, int } from '../lib/stats.js'

export interface EchoSample {
  contender: string
  transport: 'ws' | 'tcp'
  conns: number
  round: number
  msgsPerSec: number
  p50: number
  p99: number
  serverCpuPct: number
  loadCpuPct: number
  /** Server CPU time per message answered, microseconds. */
  serverUsPerMsg: number
}

export const groups: ReadonlyArray<{ transport: 'ws' | 'tcp', contenders: Contender[] }> = [
  { transport: 'ws', contenders: [gateWs, bareWs, socketIo] },
  { transport: 'tcp', contenders: [gateTcp, bareNet] }
]

export async function run (): Promise<ScenarioResult> {
  const params = {
    rounds: envInt('BENCH_ROUNDS', 3),
    conns: envList('BENCH_ECHO_CONNS', [100, 1000]),
    warmupMs: envInt('BENCH_WARMUP_MS', 1000),
    durationMs: envInt('BENCH_DURATION_MS', 4000)
  }
  const samples: EchoSample[] = []
  for (const group of groups) {
    await rounds(params.rounds, group.contenders, async (c, round) => {
      await withServer(c, async s => {
        let open = 0
        for (const conns of params.conns) {
          const opened = await s.load.call('open', { target: s.target, count: conns - open, uidPrefix: `e${open}-`, concurrency: 64, maxFailures: 10, timeoutMs: 120_000 })
          open += opened.opened as number
          if (open < conns) throw new Error(`${c.id}: only ${open}/${conns} connections opened: ${String(opened.errors)}`)
          const before = await s.stats()
          const r = await s.profiled(`echo-${c.id}-${conns}-r${round + 1}`, async () => await s.load.call('echo', { warmupMs: params.warmupMs, durationMs: params.durationMs }))
          const after = await s.stats()
          const cpuUs = after.cpuUser + after.cpuSystem - before.cpuUser - before.cpuSystem
          const totalSeconds = (params.warmupMs + params.durationMs) / 1000
          const sample: EchoSample = {
            contender: c.id,
            transport: group.transport,
            conns,
            round,
            msgsPerSec: r.msgs / r.seconds,
            p50: r.p50,
            p99: r.p99,
            // the CPU window includes the warm-up, so it is an upper bound
            serverCpuPct: cpuUs / 1e4 / totalSeconds,
            loadCpuPct: r.loadCpuPct,
            serverUsPerMsg: cpuUs / (r.msgs / r.seconds * totalSeconds)
          }
          samples.push(sample)
          log(`  ${c.label} ${group.transport} N=${conns}: ${int(sample.msgsPerSec)} msg/s, p50 ${fixed(sample.p50)} ms, p99 ${fixed(sample.p99)} ms, server CPU ${int(sample.serverCpuPct)}% (${fixed(sample.serverUsPerMsg, 1)} µs/msg), load CPU ${int(sample.loadCpuPct)}%`)
        }
      })
    })
  }
  return { scenario: 'echo', params, data: { samples } }
}
