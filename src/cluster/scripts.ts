import type { Redis } from 'ioredis'

/*
 * The presence keys. `T` is the hash tag `{prefix}`; every key starts with it,
 * so all of them share one Redis Cluster slot and every script is single-slot.
 * The scripts derive `T` from KEYS[1] (`T:nodes`), which also keeps an ioredis
 * `keyPrefix` working.
 *
 *   T:nodes              ZSET  nodeId -> deadline (Redis server time, unix ms)
 *   T:node:<id>          HASH  ws, tcp: that node's open connections; p: by protocol, JSON
 *   T:node:<id>:agents   HASH  agentId -> uid, that node's logged-in connections
 *   T:uids               ZSET  uid -> 0 (equal scores: ordered by uid bytes, for paging)
 *   T:uid:<uid>          HASH  agentId -> ConnectionInfo JSON, over every node
 *
 * A node is live while its deadline is in the future. Every script first reaps
 * the nodes whose deadline passed (drops their entries), so no answer ever
 * includes a dead node, and writes of a node that is not live are refused
 * (the script returns 0 and the node republishes its whole presence).
 */
const PRELUDE = `
local nodes = KEYS[1]
local T = string.sub(nodes, 1, -7)
local me = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local function bind(node, id, uid, info)
  redis.call('HSET', T .. ':uid:' .. uid, id, info)
  redis.call('HSET', T .. ':node:' .. node .. ':agents', id, uid)
  redis.call('ZADD', T .. ':uids', 0, uid)
end

local function unbind_uid(id, uid)
  local key = T .. ':uid:' .. uid
  redis.call('HDEL', key, id)
  if redis.call('EXISTS', key) == 0 then redis.call('ZREM', T .. ':uids', uid) end
end

local function drop(node)
  local agents = T .. ':node:' .. node .. ':agents'
  local entries = redis.call('HGETALL', agents)
  for i = 1, #entries, 2 do unbind_uid(entries[i], entries[i + 1]) end
  redis.call('DEL', agents, T .. ':node:' .. node)
  redis.call('ZREM', nodes, node)
end

local function live(node)
  local deadline = redis.call('ZSCORE', nodes, node)
  return deadline ~= false and tonumber(deadline) > now
end

for _, node in ipairs(redis.call('ZRANGEBYSCORE', nodes, '-inf', now)) do drop(node) end
local registered = live(me) and 1 or 0
`

/** Each script's body, after the prelude. ARGV[1] is always the calling node's id. */
const BODIES = {
  /** ARGV: me, ttl, ws, tcp, protocols (JSON), then (agentId, uid, info) triples. Replaces this node's presence. */
  gateSync: `
drop(me)
redis.call('ZADD', nodes, now + tonumber(ARGV[2]), me)
redis.call('HSET', T .. ':node:' .. me, 'ws', ARGV[3], 'tcp', ARGV[4], 'p', ARGV[5])
for i = 6, #ARGV, 3 do bind(me, ARGV[i], ARGV[i + 1], ARGV[i + 2]) end
return 1`,
  /** ARGV: me, ttl. 0 when this node is not registered (Redis lost it, or it was reaped). */
  gateHeartbeat: `
if registered == 0 then return 0 end
redis.call('ZADD', nodes, 'XX', now + tonumber(ARGV[2]), me)
return 1`,
  /** ARGV: me, then ops: 'n' ws tcp protocols | 'b' agentId uid info | 'u' agentId uid. 0 when not registered. */
  gateApply: `
if registered == 0 then return 0 end
local i = 2
while i <= #ARGV do
  local op = ARGV[i]
  if op == 'n' then
    redis.call('HSET', T .. ':node:' .. me, 'ws', ARGV[i + 1], 'tcp', ARGV[i + 2], 'p', ARGV[i + 3])
    i = i + 4
  elseif op == 'b' then
    bind(me, ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])
    i = i + 4
  else
    unbind_uid(ARGV[i + 1], ARGV[i + 2])
    redis.call('HDEL', T .. ':node:' .. me .. ':agents', ARGV[i + 1])
    i = i + 3
  end
end
return 1`,
  /** ARGV: me. Removes this node's presence. */
  gateLeave: `
drop(me)
return 1`,
  /** ARGV: me. -> { registered, nodes, ws, tcp, onlineUsers, then each node's protocols (JSON) } */
  gateStats: `
local ws, tcp = 0, 0
local live_nodes = redis.call('ZRANGE', nodes, 0, -1)
local protocols = {}
for _, node in ipairs(live_nodes) do
  local c = redis.call('HMGET', T .. ':node:' .. node, 'ws', 'tcp', 'p')
  ws = ws + (tonumber(c[1]) or 0)
  tcp = tcp + (tonumber(c[2]) or 0)
  protocols[#protocols + 1] = c[3] or '{}'
end
local out = { registered, #live_nodes, ws, tcp, redis.call('ZCARD', T .. ':uids') }
for _, p in ipairs(protocols) do out[#out + 1] = p end
return out`,
  /**
   * ARGV: me, offset, limit, prefix. -> { registered, total, uid1, connections1, uid2, … }
   * The uids that start with a prefix are the lex range [prefix, prefix..0xff)
   * (UTF-8 never holds the byte 0xff); the page is read by rank from the
   * range's start, so any page costs O(log n + limit).
   */
  gateUsers: `
local uids = T .. ':uids'
local offset, limit, prefix = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] or ''
local start, total = 0, redis.call('ZCARD', uids)
if prefix ~= '' then
  start = redis.call('ZLEXCOUNT', uids, '-', '(' .. prefix)
  total = redis.call('ZLEXCOUNT', uids, '[' .. prefix, '(' .. prefix .. '\\255')
end
local out = { registered, total }
local last = math.min(offset + limit, total) - 1
if offset <= last then
  for _, uid in ipairs(redis.call('ZRANGE', uids, start + offset, start + last)) do
    out[#out + 1] = uid
    out[#out + 1] = redis.call('HLEN', T .. ':uid:' .. uid)
  end
end
return out`,
  /** ARGV: me, uid. -> { registered, info JSON… } */
  gateUser: `
local out = redis.call('HVALS', T .. ':uid:' .. ARGV[2])
table.insert(out, 1, registered)
return out`,
  /** ARGV: me, uids… -> { registered, { live node… }, { agentId… } per uid } */
  gateRoute: `
local out = { registered, redis.call('ZRANGE', nodes, 0, -1) }
for i = 2, #ARGV do out[#out + 1] = redis.call('HKEYS', T .. ':uid:' .. ARGV[i]) end
return out`
} as const

type ScriptName = keyof typeof BODIES
type Arg = string | number

/** The scripts as methods, once `defineScripts` added them to a client. */
export type PresenceScripts = { [K in ScriptName]: (nodesKey: string, ...args: Arg[]) => Promise<unknown> }

/**
 * Adds the scripts to the client as commands (ioredis sends EVALSHA and falls
 * back to EVAL, so a Redis that restarted empty gets them again).
 */
export function defineScripts (client: Redis): PresenceScripts {
  for (const [name, body] of Object.entries(BODIES)) client.defineCommand(name, { numberOfKeys: 1, lua: PRELUDE + body })
  return client as unknown as PresenceScripts
}
