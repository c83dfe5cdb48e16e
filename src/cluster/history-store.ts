import { newEpoch } from '../history/memory-store.js'
import type { NormalizedHistoryOptions } from '../history/options.js'
import type { HistoryStore, Position, StoredMessage, StreamRead } from '../history/store.js'
import type { ClusterKeys } from './keys.js'
import type { RedisClient } from './options.js'

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
 * offset is never reused within an epoch. Appends are one script each, so the
 * offset and the entry are written together.
 */
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- Deletes expired entries from the head; returns the oldest kept offset, or nil.
local function trim (stream, cutoff)
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

/** KEYS: stream, meta. ARGV: candidate epoch, maxCount, maxAge, name, text, payload -> { epoch, offset } */
const APPEND = PRELUDE + `
local epoch = redis.call('HGET', KEYS[2], 'e')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[2], 'e', epoch)
end
local offset = redis.call('HINCRBY', KEYS[2], 's', 1)
redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], offset .. '-0', 't', now, 'n', ARGV[4], 'x', ARGV[5], 'p', ARGV[6])
trim(KEYS[1], now - tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return { epoch, offset }`

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

interface HistoryScripts {
  gateHistAppend (stream: string, meta: string, ...args: Array<string | number | Buffer>): Promise<[string, number]>
  gateHistReadBuffer (stream: string, meta: string, ...args: Array<string | number>): Promise<Array<Buffer | number>>
}

/** The cluster's history store: Redis Streams on the gate's command connection. */
export class RedisHistoryStore implements HistoryStore {
  private readonly redis: HistoryScripts
  private readonly keys: ClusterKeys
  private readonly opts: NormalizedHistoryOptions

  constructor (client: RedisClient, keys: ClusterKeys, opts: NormalizedHistoryOptions) {
    if (!('gateHistAppend' in client)) {
      client.defineCommand('gateHistAppend', { numberOfKeys: 2, lua: APPEND })
      client.defineCommand('gateHistRead', { numberOfKeys: 2, lua: READ })
    }
    this.redis = client as unknown as HistoryScripts
    this.keys = keys
    this.opts = opts
  }

  async append (uid: string, name: string, text: boolean, payload: Buffer): Promise<Position> {
    const [epoch, offset] = await this.redis.gateHistAppend(
      `${this.keys.uidTag(uid)}:hist`, `${this.keys.uidTag(uid)}:hmeta`, newEpoch(), this.opts.maxCount, this.opts.maxAge, name, text ? '1' : '0', payload)
    return { epoch, offset }
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
