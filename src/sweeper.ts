/**
 * The one shared timer of a gate: idle, login, close and HTTP header timeouts are checked
 * by a sweep over the connections, not by a timer per connection. The period is
 * a quarter of the shorter timeout, between 50 ms and 1 s, so a timeout fires at
 * most that much late.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined
  period: number
  private readonly sweep: (now: number) => void

  /** `timeouts` in ms; 0 means that one is off. */
  constructor (timeouts: readonly number[], sweep: (now: number) => void) {
    const shortest = Math.min(...timeouts.map(t => t > 0 ? t : Infinity))
    this.period = Math.max(50, Math.min(1000, Math.floor(shortest / 4)))
    this.sweep = sweep
  }

  start (): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(() => this.sweep(Date.now()), this.period)
    this.timer.unref()
  }

  /** Sweeps at least every `period` ms from now on (a shutdown's drain wants finer steps). */
  quicken (period: number): void {
    if (period >= this.period) return
    this.period = period
    if (this.timer === undefined) return
    this.stop()
    this.start()
  }

  stop (): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }
}
