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
  /** Bytes of the kept items, with their overhead (see `ITEM_OVERHEAD`). */
  bytes: number
}

/** What a kept message costs beside its payload (the item object, its array slot), and a stream beside its items. */
export const ITEM_OVERHEAD = 96
export const STREAM_OVERHEAD = 256

/** A new epoch: random, so a stream that is lost and made again never reuses one. */
export function newEpoch (): string {
  return randomBytes(6).toString('base64url')
}

/**
 * The single-node history store: streams in memory, capped by count and age per
 * uid, and in all by `maxStreams` and `maxBytes` (payloads plus a fixed
 * overhead per message and per stream).
 *
 * Which stream goes first when a cap binds: the streams of uids that never
 * logged in on this node (`loggedIn`), least recently written first, so that a
 * flood of messages to made-up uids only evicts its own kind; only when none is
 * left, the least recently written stream of a uid that did log in. A uid that
 * logs in turns its stream (and any it gets later) into one of the second kind.
 */
export class MemoryHistoryStore implements HistoryStore {
  /** Streams of uids never logged in, least recently written first. */
  private readonly strangers = new Map<string, Stream>()
  /** Streams of uids that logged in, least recently written first. */
  private readonly members = new Map<string, Stream>()
  /** uids that logged in (at most `maxStreams`, the least recent forgotten first). */
  private readonly known = new Map<string, true>()
  private readonly opts: NormalizedHistoryOptions
  private readonly now: () => number
  private totalBytes = 0
  /** Streams evicted by `maxStreams` or `maxBytes` (not by age). */
  evicted = 0

  constructor (opts: NormalizedHistoryOptions, now: () => number = Date.now) {
    this.opts = opts
    this.now = now
  }

  get size (): number {
    return this.strangers.size + this.members.size
  }

  /** Bytes held: payloads plus overheads (bounded by `maxBytes`). */
  get bytes (): number {
    return this.totalBytes
  }

  /** `uid` logged in: its stream is kept before those of uids that never did. */
  loggedIn (uid: string): void {
    this.known.delete(uid)
    this.known.set(uid, true)
    if (this.known.size > this.opts.maxStreams) this.known.delete(this.known.keys().next().value!)
    const s = this.strangers.get(uid)
    if (s !== undefined) {
      this.strangers.delete(uid)
      this.members.set(uid, s)
    }
  }

  async append (uid: string, name: string, text: boolean, payload: Buffer): Promise<Position> {
    return this.appendSync(uid, name, text, payload)
  }

  appendSync (uid: string, name: string, text: boolean, payload: Buffer): Position {
    const at = this.now()
    const s = this.get(uid) ?? this.create(uid, at)
    // Re-inserted: each Map's order is least recently written first.
    const map = this.known.has(uid) ? this.members : this.strangers
    map.delete(uid)
    map.set(uid, s)
    s.items.push({ offset: ++s.last, at, name, text, payload })
    const cost = payload.length + ITEM_OVERHEAD
    s.bytes += cost
    this.totalBytes += cost
    s.lastAt = at
    this.trim(s, at)
    this.evict(s)
    return { epoch: s.epoch, offset: s.last }
  }

  async read (uid: string, after: number, limit: number, create = false): Promise<StreamRead> {
    const s = this.get(uid) ?? (create ? this.create(uid, this.now()) : undefined)
    if (s === undefined) return { epoch: '', last: 0, first: 1, items: [] }
    this.trim(s, this.now())
    const kept = s.items.length - s.head
    const first = kept > 0 ? s.items[s.head].offset : s.last + 1
    // Offsets are consecutive, so the item after `after` is found by arithmetic.
    const from = s.head + Math.max(0, after + 1 - first)
    return { epoch: s.epoch, last: s.last, first, items: s.items.slice(from, from + limit) }
  }

  sweep (now: number): void {
    for (const map of [this.strangers, this.members]) {
      for (const [uid, s] of map) {
        this.trim(s, now)
        // A stream with nothing left is dropped: its next message starts a new epoch.
        if (s.items.length === s.head && now - s.lastAt > this.opts.maxAge) this.drop(map, uid, s)
      }
    }
  }

  private get (uid: string): Stream | undefined {
    return this.members.get(uid) ?? this.strangers.get(uid)
  }

  private create (uid: string, at: number): Stream {
    const s: Stream = { epoch: newEpoch(), last: 0, items: [], head: 0, lastAt: at, bytes: STREAM_OVERHEAD }
    this.totalBytes += STREAM_OVERHEAD
    const map = this.known.has(uid) ? this.members : this.strangers
    map.set(uid, s)
    this.evict(s)
    return s
  }

  /** Drops whole streams, strangers' first, until both caps hold; never `keep` (the one being written). */
  private evict (keep: Stream): void {
    while (this.size > this.opts.maxStreams || this.totalBytes > this.opts.maxBytes) {
      const victim = first(this.strangers, keep) ?? first(this.members, keep)
      if (victim === undefined) {
        // Only the stream being written is left: it keeps its newest messages within the bound.
        this.shrink(keep)
        return
      }
      const [map, uid, s] = victim
      this.drop(map, uid, s)
      this.evicted++
    }
  }

  /** Drops the oldest messages of `s` until the byte cap holds (or one message is left). */
  private shrink (s: Stream): void {
    while (this.totalBytes > this.opts.maxBytes && s.items.length - s.head > 1) {
      const cost = s.items[s.head].payload.length + ITEM_OVERHEAD
      s.items[s.head] = undefined as unknown as StoredMessage
      s.head++
      s.bytes -= cost
      this.totalBytes -= cost
    }
  }

  private drop (map: Map<string, Stream>, uid: string, s: Stream): void {
    map.delete(uid)
    this.totalBytes -= s.bytes
  }

  private trim (s: Stream, now: number): void {
    const cutoff = now - this.opts.maxAge
    let head = Math.max(s.head, s.items.length - this.opts.maxCount)
    while (head < s.items.length && s.items[head].at < cutoff) head++
    if (head === s.head) return
    for (let i = s.head; i < head; i++) {
      const item = s.items[i]
      if (item === undefined) continue
      const cost = item.payload.length + ITEM_OVERHEAD
      s.bytes -= cost
      this.totalBytes -= cost
    }
    s.head = head
    // Compact once the dropped part is at least half of the array.
    if (s.head * 2 >= s.items.length) {
      s.items = s.items.slice(s.head)
      s.head = 0
    }
  }
}

/** The least recently written stream of `map` other than `keep`. */
function first (map: Map<string, Stream>, keep: Stream): [Map<string, Stream>, string, Stream] | undefined {
  for (const [uid, s] of map) if (s !== keep) return [map, uid, s]
  return undefined
}
