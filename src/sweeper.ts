/**
 * The one shared timer of a gate: idle timeouts and close timeouts are checked
 * by a sweep over the connections, not by a timer per connection. The period is
 * a quarter of the shorter timeout, between 50 ms and 1 s, so a timeout fires at
 * most that much late.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined
  readonly period: number
  private readonly sweep: (now: number) => void

  constructor (idleTimeout: number, closeTimeout: number, sweep: (now: number) => void) {
    const shortest = Math.min(idleTimeout > 0 ? idleTimeout : Infinity, closeTimeout)
    this.period = Math.max(50, Math.min(1000, Math.floor(shortest / 4)))
    this.sweep = sweep
  }

  start (): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(() => this.sweep(Date.now()), this.period)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }
}
