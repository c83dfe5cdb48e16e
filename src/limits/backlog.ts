/** A connection that can hold outbound backlog, as the process-wide bound sees it. */
export interface BacklogHolder {
  /** Bytes of the frames waiting in this connection's queue (each frame counted whole, shared or not). */
  readonly queuedBytes: number
  /** Closes it as a slow consumer because the process-wide bound binds (its queue is dropped). */
  shed (): void
}

/**
 * The process-wide outbound backlog (`maxTotalBufferedBytes`), counted as the
 * memory really held: a frame shared by many queues (a room push, a broadcast)
 * counts once, from the moment the first queue takes it until the last one lets
 * it go (`OutboundMessage.hold` / `release` keep the count of queues).
 *
 * When a new frame would pass the bound, the connections with the largest
 * queues are shed first (4004), until it fits: a connection that keeps up has
 * no queue and is never shed, and one that paused briefly is shed only after
 * every larger one.
 */
export class Backlog {
  /** Bytes of distinct frames waiting in some connection's queue. */
  bytes = 0
  /** The most `bytes` ever was. */
  peak = 0
  /** Connections shed because the process-wide bound bound. */
  shed = 0
  /** Connections with a non-empty queue. */
  readonly holders = new Set<BacklogHolder>()

  /** A frame that no queue held yet is now held: `bytes` more. */
  add (bytes: number): void {
    this.bytes += bytes
    if (this.bytes > this.peak) this.peak = this.bytes
  }

  /** The last queue holding a frame let it go. */
  remove (bytes: number): void {
    this.bytes -= bytes
  }

  /**
   * Makes room for `bytes` more under `limit` by shedding the largest queues
   * first. Returns whether it fits now. `asking` is the connection that wants
   * to queue; it is shed too when its queue is the largest.
   */
  makeRoom (bytes: number, limit: number, asking: BacklogHolder): boolean {
    if (this.bytes + bytes <= limit) return true
    const mine = asking.queuedBytes + bytes
    const others = [...this.holders].filter(h => h !== asking).sort((a, b) => b.queuedBytes - a.queuedBytes)
    for (const holder of others) {
      // From here on, the connection asking would hold the most: it goes instead.
      if (holder.queuedBytes < mine) break
      this.shed++
      holder.shed()
      if (this.bytes + bytes <= limit) return true
    }
    this.shed++
    asking.shed()
    return false
  }
}
