import { newEpoch } from '../history/memory-store.js'
import type { NormalizedHistoryOptions } from '../history/options.js'
import type { HistoryStore, Position, StoredMessage, StreamRead } from '../history/store.js'
import type { ClusterKeys } from './keys.js'
import type { RedisClient } from './options.js'
import { isCluster } from './connections.js'

/*
 * Per-uid history in Redis Streams. `U` is the uid's own hash tag
 * `{prefix:u:<uid>}` (keys.ts), so both keys of a uid share a slot and, on a
 * Redis Cluster, the uids' streams are spread over the slots:
 *
 *   U:hist    STREAM  entry id `<offset>-0`, fields t (Redis time, unix ms), n (name), x ("1": text frame), p (payload)
 *   U:hmeta   HASH    e: the epoch, s: the last offset given, b: the bytes the stream holds
 *                     (payloads and names, plus 96 an entry and 256 the stream), l: "1" once the
 *                     uid logged in (set by a login while the meta exists, and by a resume),
 *                     h: the time of the stream's oldest entry or earlier (absent: not known)
 *
 * Both expire `maxAge` after the last append. The stream is capped at `maxCount`
 * entries and `maxBytes` bytes, and entries older than `maxAge` are deleted
 * from its head by every append and read, each deletion taken off `b`. Entries
 * are only ever deleted from the head, so the stream holds offsets
 * `s - XLEN + 1 .. s`. A meta hash that is gone (expired, or a Redis that
 * restarted empty) is made again under a new epoch, from offset 1: an offset
 * is never reused within an epoch. The appends of one event-loop turn are
 * batched (one script on a single Redis, one per uid on a Redis Cluster), a
 * uid's messages together: its meta read and written once, its stream trimmed
 * once. Every script touches one uid's keys at a time (one slot on a cluster).
 *
 * The bound in total is kept by each node for the streams it writes (see
 * `RedisHistoryStore`): no script reads or writes a key of another slot.
 */
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- Deletes entries from the head while they are older than cutoff, or the
-- stream holds more than maxCount entries or maxBytes bytes (the newest entry
-- is kept). n: the entries (XLEN), b: the bytes, h: the meta's h (nil: not
-- known). Returns n, b and h after it. The head is read only when h does not
-- show it fresh; in the steady state of a full stream, one read of the
-- entries to drop and the next.
local function trim (stream, cutoff, maxCount, maxBytes, n, b, h)
  if n == 0 then return 0, b, nil end
  if h == nil or h < cutoff then
    h = tonumber(redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1][2][2])
  end
  if h >= cutoff and n <= maxCount and b <= maxBytes then return n, b, h end
  h = nil
  for round = 1, 10 do
    local entries = redis.call('XRANGE', stream, '-', '+', 'COUNT', math.min(100, math.max(n - maxCount, 1) + 1))
    local gone = {}
    for _, e in ipairs(entries) do
      local at = tonumber(e[2][2])
      if n > 1 and (at < cutoff or n > maxCount or b > maxBytes) then
        gone[#gone + 1] = e[1]
        n = n - 1
        b = b - (96 + string.len(e[2][4]) + string.len(e[2][8]))
      else
        h = at
        break
      end
    end
    if #gone > 0 then redis.call('XDEL', stream, unpack(gone)) end
    if h ~= nil or #entries == 0 then break end
  end
  return n, b, h
end

-- Writes the meta's b and h (h nil: not known).
local function keep (meta, b, h)
  if h == nil then
    redis.call('HSET', meta, 'b', b)
    redis.call('HDEL', meta, 'h')
  else
    redis.call('HSET', meta, 'b', b, 'h', h)
  end
end
`

/**
 * Appends a batch. KEYS: (stream, meta) per message, a uid's pair repeated for
 * each of its messages, which come one after the other. ARGV: maxCount,
 * maxAge, maxBytes, a candidate epoch (for every uid without a stream: an
 * epoch need not differ between uids, only within one), then (name, text,
 * payload) per message.
 * -> { epoch, offset, bytes, logged in } per message, in order: messages of
 * one uid get consecutive offsets in the order given; bytes are the stream's
 * after the batch.
 */
const APPEND = PRELUDE + `
local maxCount, maxAge, maxBytes = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local count = #KEYS / 2
local out = {}
local i = 1
while i <= count do
  local stream, meta = KEYS[2 * i - 1], KEYS[2 * i]
  local j = i
  while j < count and KEYS[2 * j + 2] == meta do j = j + 1 end
  local f = redis.call('HMGET', meta, 'e', 's', 'b', 'l', 'h')
  local epoch, s, b, h = f[1], tonumber(f[2] or '0'), tonumber(f[3] or '256'), tonumber(f[5] or '')
  if not epoch then
    epoch = ARGV[4]
    redis.call('DEL', stream)
    s, b, h = 0, 256, now
  end
  for m = i, j do
    local a = 4 + (m - 1) * 3
    s = s + 1
    redis.call('XADD', stream, s .. '-0', 't', now, 'n', ARGV[a + 1], 'x', ARGV[a + 2], 'p', ARGV[a + 3])
    b = b + 96 + string.len(ARGV[a + 1]) + string.len(ARGV[a + 3])
  end
  local n
  n, b, h = trim(stream, now - maxAge, maxCount, maxBytes, redis.call('XLEN', stream), b, h)
  if h == nil then
    redis.call('HSET', meta, 'e', epoch, 's', s, 'b', b)
    redis.call('HDEL', meta, 'h')
  else
    redis.call('HSET', meta, 'e', epoch, 's', s, 'b', b, 'h', h)
  end
  redis.call('PEXPIRE', stream, maxAge)
  redis.call('PEXPIRE', meta, maxAge)
  for m = i, j do
    out[#out + 1] = epoch
    out[#out + 1] = s - j + m
    out[#out + 1] = b
    out[#out + 1] = f[4] and 1 or 0
  end
  i = j + 1
end
return out`

/**
 * KEYS: stream, meta. ARGV: after, limit, maxAge, candidate epoch ('' = do not
 * create), maxCount, maxBytes -> { epoch, last, first, then id, t, n, x, p per entry }
 */
const READ = PRELUDE + `
local m = redis.call('HMGET', KEYS[2], 'e', 's', 'b', 'h')
local epoch, last = m[1], tonumber(m[2] or '0')
if not epoch then
  if ARGV[4] == '' then return { '', 0, 1 } end
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'e', ARGV[4], 's', 0, 'b', 256, 'l', 1)
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return { ARGV[4], 0, 1 }
end
-- A read that may create is a client resuming at login: its uid logged in.
if ARGV[4] ~= '' then redis.call('HSET', KEYS[2], 'l', 1) end
local cutoff = now - tonumber(ARGV[3])
local b, h = tonumber(m[3] or '256'), tonumber(m[4] or '')
local n, b2, h2 = trim(KEYS[1], cutoff, tonumber(ARGV[5]), tonumber(ARGV[6]), redis.call('XLEN', KEYS[1]), b, h)
if b2 ~= b or h2 ~= h then keep(KEYS[2], b2, h2) end
-- Offsets s - n + 1 .. s are kept; a last entry past maxAge (kept, the newest) counts as gone.
local first = last - n + 1
if n == 0 or (h2 ~= nil and h2 < cutoff) then first = last + 1 end
local out = { epoch, last, first }
local limit = tonumber(ARGV[2])
if limit > 0 then
  for _, e in ipairs(redis.call('XRANGE', KEYS[1], (tonumber(ARGV[1]) + 1) .. '-0', '+', 'COUNT', limit)) do
    local f = e[2]
    out[#out + 1] = e[1]
    out[#out + 1] = f[2]
    out[#out + 1] = f[4]
    out[#out + 1] = f[6]
    out[#out + 1] = f[8]
  end
end
return out`

/**
 * The uid logged in: its stream, if it has one, is kept before those of uids
 * that never did, by every node. A uid without a stream gets no key (a client
 * that resumes gets its meta from READ, marked there). KEYS: meta.
 */
const LOGIN = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'l', 1) end
return 1`

/**
 * Drops a stream evicted by a node's bound, unless its uid logged in since the
 * node last wrote it (the node is told, and keeps it). KEYS: stream, meta.
 * ARGV: "1" to drop it even so (no stranger was left to evict).
 * -> bytes freed, or -1 when kept.
 */
const EVICT = `
local f = redis.call('HMGET', KEYS[2], 'b', 'l')
if f[2] and ARGV[1] ~= '1' then return -1 end
redis.call('DEL', KEYS[1], KEYS[2])
return tonumber(f[1] or '0')`

/** Messages per append script at most, so that one call stays short. */
const BATCH = 256

interface Append {
  uid: string
  name: string
  text: boolean
  payload: Buffer
  resolve: (pos: Position) => void
  reject: (err: unknown) => void
}

interface HistoryScripts {
  gateHistAppend (numKeys: number, ...keysThenArgs: Array<string | number | Buffer>): Promise<Array<string | number>>
  gateHistReadBuffer (stream: string, meta: string, ...args: Array<string | number>): Promise<Array<Buffer | number>>
  gateHistLogin (meta: string): Promise<number>
  gateHistEvict (stream: string, meta: string, force: string): Promise<number>
}

/** What this node knows of a stream it wrote: its bytes after that node's last append. */
interface Written {
  bytes: number
  at: number
}

/**
 * The cluster's history store: Redis Streams on the gate's command connection.
 *
 * The total is bounded per node: each node keeps the streams it wrote (their
 * bytes, as its last append left them) within `maxBytes` and `maxStreams`, so
 * Redis holds at most that times the number of nodes. Past either bound the
 * node evicts a stream it wrote, as the memory store does: those of uids that
 * never logged in (on any node: the meta's `l`) first, least recently written
 * first; a uid's own stream is capped by `maxBytes` too. So a flood of
 * messages to made-up uids evicts its own kind, not a user's unread messages.
 */
export class RedisHistoryStore implements HistoryStore {
  private readonly redis: HistoryScripts
  private readonly keys: ClusterKeys
  private readonly opts: NormalizedHistoryOptions
  /** On a Redis Cluster a script may touch one slot: a batch is one uid's messages. */
  private readonly perUid: boolean
  private queue: Append[] = []
  /** Resolved once this turn's queue is written (see `written`). */
  private flushed: { promise: Promise<void>, resolve: () => void } | undefined
  /** Streams this node wrote, of uids never logged in, least recently written first. */
  private readonly strangers = new Map<string, Written>()
  /** Streams this node wrote, of uids that logged in, least recently written first. */
  private readonly members = new Map<string, Written>()
  private totalBytes = 0
  /** Streams evicted by `maxStreams` or `maxBytes` (not by age). */
  evicted = 0
  /** Evictions that failed (Redis down): the next bound check tries again. */
  private readonly onError: (err: unknown) => void

  constructor (client: RedisClient, keys: ClusterKeys, opts: NormalizedHistoryOptions, onError: (err: unknown) => void = () => {}) {
    this.onError = onError
    if (!('gateHistAppend' in client)) {
      client.defineCommand('gateHistAppend', { lua: APPEND })
      client.defineCommand('gateHistRead', { numberOfKeys: 2, lua: READ })
      client.defineCommand('gateHistLogin', { numberOfKeys: 1, lua: LOGIN })
      client.defineCommand('gateHistEvict', { numberOfKeys: 2, lua: EVICT })
    }
    this.redis = client as unknown as HistoryScripts
    this.keys = keys
    this.opts = opts
    this.perUid = isCluster(client)
  }

  /**
   * Queues the append; every append of this event-loop turn goes to Redis
   * together, a uid's messages side by side: on a single Redis one script call
   * (per 256 messages), on a Redis Cluster one per uid (its slot), all sent in
   * the same turn. A uid's messages keep the order of the calls: they are in
   * one script, or in scripts sent in order on the connection of their slot.
   */
  async append (uid: string, name: string, text: boolean, payload: Buffer): Promise<Position> {
    return await new Promise<Position>((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(this.flush)
      this.queue.push({ uid, name, text, payload, resolve, reject })
    })
  }

  /**
   * On a single Redis: resolves once the appends queued so far are written to
   * the connection, so that Redis runs them before any command sent on it
   * afterwards (the directory's reads use the same connection). On a Redis
   * Cluster: undefined (another server may run a later command first).
   */
  written (): Promise<void> | undefined {
    if (this.perUid) return undefined
    if (this.queue.length === 0) return Promise.resolve()
    if (this.flushed === undefined) {
      let done!: () => void
      this.flushed = { promise: new Promise<void>(resolve => { done = resolve }), resolve: () => done() }
    }
    return this.flushed.promise
  }

  private readonly flush = (): void => {
    const queue = this.queue
    const flushed = this.flushed
    this.queue = []
    this.flushed = undefined
    // A uid's messages side by side (in call order), so that the script reads and writes its meta once.
    const byUid = new Map<string, Append[]>()
    for (const a of queue) {
      const list = byUid.get(a.uid)
      if (list === undefined) byUid.set(a.uid, [a])
      else list.push(a)
    }
    const lists = this.perUid ? [...byUid.values()] : [[...byUid.values()].flat()]
    for (const list of lists) for (let i = 0; i < list.length; i += BATCH) void this.send(list.slice(i, i + BATCH))
    flushed?.resolve()
  }

  private async send (batch: Append[]): Promise<void> {
    const keys: string[] = []
    const args: Array<string | number | Buffer> = [this.opts.maxCount, this.opts.maxAge, this.opts.maxBytes, newEpoch()]
    for (const a of batch) {
      const tag = this.keys.uidTag(a.uid)
      keys.push(`${tag}:hist`, `${tag}:hmeta`)
      args.push(a.name, a.text ? '1' : '0', a.payload)
    }
    try {
      const r = await this.redis.gateHistAppend(keys.length, ...keys, ...args)
      const now = Date.now()
      batch.forEach((a, i) => {
        this.wrote(a.uid, Number(r[4 * i + 2]), Number(r[4 * i + 3]) === 1, now)
        a.resolve({ epoch: String(r[4 * i]), offset: Number(r[4 * i + 1]) })
      })
    } catch (err) {
      for (const a of batch) a.reject(err)
      return
    }
    this.evict(batch[batch.length - 1].uid)
  }

  /** Bytes of the streams this node wrote, as their last appends left them (bounded by `maxBytes`). */
  get bytes (): number {
    return this.totalBytes
  }

  /** Streams this node wrote and keeps count of (bounded by `maxStreams`). */
  get size (): number {
    return this.strangers.size + this.members.size
  }

  /** `uid` logged in here: every node keeps its stream before those of uids that never did. */
  loggedIn (uid: string): void {
    const w = this.strangers.get(uid)
    if (w !== undefined) {
      this.strangers.delete(uid)
      this.members.set(uid, w)
    }
    this.redis.gateHistLogin(`${this.keys.uidTag(uid)}:hmeta`).catch(this.onError)
  }

  /** Forgets the streams this node has not written for `maxAge` (Redis expired them). */
  sweep (now: number): void {
    for (const map of [this.strangers, this.members]) {
      for (const [uid, w] of map) {
        if (now - w.at <= this.opts.maxAge) break
        map.delete(uid)
        this.totalBytes -= w.bytes
      }
    }
  }

  private wrote (uid: string, bytes: number, member: boolean, now: number): void {
    const old = this.strangers.get(uid) ?? this.members.get(uid)
    if (old !== undefined) {
      this.totalBytes -= old.bytes
      this.strangers.delete(uid)
      this.members.delete(uid)
    }
    // Re-inserted: each Map's order is least recently written first.
    ;(member ? this.members : this.strangers).set(uid, { bytes, at: now })
    this.totalBytes += bytes
  }

  /**
   * Drops streams this node wrote, strangers' first, until both bounds hold;
   * never `keep` (the one just written, capped by `maxBytes` itself). A stranger
   * whose uid logged in on another node meanwhile is kept (and moves over).
   */
  private evict (keep: string): void {
    while (this.size > this.opts.maxStreams || this.totalBytes > this.opts.maxBytes) {
      const stranger = first(this.strangers, keep)
      const uid = stranger ?? first(this.members, keep)
      if (uid === undefined) return
      const map = stranger !== undefined ? this.strangers : this.members
      const w = map.get(uid)!
      map.delete(uid)
      this.totalBytes -= w.bytes
      const tag = this.keys.uidTag(uid)
      this.redis.gateHistEvict(`${tag}:hist`, `${tag}:hmeta`, stranger !== undefined ? '0' : '1').then(freed => {
        if (freed >= 0) this.evicted++
        else if (!this.strangers.has(uid) && !this.members.has(uid)) {
          // It logged in elsewhere: kept, counted again as a member's.
          this.members.set(uid, w)
          this.totalBytes += w.bytes
        }
      }, this.onError)
    }
  }

  async read (uid: string, after: number, limit: number, create = false): Promise<StreamRead> {
    const r = await this.redis.gateHistReadBuffer(
      `${this.keys.uidTag(uid)}:hist`, `${this.keys.uidTag(uid)}:hmeta`, after, limit, this.opts.maxAge, create ? newEpoch() : '', this.opts.maxCount, this.opts.maxBytes)
    const items: StoredMessage[] = []
    for (let i = 3; i + 4 < r.length; i += 5) {
      items.push({
        offset: parseInt((r[i] as Buffer).toString(), 10),
        at: Number((r[i + 1] as Buffer).toString()),
        name: (r[i + 2] as Buffer).toString(),
        text: (r[i + 3] as Buffer).toString() === '1',
        payload: r[i + 4] as Buffer
      })
    }
    return { epoch: (r[0] as Buffer).toString(), last: Number(r[1]), first: Number(r[2]), items }
  }
}

/** The least recently written uid of `map` other than `keep`. */
function first (map: Map<string, Written>, keep: string): string | undefined {
  for (const uid of map.keys()) if (uid !== keep) return uid
  return undefined
}
