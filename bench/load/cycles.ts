/**
 * The soak's client side: connect, log in, disconnect, over and over, with a
 * bounded number of cycles in flight, alternating the targets (WebSocket and
 * TCP) and spreading the connections over loopback source addresses.
 */
import { createSigner } from 'fast-jwt'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { progress } from '../lib/ipc.js'
import { SECRET } from '../servers/control.js'
import { connect, pool, poolCounts, prepare, request, type Target } from './conns.js'

const sign = createSigner({ key: SECRET, algorithm: 'HS256' })

export interface CycleArgs {
  /** Cycle `i` goes to `targets[i % targets.length]`, from `localAddresses[i % localAddresses.length]`. */
  targets: Target[]
  localAddresses: string[]
  /** Cycles `first` .. `first + count - 1`; cycle `i` logs in as uid `<uidPrefix><i>`. */
  first: number
  count: number
  uidPrefix: string
  concurrency: number
  /** Stop after this many failed cycles. */
  maxFailures: number
  /** Per step (connect, login answer, close). */
  stepTimeoutMs: number
}

export interface CycleResult { done: number, failed: number, seconds: number, /** Error message -> count. */ errors: Record<string, number> }

/** One cycle: connect, `C2S_UserLogin` and its `S2C_UserLogin { ret: 1 }`, then close and wait for the socket to be gone. */
async function cycle (target: Target, localAddress: string | undefined, uid: string, ms: number): Promise<void> {
  const conn = await connect(target, localAddress, ms)
  try {
    const answer = await request(conn, prepare(target.kind, 'C2S_UserLogin', { token: sign({ sub: uid }), login_plat: 1 }), ms)
    if (!answer.includes('"ret":1')) throw new Error(`login refused: ${answer.toString().slice(0, 80)}`)
  } finally {
    conn.close()
    await Promise.race([conn.closed, sleep(ms).then(() => { throw new Error('close timeout') })])
  }
}

export async function cycles (a: CycleArgs): Promise<CycleResult> {
  const counts = poolCounts()
  const start = performance.now()
  const ticker = setInterval(() => {
    progress(`cycles ${a.first + counts.ok}..: ${counts.ok}/${a.count} (${Math.round(counts.ok / ((performance.now() - start) / 1000))}/s)${counts.failed > 0 ? `, ${counts.failed} failed` : ''}`)
  }, 5000)
  await pool(a.count, a.concurrency, counts, () => counts.failed < a.maxFailures, async (n) => {
    const i = a.first + n
    await cycle(a.targets[i % a.targets.length], a.localAddresses[i % a.localAddresses.length], `${a.uidPrefix}${i}`, a.stepTimeoutMs)
  })
  clearInterval(ticker)
  return { done: counts.ok, failed: counts.failed, seconds: (performance.now() - start) / 1000, errors: Object.fromEntries(counts.errors) }
}
