import { randomBytes } from 'node:crypto'
import type { NormalizedHistoryOptions } from './options.js'
import type { HistoryStore, Position, StoredMessage, StreamRead } from './store.js'

interface Stream {
  epoch: string
  last: number
  items: StoredMessage[]
  /** Index of the oldest kept item in `items`. */
  head: number
  /** When the newest message was appended (unix ms). */
  lastAt: number
}

/** A new epoch: random, so a stream that is lost and made again never reuses one. */
export function newEpoch (): string {
  return randomBytes(6).toString('base64url')
}

/**
 * The single-node history store: streams in memory, capped by count and age per
 * uid, and by `maxStreams` in all (the least recently written stream goes first).
 */
export class MemoryHistoryStore implements HistoryStore {
  private readonly streams = new Map<string, Stream>()
  private readonly opts: NormalizedHistoryOptions
  private readonly now: () => number

  constructor (opts: NormalizedHistoryOptions, now: () => number = Date.now) {
    this.opts = opts
    this.now = now
  }

  get size (): number {
    return this.streams.size
  }

  async append (uid: string, name: string, text: boolean, payload: Buffer): Promise<Position> {
    return this.appendSync(uid, name, text, payload)
  }

  appendSync (uid: string, name: string, text: boolean, payload: Buffer): Position {
    const at = this.now()
    const s = this.streams.get(uid) ?? this.create(uid, at)
    // Re-inserted: the Map's order is least recently written first.
    this.streams.delete(uid)
    this.streams.set(uid, s)
    s.items.push({ offset: ++s.last, at, name, text, payload })
    s.lastAt = at
    this.trim(s, at)
    return { epoch: s.epoch, offset: s.last }
  }

  async read (uid: string, after: number, limit: number, create = false): Promise<StreamRead> {
    const s = this.streams.get(uid) ?? (create ? this.create(uid, this.now()) : undefined)
    if (s === undefined) return { epoch: '', last: 0, first: 1, items: [] }
    this.trim(s, this.now())
    const kept = s.items.length - s.head
    const first = kept > 0 ? s.items[s.head].offset : s.last + 1
    // Offsets are consecutive, so the item after `after` is found by arithmetic.
    const from = s.head + Math.max(0, after + 1 - first)
    return { epoch: s.epoch, last: s.last, first, items: s.items.slice(from, from + limit) }
  }

  private create (uid: string, at: number): Stream {
    const s: Stream = { epoch: newEpoch(), last: 0, items: [], head: 0, lastAt: at }
    if (this.streams.size >= this.opts.maxStreams) this.streams.delete(this.streams.keys().next().value!)
    this.streams.set(uid, s)
    return s
  }

  sweep (now: number): void {
    for (const [uid, s] of this.streams) {
      this.trim(s, now)
      // A stream with nothing left is dropped: its next message starts a new epoch.
      if (s.items.length === s.head && now - s.lastAt > this.opts.maxAge) this.streams.delete(uid)
    }
  }

  private trim (s: Stream, now: number): void {
    const cutoff = now - this.opts.maxAge
    let head = Math.max(s.head, s.items.length - this.opts.maxCount)
    while (head < s.items.length && s.items[head].at < cutoff) head++
    if (head === s.head) return
    s.head = head
    // Compact once the dropped part is at least half of the array.
    if (s.head * 2 >= s.items.length) {
      s.items = s.items.slice(s.head)
      s.head = 0
    }
  }
}
