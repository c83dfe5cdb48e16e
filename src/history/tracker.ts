import type { Agent } from '../agent.js'
import { OutboundMessage } from '../codec/outbound.js'
import type { Position } from './store.js'

/** What a tracker needs from the history. */
export interface TrackerHost {
  readonly gapTimeout: number
  /** The positioned form of `msg` at `pos` (cached per message and position). */
  positioned (msg: OutboundMessage, pos: Position): OutboundMessage
  /** Reads the stored messages after `offset` and offers them again (fills a gap). */
  fill (tracker: Tracker, after: number): Promise<void>
}

/** Bound on messages held out of order per connection; past it, the gap is filled from the store at once. */
const MAX_HELD = 1024

/**
 * Ordered, exactly-once delivery of a uid's stored messages to one connection
 * that asked for positions.
 *
 * Ordering contract: the connection gets offsets `last + 1, last + 2, …` of
 * its stream, each once. While the replay of a resume runs (`holding`), live
 * messages wait here; afterwards those the replay already sent are dropped.
 * A message that arrives ahead of its turn (an earlier one is still on its way
 * from another node) waits up to `gapTimeout`; then the missing ones are read
 * from the store. A message of another epoch (the stream was lost and made
 * again) restarts the sequence at its offset.
 */
export class Tracker {
  readonly agent: Agent<any>
  readonly uid: string
  epoch = ''
  last = 0
  holding = true
  private readonly host: TrackerHost
  /** Messages waiting for their turn, by offset; without `msg`: one the connection already got (see `skip`). */
  private readonly held = new Map<number, { msg: OutboundMessage | undefined, pos: Position }>()
  private timer: NodeJS.Timeout | undefined
  private filling = false

  constructor (agent: Agent<any>, uid: string, host: TrackerHost) {
    this.agent = agent
    this.uid = uid
    this.host = host
  }

  /** A live message for this connection; returns whether it was written or kept for later. */
  offer (msg: OutboundMessage, pos: Position): boolean {
    if (!this.agent.isOpen) return false
    if (this.holding) return this.hold(msg, pos)
    if (pos.epoch !== this.epoch) {
      // The stream was lost and started again: follow the new epoch from here.
      this.epoch = pos.epoch
      this.last = pos.offset - 1
      this.held.clear()
    }
    if (pos.offset <= this.last) return false
    if (pos.offset > this.last + 1) return this.hold(msg, pos)
    const ok = this.write(msg, pos)
    this.release()
    return ok
  }

  /** Writes a replayed message (in order, after `last`); not one the connection already got (see `skip`). */
  write (msg: OutboundMessage, pos: Position): boolean {
    this.last = pos.offset
    const waiting = this.held.get(pos.offset)
    if (waiting !== undefined && waiting.msg === undefined) {
      this.held.delete(pos.offset)
      return true
    }
    return this.agent.write(this.host.positioned(msg, pos))
  }

  /**
   * The connection got the message at `pos` live before it tracked positions
   * (before the position was known): it counts as written, in its turn.
   */
  skip (pos: Position): void {
    if (!this.agent.isOpen) return
    if (!this.holding && (pos.epoch !== this.epoch || pos.offset <= this.last)) return
    if (this.holding || pos.offset > this.last + 1) {
      this.hold(undefined, pos)
      return
    }
    this.last = pos.offset
    this.release()
  }

  /** Ends the replay: what arrived meanwhile goes out, in order, duplicates dropped. */
  live (): void {
    this.holding = false
    const held = [...this.held.values()]
    this.held.clear()
    held.sort((a, b) => a.pos.offset - b.pos.offset)
    for (const { msg, pos } of held) {
      if (msg === undefined) this.skip(pos)
      else this.offer(msg, pos)
    }
  }

  /** The lowest offset waiting here, if any. */
  get lowestHeld (): number | undefined {
    let low: number | undefined
    for (const offset of this.held.keys()) if (low === undefined || offset < low) low = offset
    return low
  }

  /** Skips a gap the store cannot fill (trimmed): goes on from the lowest waiting offset. */
  skipGap (): void {
    const low = this.lowestHeld
    if (low !== undefined && low > this.last + 1) this.last = low - 1
    this.release()
  }

  stop (): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.held.clear()
  }

  private hold (msg: OutboundMessage | undefined, pos: Position): boolean {
    if (!this.holding && pos.epoch !== this.epoch) return false
    // One the connection already got (no msg) takes the place of a waiting copy, never the other way round.
    if (msg !== undefined && this.held.has(pos.offset)) return true
    this.held.set(pos.offset, { msg, pos })
    if (!this.holding) {
      if (this.held.size > MAX_HELD) this.fillNow()
      else this.timer ??= setTimeout(() => { this.timer = undefined; this.fillNow() }, this.host.gapTimeout)
    }
    return true
  }

  /** Writes the held messages that are next in turn. */
  private release (): void {
    for (let next = this.held.get(this.last + 1); next !== undefined; next = this.held.get(this.last + 1)) {
      this.held.delete(next.pos.offset)
      if (next.msg === undefined) this.last = next.pos.offset
      else this.write(next.msg, next.pos)
    }
    if (this.held.size === 0) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
  }

  private fillNow (): void {
    if (this.filling || !this.agent.isOpen) return
    this.filling = true
    clearTimeout(this.timer)
    this.timer = undefined
    void this.host.fill(this, this.last).finally(() => {
      this.filling = false
      if (this.held.size > 0 && this.timer === undefined && this.agent.isOpen) {
        this.timer = setTimeout(() => { this.timer = undefined; this.fillNow() }, this.host.gapTimeout)
      }
    })
  }
}
