/**
 * Scenario 3, fan-out: 10,000 logged-in WebSocket connections, all in one room.
 * Through the admin API: a push to 1,000 uids, a room push to every member, a
 * broadcast, each timed until the last client has received it; then single-uid
 * pushes with several requests in flight, in requests/s.
 */
import { bareWs, gateWs, rounds, socketIo, withServer } from '../lib/contenders.js'
import { log } from '../lib/log.js'
import { envInt, type ScenarioResult } from '../lib/params.js'
import { errorList, fixed, int, median } from '../lib/stats.js'
import type { FanoutOp, FanoutResult, OpenResult } from '../load/main.js'

export interface FanoutSample {
  contender: string
  round: number
  conns: number
  /** Milliseconds from the request until the last client received, median of the repetitions. */
  uidsMs: number
  roomMs: number
  broadcastMs: number
  singlePerSec: number
}

export const contenders = [gateWs, bareWs, socketIo]

export async function run (): Promise<ScenarioResult> {
  const params = {
    rounds: envInt('BENCH_FANOUT_ROUNDS', 2),
    conns: envInt('BENCH_FANOUT_CONNS', 10_000),
    pushUids: envInt('BENCH_FANOUT_UIDS', 1000),
    reps: envInt('BENCH_FANOUT_REPS', 5),
    singleSeconds: envInt('BENCH_FANOUT_SINGLE_S', 3),
    singleConcurrency: 16
  }
  const samples: FanoutSample[] = []
  await rounds(params.rounds, contenders, async (c, round) => {
    await withServer(c, async s => {
      const open = await s.load.call<OpenResult>('open', { target: s.target, count: params.conns, uidPrefix: 'f', room: 'bench', concurrency: 128, maxFailures: 100, timeoutMs: 180_000 }, 200_000)
      if (open.opened < params.conns) throw new Error(`${c.id}: only ${open.opened}/${params.conns} connections: ${errorList(open.errors).join('; ')}`)
      const admin = { port: s.server.info.port, headers: s.server.info.adminHeaders ?? {} }
      const r = await s.profiled(`fanout-${c.id}-r${round + 1}`, async () => await s.load.call<FanoutResult>('fanout', { admin, ...params }, 180_000))
      const last = (ops: FanoutOp[]): number => median(ops.map(o => o.lastMs))
      const sample: FanoutSample = {
        contender: c.id,
        round,
        conns: open.opened,
        uidsMs: last(r.uids),
        roomMs: last(r.room),
        broadcastMs: last(r.broadcast),
        singlePerSec: r.singlePerSec
      }
      samples.push(sample)
      log(`  ${c.label}: ${params.pushUids} uids ${fixed(sample.uidsMs, 1)} ms, room of ${int(open.opened)} ${fixed(sample.roomMs, 1)} ms, broadcast ${fixed(sample.broadcastMs, 1)} ms, single-uid pushes ${int(sample.singlePerSec)}/s${r.singleErrors > 0 ? ` (${r.singleErrors} errors)` : ''}`)
    }, { env: { GATE_MAX_CONN: String(params.conns + 1000) } })
  })
  return { scenario: 'fanout', params, data: { samples } }
}
