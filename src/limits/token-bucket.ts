/** Tokens to take, one per message: 0 when taken, else the ms until one is due (nothing taken). */
export interface Budget {
  take (now: number): number
  /** Gives one token back. */
  refund (): void
}

/**
 * A token bucket: `rate` tokens a second, holding at most `burst`. Refilled
 * lazily from the clock passed in, so it costs no timer. Starts full.
 */
export class TokenBucket implements Budget {
  private tokens: number
  private last: number
  private readonly rate: number
  private readonly burst: number

  constructor (rate: number, burst: number, now: number) {
    this.rate = rate / 1000
    this.burst = burst
    this.tokens = burst
    this.last = now
  }

  /** Takes one token: returns 0 when taken, else the ms until one is available (nothing taken). */
  take (now: number): number {
    this.refill(now)
    if (this.tokens >= 1) {
      this.tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.rate))
  }

  /** Gives one token back (up to `burst`). */
  refund (): void {
    this.tokens = Math.min(this.burst, this.tokens + 1)
  }

  /** Whether the bucket is full again at `now` (then it can be forgotten). */
  isFull (now: number): boolean {
    this.refill(now)
    return this.tokens >= this.burst
  }

  private refill (now: number): void {
    const elapsed = now - this.last
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + elapsed * this.rate)
      this.last = now
    }
  }
}
