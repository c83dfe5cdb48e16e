/*
 * The room-presence keys (see keys.ts). Room-index bucket k, `Q` = `{prefix:r<k>}`,
 * one slot each; a room lives in one bucket (the bucket of its name):
 *
 *   Q:rooms              ZSET  room -> 0: rooms with at least one member (ordered by bytes, for paging)
 *   Q:m:<room>           ZSET  agentId -> 0: the room's member connections, over every node
 *   Q:i:<room>           HASH  agentId -> member JSON { uid?, id, node, transport, protocol }
 *   Q:u:<room>           HASH  uid -> member connections of that uid (HLEN: distinct uids)
 *   Q:n:<room>           HASH  nodeId -> member connections on that node (HKEYS: where a push goes)
 *   Q:node:<id>          HASH  _inc: the node's incarnation when it wrote here;
 *                              "<agentId>\t<room>" -> uid ('' when not logged in), its members of this bucket
 *
 * The fencing is the uid buckets' (scripts.ts): a write of another incarnation is
 * refused with 0; a dead node's entries are removed bucket by bucket by the
 * survivor that reaps it. Node ids hold no tab, so the first tab of a node
 * entry ends its agent id.
 */
export const ROOM = `
local RS = KEYS[1]
local Q = string.sub(RS, 1, -7)

local function dec(key, field)
  if redis.call('HINCRBY', key, field, -1) <= 0 then redis.call('HDEL', key, field) end
end

local function add(node, id, room, uid, info)
  local nk = Q .. ':node:' .. node
  local f = id .. '\\t' .. room
  local old = redis.call('HGET', nk, f)
  if old == false then
    redis.call('ZADD', Q .. ':m:' .. room, 0, id)
    redis.call('HINCRBY', Q .. ':n:' .. room, node, 1)
    if uid ~= '' then redis.call('HINCRBY', Q .. ':u:' .. room, uid, 1) end
    redis.call('ZADD', RS, 0, room)
  elseif old ~= uid then
    if old ~= '' then dec(Q .. ':u:' .. room, old) end
    if uid ~= '' then redis.call('HINCRBY', Q .. ':u:' .. room, uid, 1) end
  end
  redis.call('HSET', nk, f, uid)
  redis.call('HSET', Q .. ':i:' .. room, id, info)
end

local function remove(node, id, room)
  local nk = Q .. ':node:' .. node
  local f = id .. '\\t' .. room
  local uid = redis.call('HGET', nk, f)
  if uid == false then return false end
  redis.call('HDEL', nk, f)
  redis.call('ZREM', Q .. ':m:' .. room, id)
  redis.call('HDEL', Q .. ':i:' .. room, id)
  dec(Q .. ':n:' .. room, node)
  if uid ~= '' then dec(Q .. ':u:' .. room, uid) end
  if redis.call('EXISTS', Q .. ':m:' .. room) == 0 then redis.call('ZREM', RS, room) end
  return uid
end

local function drop(node, out)
  local nk = Q .. ':node:' .. node
  local entries = redis.call('HGETALL', nk)
  for i = 1, #entries, 2 do
    local f = entries[i]
    if f ~= '_inc' then
      local tab = string.find(f, '\\t', 1, true)
      local id, room = string.sub(f, 1, tab - 1), string.sub(f, tab + 1)
      local uid = remove(node, id, room)
      if out ~= nil and uid ~= false then
        out[#out + 1] = room
        out[#out + 1] = id
        out[#out + 1] = uid
      end
    end
  end
  redis.call('DEL', nk)
end
`

/** Room-bucket scripts: KEYS[1] is Q:rooms. */
export const ROOM_BODIES = {
  /** ARGV: me, inc, then (agentId, room, uid, member JSON) quads. Replaces the node's members in this bucket. */
  gateRoomSync: `
drop(ARGV[1], nil)
redis.call('HSET', Q .. ':node:' .. ARGV[1], '_inc', ARGV[2])
for i = 3, #ARGV, 4 do add(ARGV[1], ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]) end
return 1`,
  /**
   * ARGV: me, inc, then ops: 'j' agentId room uid member | 'l' agentId room. A 'j'
   * of a member already there updates it (its uid changed). 0 when the bucket
   * does not hold this incarnation.
   */
  gateRoomApply: `
local me = ARGV[1]
if redis.call('HGET', Q .. ':node:' .. me, '_inc') ~= ARGV[2] then return 0 end
local i = 3
while i <= #ARGV do
  if ARGV[i] == 'j' then
    add(me, ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4])
    i = i + 5
  else
    remove(me, ARGV[i + 1], ARGV[i + 2])
    i = i + 3
  end
end
return 1`,
  /** ARGV: node, inc. Drops a dead node's members, unless it wrote here under a later incarnation. -> { room, agentId, uid, … } removed */
  gateRoomReap: `
local out = {}
local cur = redis.call('HGET', Q .. ':node:' .. ARGV[1], '_inc')
if cur and tonumber(cur) <= tonumber(ARGV[2]) then drop(ARGV[1], out) end
return out`,
  /** ARGV: me. Drops the node's members (a graceful leave). */
  gateRoomDrop: `
drop(ARGV[1], nil)
return 1`,
  /** ARGV: offset, limit. -> { count, room1, connections1, uids1, … }: the bucket's rooms, the page [offset, offset + limit) of them. */
  gateRoomPage: `
local offset, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local count = redis.call('ZCARD', RS)
local out = { count }
local last = math.min(offset + limit, count) - 1
if offset <= last then
  for _, room in ipairs(redis.call('ZRANGE', RS, offset, last)) do
    out[#out + 1] = room
    out[#out + 1] = redis.call('ZCARD', Q .. ':m:' .. room)
    out[#out + 1] = redis.call('HLEN', Q .. ':u:' .. room)
  end
end
return out`,
  /** ARGV: room, offset, limit. -> { total, member JSON… } ordered by agent id. */
  gateRoomMembers: `
local room, offset, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local members = Q .. ':m:' .. room
local out = { redis.call('ZCARD', members) }
local last = math.min(offset + limit, out[1]) - 1
if offset <= last then
  local infos = Q .. ':i:' .. room
  for _, id in ipairs(redis.call('ZRANGE', members, offset, last)) do out[#out + 1] = redis.call('HGET', infos, id) end
end
return out`,
  /** ARGV: room. -> { nodeId… }: the nodes with members of the room. */
  gateRoomNodes: `
return redis.call('HKEYS', Q .. ':n:' .. ARGV[1])`
} as const
