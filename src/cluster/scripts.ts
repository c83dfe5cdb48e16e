import type { RedisClient } from './options.js'
import { ROOM, ROOM_BODIES } from './room-scripts.js'

/*
 * The presence keys, in three kinds of slot (see keys.ts; the room buckets'
 * layout is drawn in room-scripts.ts).
 *
 * The registry, `R` = `{prefix}`, one slot:
 *
 *   R:nodes              ZSET  nodeId -> deadline (Redis server time, unix ms)
 *   R:node:<id>          HASH  ws, tcp: that node's open connections; p: by protocol, JSON;
 *                              i: its incarnation (a new one per full publish)
 *   R:inc                STRING the last incarnation given
 *   R:dead               HASH  nodeId -> incarnation: expired nodes whose entries are
 *                              still to be removed from the buckets
 *
 * Uid-index bucket k, `B` = `{prefix:p<k>}`, one slot each; a uid lives in one bucket:
 *
 *   B:uids               ZSET  uid -> 0 (equal scores: ordered by uid bytes, for paging)
 *   B:uid:<uid>          HASH  agentId -> ConnectionInfo JSON, over every node
 *   B:node:<id>          HASH  _inc: the node's incarnation when it wrote here;
 *                              agentId -> uid, its logged-in connections of this bucket
 *
 * A node is live while its deadline is in the future. Every registry script
 * first moves the nodes whose deadline passed to R:dead and returns R:dead;
 * the caller removes their entries bucket by bucket (`bucketReap`, which
 * leaves a node alone if it published again since) before it reads the
 * buckets, so no answer counts a dead node. Writes of a node whose incarnation
 * is not the one in the registry or the bucket are refused (the script
 * returns 0) and the node republishes its whole presence.
 */
const REGISTRY = `
local nodes = KEYS[1]
local R = string.sub(nodes, 1, -7)
local me = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

for _, node in ipairs(redis.call('ZRANGEBYSCORE', nodes, '-inf', now)) do
  redis.call('HSET', R .. ':dead', node, redis.call('HGET', R .. ':node:' .. node, 'i') or '0')
  redis.call('DEL', R .. ':node:' .. node)
  redis.call('ZREM', nodes, node)
end
local deadline = redis.call('ZSCORE', nodes, me)
local registered = 0
if deadline ~= false and tonumber(deadline) > now and redis.call('HGET', R .. ':node:' .. me, 'i') == ARGV[2] then registered = 1 end
local dead = redis.call('HGETALL', R .. ':dead')
`

const BUCKET = `
local U = KEYS[1]
local B = string.sub(U, 1, -6)

-- true when it is the uid's first connection in the cluster
local function bind(node, id, uid, info)
  local key = B .. ':uid:' .. uid
  local first = redis.call('EXISTS', key) == 0
  redis.call('HSET', key, id, info)
  redis.call('HSET', B .. ':node:' .. node, id, uid)
  redis.call('ZADD', U, 0, uid)
  return first
end

-- true when it was the uid's last connection in the cluster
local function unbind_uid(id, uid)
  local key = B .. ':uid:' .. uid
  if redis.call('HDEL', key, id) == 1 and redis.call('EXISTS', key) == 0 then
    redis.call('ZREM', U, uid)
    return true
  end
  return false
end

-- the uids that went offline are added to out, when given
local function drop(node, out)
  local key = B .. ':node:' .. node
  local entries = redis.call('HGETALL', key)
  for i = 1, #entries, 2 do
    if entries[i] ~= '_inc' and unbind_uid(entries[i], entries[i + 1]) and out ~= nil then out[#out + 1] = entries[i + 1] end
  end
  redis.call('DEL', key)
end
`

/** Registry scripts: KEYS[1] is R:nodes; ARGV[1] the calling node, ARGV[2] its incarnation. Every answer starts { registered, dead }. */
const REGISTRY_BODIES = {
  /** ARGV: me, _, ttl, ws, tcp, protocols. Registers `me` under a new incarnation. -> { 1, dead, incarnation } */
  gateRegSync: `
local inc = redis.call('INCR', R .. ':inc')
redis.call('ZADD', nodes, now + tonumber(ARGV[3]), me)
redis.call('DEL', R .. ':node:' .. me)
redis.call('HSET', R .. ':node:' .. me, 'ws', ARGV[4], 'tcp', ARGV[5], 'p', ARGV[6], 'i', inc)
return { 1, dead, inc }`,
  /** ARGV: me, inc, ttl. Extends the deadline; registered 0 when it is gone or another incarnation. */
  gateRegHeartbeat: `
if registered == 1 then redis.call('ZADD', nodes, 'XX', now + tonumber(ARGV[3]), me) end
return { registered, dead }`,
  /** ARGV: me, inc, ws, tcp, protocols. */
  gateRegCounts: `
if registered == 1 then redis.call('HSET', R .. ':node:' .. me, 'ws', ARGV[3], 'tcp', ARGV[4], 'p', ARGV[5]) end
return { registered, dead }`,
  /** ARGV: me. Removes the node's record (its bucket entries are removed first, by the node). */
  gateRegLeave: `
redis.call('ZREM', nodes, me)
redis.call('DEL', R .. ':node:' .. me)
return { 0, dead }`,
  /** ARGV: me, inc. -> { registered, dead, nodes, ws, tcp, then each live node's protocols (JSON) } */
  gateRegStats: `
local ws, tcp = 0, 0
local live = redis.call('ZRANGE', nodes, 0, -1)
local out = { registered, dead, #live, 0, 0 }
for _, node in ipairs(live) do
  local c = redis.call('HMGET', R .. ':node:' .. node, 'ws', 'tcp', 'p')
  ws = ws + (tonumber(c[1]) or 0)
  tcp = tcp + (tonumber(c[2]) or 0)
  out[#out + 1] = c[3] or '{}'
end
out[4] = ws
out[5] = tcp
return out`,
  /** ARGV: me, inc. -> { registered, dead, { live node… } } */
  gateRegNodes: `
return { registered, dead, redis.call('ZRANGE', nodes, 0, -1) }`,
  /** ARGV: me, _, node, inc. The node's bucket entries were removed: forget it, unless it died again since. */
  gateRegReaped: `
if redis.call('HGET', R .. ':dead', ARGV[3]) == ARGV[4] then redis.call('HDEL', R .. ':dead', ARGV[3]) end
return { registered, dead }`
} as const

/** Bucket scripts: KEYS[1] is B:uids. */
const BUCKET_BODIES = {
  /** ARGV: me, inc, then (agentId, uid, info) triples. Replaces the node's entries in this bucket. */
  gateBucketSync: `
drop(ARGV[1], nil)
redis.call('HSET', B .. ':node:' .. ARGV[1], '_inc', ARGV[2])
for i = 3, #ARGV, 3 do bind(ARGV[1], ARGV[i], ARGV[i + 1], ARGV[i + 2]) end
return 1`,
  /**
   * ARGV: me, inc, then ops: 'b' agentId uid info | 'u' agentId uid. 0 when the
   * bucket does not hold this incarnation; else { 1, { uid that came online… },
   * { uid that went offline… } } (its first and last connection in the cluster).
   */
  gateBucketApply: `
local me = ARGV[1]
if redis.call('HGET', B .. ':node:' .. me, '_inc') ~= ARGV[2] then return 0 end
local online, offline = {}, {}
local i = 3
while i <= #ARGV do
  if ARGV[i] == 'b' then
    if bind(me, ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]) then online[#online + 1] = ARGV[i + 2] end
    i = i + 4
  else
    if unbind_uid(ARGV[i + 1], ARGV[i + 2]) then offline[#offline + 1] = ARGV[i + 2] end
    redis.call('HDEL', B .. ':node:' .. me, ARGV[i + 1])
    i = i + 3
  end
end
return { 1, online, offline }`,
  /** ARGV: node, inc. Drops a dead node's entries, unless it wrote here under a later incarnation. -> { uid that went offline… } */
  gateBucketReap: `
local out = {}
local cur = redis.call('HGET', B .. ':node:' .. ARGV[1], '_inc')
if cur and tonumber(cur) <= tonumber(ARGV[2]) then drop(ARGV[1], out) end
return out`,
  /** ARGV: me. Drops the node's entries (a graceful leave). -> { uid that went offline… } */
  gateBucketDrop: `
local out = {}
drop(ARGV[1], out)
return out`,
  /**
   * ARGV: prefix, offset, limit. -> { count, uid1, connections1, … }: how many
   * uids of this bucket start with `prefix` ('' for all), and the page
   * [offset, offset + limit) of them. They are the lex range [prefix,
   * prefix..0xff) (UTF-8 never holds the byte 0xff), read by rank from the
   * range's start, so any page costs O(log n + limit).
   */
  gateBucketPage: `
local prefix, offset, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local start, count = 0, redis.call('ZCARD', U)
if prefix ~= '' then
  start = redis.call('ZLEXCOUNT', U, '-', '(' .. prefix)
  count = redis.call('ZLEXCOUNT', U, '[' .. prefix, '(' .. prefix .. '\\255')
end
local out = { count }
local last = math.min(offset + limit, count) - 1
if offset <= last then
  for _, uid in ipairs(redis.call('ZRANGE', U, start + offset, start + last)) do
    out[#out + 1] = uid
    out[#out + 1] = redis.call('HLEN', B .. ':uid:' .. uid)
  end
end
return out`,
  /** ARGV: uid. -> { info JSON… } */
  gateBucketUser: `
return redis.call('HVALS', B .. ':uid:' .. ARGV[1])`,
  /** ARGV: uids… -> { { agentId… } per uid } */
  gateBucketRoute: `
local out = {}
for i = 1, #ARGV do out[i] = redis.call('HKEYS', B .. ':uid:' .. ARGV[i]) end
return out`
} as const

type Arg = string | number

/** The scripts as methods, once `defineScripts` added them to a client; the first argument is KEYS[1]. */
export type PresenceScripts =
  { [K in keyof typeof REGISTRY_BODIES]: (nodesKey: string, ...args: Arg[]) => Promise<unknown> } &
  { [K in keyof typeof BUCKET_BODIES]: (bucketKey: string, ...args: Arg[]) => Promise<unknown> } &
  { [K in keyof typeof ROOM_BODIES]: (roomBucketKey: string, ...args: Arg[]) => Promise<unknown> }

/**
 * Adds the scripts to the client as commands (ioredis sends EVALSHA and falls
 * back to EVAL, so a Redis that restarted empty gets them again; a Redis
 * Cluster client sends each to the master of its key's slot).
 */
export function defineScripts (client: RedisClient): PresenceScripts {
  for (const [name, body] of Object.entries(REGISTRY_BODIES)) client.defineCommand(name, { numberOfKeys: 1, lua: REGISTRY + body })
  for (const [name, body] of Object.entries(BUCKET_BODIES)) client.defineCommand(name, { numberOfKeys: 1, lua: BUCKET + body })
  for (const [name, body] of Object.entries(ROOM_BODIES)) client.defineCommand(name, { numberOfKeys: 1, lua: ROOM + body })
  return client as unknown as PresenceScripts
}
