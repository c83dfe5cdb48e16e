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
 *   U:hmeta   HASH    e: the epoch, s: the last offset given
 *
 * Both expire `maxAge` after the last append. The stream is capped at `maxCount`
 * entries (exact MAXLEN) and entries older than `maxAge` are deleted from its
 * head by every append and read. A meta hash that is gone (expired, or a Redis
 * that restarted empty) is made again under a new epoch, from offset 1: an
 * offset is never reused within an epoch. The appends of one event-loop turn
 * are batched (one script on a single Redis, one per uid on a Redis Cluster);
 * a script writes each offset and its entry together.
 */
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- Deletes expired entries from the head; returns the oldest kept offset, or nil.
-- The head alone is read first: it is fresh on almost every call.
local function trim (stream, cutoff)
  local head = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
  if head == nil then return nil end
  if tonumber(head[2][2]) >= cutoff then return tonumber(string.match(head[1], '^(%d+)')) end
  for round = 1, 10 do
    local head = redis.call('XRANGE', stream, '-', '+', 'COUNT', 100)
    local gone = {}
    for _, e in ipairs(head) do
      if tonumber(e[2][2]) < cutoff then
        gone[#gone + 1] = e[1]
      else
        if #gone > 0 then redis.call('XDEL', stream, unpack(gone)) end
        return tonumber(string.match(e[1], '^(%d+)'))
      end
    end
    if #gone > 0 then redis.call('XDEL', stream, unpack(gone)) end
    if #head < 100 then return nil end
  end
  return nil
end
`

/**
 * Appends a batch. KEYS: (stream, meta) per message, a uid's pair repeated for
 * each of its messages. ARGV: maxCount, maxAge, then (candidate epoch, name,
 * text, payload) per message. -> { epoch, offset } per message, in order:
 * messages of one uid get consecutive offsets in the order given.
 */
const APPEND = PRELUDE + `
local maxCount, maxAge = ARGV[1], tonumber(ARGV[2])
local out = {}
for m = 1, #KEYS / 2 do
  local stream, meta, a = KEYS[2 * m - 1], KEYS[2 * m], 2 + (m - 1) * 4
  local epoch = redis.call('HGET', meta, 'e')
  if not epoch then
    epoch = ARGV[a + 1]
    redis.call('DEL', stream)
    redis.call('HSET', meta, 'e', epoch)
  end
  local offset = redis.call('HINCRBY', meta, 's', 1)
  redis.call('XADD', stream, 'MAXLEN', maxCount, offset .. '-0', 't', now, 'n', ARGV[a + 2], 'x', ARGV[a + 3], 'p', ARGV[a + 4])
  trim(stream, now - maxAge)
  redis.call('PEXPIRE', stream, maxAge)
  redis.call('PEXPIRE', meta, maxAge)
  out[#out + 1] = epoch
  out[#out + 1] = offset
end
return out`

/**
 * KEYS: stream, meta. ARGV: after, limit, maxAge, candidate epoch ('' = do not create)
 * -> { epoch, last, first, then id, t, n, x, p per entry }
 */
const READ = PRELUDE + `
local m = redis.call('HMGET', KEYS[2], 'e', 's')
local epoch, last = m[1], tonumber(m[2] or '0')
if not epoch then
  if ARGV[4] == '' then return { '', 0, 1 } end
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'e', ARGV[4], 's', 0)
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return { ARGV[4], 0, 1 }
end
local first = trim(KEYS[1], now - tonumber(ARGV[3])) or (last + 1)
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
}

/** The cluster's history store: Redis Streams on the gate's command connection. */
export class RedisHistoryStore implements HistoryStore {
  private readonly redis: HistoryScripts
  private readonly keys: ClusterKeys
  private readonly opts: NormalizedHistoryOptions
  /** On a Redis Cluster a script may touch one slot: a batch is one uid's messages. */
  private readonly perUid: boolean
  private queue: Append[] = []

  constructor (client: RedisClient, keys: ClusterKeys, opts: NormalizedHistoryOptions) {
    if (!('gateHistAppend' in client)) {
      client.defineCommand('gateHistAppend', { lua: APPEND })
      client.defineCommand('gateHistRead', { numberOfKeys: 2, lua: READ })
    }
    this.redis = client as unknown as HistoryScripts
    this.keys = keys
    this.opts = opts
    this.perUid = isCluster(client)
  }

  /**
   * Queues the append; every append of this event-loop turn goes to Redis
   * together: on a single Redis one script call (per 256 messages), on a Redis
   * Cluster one per uid (its slot), all sent in the same turn. A uid's
   * messages keep the order of the calls: they are in one script, or in
   * scripts sent in order on the connection of their slot.
   */
  async append (uid: string, name: string, text: boolean, payload: Buffer): Promise<Position> {
    return await new Promise<Position>((resolve, reject) => {
      if (this.queue.length === 0) setImmediate(this.flush)
      this.queue.push({ uid, name, text, payload, resolve, reject })
    })
  }

  private readonly flush = (): void => {
    const queue = this.queue
    this.queue = []
    const batches: Append[][] = []
    if (this.perUid) {
      const byUid = new Map<string, Append[]>()
      for (const a of queue) {
        const list = byUid.get(a.uid)
        if (list === undefined) byUid.set(a.uid, [a])
        else list.push(a)
      }
      for (const list of byUid.values()) for (let i = 0; i < list.length; i += BATCH) batches.push(list.slice(i, i + BATCH))
    } else {
      for (let i = 0; i < queue.length; i += BATCH) batches.push(queue.slice(i, i + BATCH))
    }
    for (const batch of batches) void this.send(batch)
  }

  private async send (batch: Append[]): Promise<void> {
    const keys: string[] = []
    const args: Array<string | number | Buffer> = [this.opts.maxCount, this.opts.maxAge]
    for (const a of batch) {
      const tag = this.keys.uidTag(a.uid)
      keys.push(`${tag}:hist`, `${tag}:hmeta`)
      args.push(newEpoch(), a.name, a.text ? '1' : '0', a.payload)
    }
    try {
      const r = await this.redis.gateHistAppend(keys.length, ...keys, ...args)
      batch.forEach((a, i) => a.resolve({ epoch: String(r[2 * i]), offset: Number(r[2 * i + 1]) }))
    } catch (err) {
      for (const a of batch) a.reject(err)
    }
  }

  async read (uid: string, after: number, limit: number, create = false): Promise<StreamRead> {
    const r = await this.redis.gateHistReadBuffer(
      `${this.keys.uidTag(uid)}:hist`, `${this.keys.uidTag(uid)}:hmeta`, after, limit, this.opts.maxAge, create ? newEpoch() : '')
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
