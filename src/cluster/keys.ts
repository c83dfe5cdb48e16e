/**
 * Names in Redis. A Redis Cluster hashes only the part of a key between the
 * first `{` and the next `}` (the hash tag), so the tag decides the slot:
 *
 *   {P}                 the node registry: one slot (a node's record is one thing)
 *   {P:p<k>}            uid-index bucket k of `buckets`: the presence of every
 *                       uid whose bucket is k, and the bucket's index of uids
 *   {P:r<k>}            room-index bucket k of `buckets`: the members of every
 *                       room whose bucket is k, and the bucket's index of rooms
 *   {P:u:<uid>}         a uid's history and session data: a slot per uid
 *   {P:n:<node>}:bus    a node's shard channel: a slot per node
 *
 * Each script touches one tag, so it is single-slot. The layouts are drawn in
 * `scripts.ts`, `history-store.ts` and `session-store.ts`.
 */
export interface ClusterKeys {
  /** The node registry, KEYS[1] of every registry script. */
  nodes: string
  /** How many uid-index buckets there are. */
  buckets: number
  /** Bucket `k`'s sorted set of uids, KEYS[1] of every bucket script. */
  bucket: (k: number) => string
  /** The bucket of a uid: FNV-1a of its UTF-8 bytes, modulo `buckets`. */
  bucketOf: (uid: string) => number
  /** Room bucket `k`'s sorted set of rooms, KEYS[1] of every room script (as many room buckets as uid buckets). */
  roomBucket: (k: number) => string
  /** The hash tag of a uid's own data (history, session). */
  uidTag: (uid: string) => string
  /** The shard channel a node subscribes to. */
  channel: (nodeId: string) => string
}

export function clusterKeys (prefix: string, buckets: number): ClusterKeys {
  return {
    nodes: `{${prefix}}:nodes`,
    buckets,
    bucket: k => `{${prefix}:p${k}}:uids`,
    bucketOf: uid => buckets === 1 ? 0 : fnv1a(uid) % buckets,
    roomBucket: k => `{${prefix}:r${k}}:rooms`,
    uidTag: uid => `{${prefix}:u:${uid}}`,
    channel: nodeId => `{${prefix}:n:${nodeId}}:bus`
  }
}

function fnv1a (text: string): number {
  let h = 0x811c9dc5
  for (const byte of Buffer.from(text)) {
    h ^= byte
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}
