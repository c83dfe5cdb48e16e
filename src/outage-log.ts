import type { GateLogger } from './logger.js'

/**
 * Logs the failures of something the gate depends on (the cluster's Redis,
 * the history store) once per change of state, not once per call: one
 * warning with the first error's message when it starts failing, one info
 * line when it answers again. While Redis is down, a push loop then costs two
 * log lines, not a stack trace per push.
 */
export class OutageLog {
  private readonly log: GateLogger
  private readonly down: string
  private readonly up: string
  private failing = false

  /** `down`: the warning's message; `up`: the info line's. */
  constructor (log: GateLogger, down: string, up: string) {
    this.log = log
    this.down = down
    this.up = up
  }

  /** A call failed: logs the warning unless it is already failing. */
  failed (err: unknown, context: Record<string, unknown> = {}): void {
    if (this.failing) return
    this.failing = true
    this.log.warn({ ...context, reason: (err as Error | undefined)?.message ?? String(err) }, this.down)
  }

  /** A call succeeded: logs the info line if it was failing. */
  ok (): void {
    if (!this.failing) return
    this.failing = false
    this.log.info(this.up)
  }
}
