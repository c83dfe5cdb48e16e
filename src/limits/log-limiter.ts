/**
 * Caps repeated log lines: at most `perWindow` lines per key in each window of
 * `windowMs`. The first line after a quiet window reports how many were
 * suppressed, so a flood of the same error costs a few lines, not one each.
 * Keys are error codes (a small, fixed set), so the map stays small.
 */
export class LogLimiter {
  private readonly windows = new Map<string, { start: number, count: number, suppressed: number }>()
  private readonly perWindow: number
  private readonly windowMs: number

  constructor (perWindow = 10, windowMs = 10_000) {
    this.perWindow = perWindow
    this.windowMs = windowMs
  }

  /**
   * Whether to log this line now. Returns -1 to drop it, else the number of
   * lines with the same key dropped since the last one logged.
   */
  allow (key: string, now = Date.now()): number {
    let w = this.windows.get(key)
    if (w === undefined || now - w.start >= this.windowMs) {
      const suppressed = w?.suppressed ?? 0
      w = { start: now, count: 0, suppressed: 0 }
      this.windows.set(key, w)
      w.count++
      return suppressed
    }
    if (w.count >= this.perWindow) {
      w.suppressed++
      return -1
    }
    w.count++
    return 0
  }
}
