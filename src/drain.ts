import type { Agent } from './agent.js'
import { CloseCode } from './close-codes.js'

/**
 * A stopping node's connections, closed with 1012 (service restart) spread
 * evenly over `drainTime`: the i-th of n closes at `start + drainTime × i / n`,
 * the first at once. The gate's shared timer calls `sweep`; there is no timer
 * per connection. Connections that closed on their own meanwhile are skipped.
 */
export class Drain {
  /** Resolves once every connection has been told to close. */
  readonly issued: Promise<void>
  private readonly agents: readonly Agent[]
  private readonly drainTime: number
  private readonly start: number
  private next = 0
  private done!: () => void

  constructor (agents: readonly Agent[], drainTime: number, start: number) {
    this.agents = agents
    this.drainTime = drainTime
    this.start = start
    this.issued = new Promise(resolve => { this.done = resolve })
  }

  /**
   * The shared timer's period while a drain runs: a hundredth of the drain
   * time, between 10 and 50 ms, so the closes go out in about a hundred even
   * batches.
   */
  static period (drainTime: number): number {
    return Math.max(10, Math.min(50, Math.floor(drainTime / 100)))
  }

  /** Closes the connections due by `now`. */
  sweep (now: number): void {
    const n = this.agents.length
    if (this.next >= n) return
    const due = this.drainTime <= 0 ? n : Math.min(n, Math.floor(n * (now - this.start) / this.drainTime) + 1)
    for (; this.next < due; this.next++) {
      const agent = this.agents[this.next]
      if (agent.isOpen) agent.close(CloseCode.SERVICE_RESTART, 'service restart')
    }
    if (this.next >= n) this.done()
  }
}
