import type { Cluster, ClusterNode, ClusterOptions as IORedisClusterOptions, Redis, RedisOptions } from 'ioredis'
import { bool, fail, int } from '../option-checks.js'

/** A single Redis or a Redis Cluster: the commands the gate sends are the same. */
export type RedisClient = Redis | Cluster

/** A Redis Cluster by its seed nodes; the gate makes (and closes) the ioredis `Cluster`. */
export interface RedisClusterSeeds {
  /** Some of the cluster's nodes: `{ host, port }` or `'host:port'`. */
  clusterNodes: Array<ClusterNode | string>
  /** ioredis Cluster options; yours win over the gate's. */
  clusterOptions?: IORedisClusterOptions
}

/**
 * Where the cluster store is: a URL (`redis://…`, `rediss://…`), ioredis
 * options (single Redis or Sentinel), an ioredis client (`Redis`, or a
 * `Cluster` for a Redis Cluster), or a Redis Cluster's seed nodes. A client
 * you pass stays yours: the gate never quits it, and only `duplicate()`s it
 * for its subscription. Redis 7 or newer.
 */
export type RedisOption = string | RedisOptions | Redis | Cluster | RedisClusterSeeds

/** Cluster tunables; every one has a default (see `clusterDefaults`). */
export interface ClusterOptions {
  /** Prefix of every key and channel, used as a Redis Cluster hash tag: `{prefix}:…`. */
  keyPrefix?: string
  /**
   * How long a node's record lives without a heartbeat, in ms. A node that dies
   * without cleaning up is gone from every answer this long after its last
   * heartbeat, and its keys are deleted one heartbeat later.
   */
  nodeTtl?: number
  /** Heartbeat period in ms; at most half of `nodeTtl`. Default: `nodeTtl / 5`. */
  heartbeat?: number
  /**
   * The most a cluster-wide call waits, in ms, for Redis and for the other nodes'
   * answers together. Nodes that have not answered by then are reported in
   * `missingNodes`.
   */
  requestTimeout?: number
  /**
   * How many buckets the index of online uids is split into, each in its own
   * slot, and as many for room members and the index of rooms (docs/cluster.md,
   * "Redis Cluster"). Default: 1 on a single Redis (users and rooms listed in
   * name order), 16 on a Redis Cluster.
   */
  indexBuckets?: number
  /**
   * Whether the bus messages of one event-loop turn for one node go in one
   * SPUBLISH, to the nodes that say they read such batches (docs/cluster.md,
   * "Bus"). Default: true. `false`: one SPUBLISH per request and answer, and
   * this node says it reads no batches, as a node of a version before them.
   */
  batch?: boolean
}

export interface NormalizedClusterOptions {
  redis: RedisOption
  /** Whether `redis` is a client the user owns. */
  userClient: boolean
  /** Whether `redis` is a Redis Cluster (a `Cluster` client or seeds). */
  redisCluster: boolean
  indexBuckets: number
  keyPrefix: string
  nodeTtl: number
  heartbeat: number
  requestTimeout: number
  batch: boolean
}

export const clusterDefaults = {
  keyPrefix: 'gate',
  nodeTtl: 10000,
  requestTimeout: 1000,
  /** On a Redis Cluster; 1 on a single Redis. */
  indexBuckets: 16
} as const

/** Duck-typed, so that a client from another copy of ioredis is accepted too. */
export function isRedisClient (value: unknown): value is Redis {
  const c = value as Redis
  return typeof c === 'object' && c !== null && typeof c.duplicate === 'function' &&
    typeof c.defineCommand === 'function' && typeof c.publish === 'function'
}

/** Validates `redis` and `cluster` once, at register time. Throws `FST_GATE_INVALID_OPTION`. */
export function normalizeClusterOptions (redis: unknown, cluster: ClusterOptions = {}): NormalizedClusterOptions {
  const userClient = isRedisClient(redis)
  const seeds = isClusterSeeds(redis)
  const redisCluster = seeds || (userClient && (redis as { isCluster?: boolean }).isCluster === true)
  if (!userClient && !(typeof redis === 'string' && redis.length > 0) && (typeof redis !== 'object' || redis === null || Array.isArray(redis))) {
    fail('redis', 'must be a Redis URL, ioredis options, an ioredis client (Redis or Cluster) or { clusterNodes }')
  }
  if (!seeds && typeof redis === 'object' && redis !== null && 'clusterNodes' in redis) {
    fail('redis.clusterNodes', 'must be a non-empty array of { host, port } or "host:port"')
  }
  if (typeof cluster !== 'object' || cluster === null) fail('cluster', 'must be an object')
  const known = new Set(['keyPrefix', 'nodeTtl', 'heartbeat', 'requestTimeout', 'indexBuckets', 'batch'])
  for (const key of Object.keys(cluster)) if (!known.has(key)) fail(`cluster.${key}`, 'is not a cluster option')

  const keyPrefix = cluster.keyPrefix ?? clusterDefaults.keyPrefix
  if (typeof keyPrefix !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(keyPrefix)) {
    fail('cluster.keyPrefix', 'must be 1-64 characters of A-Z a-z 0-9 _ . : -')
  }
  const nodeTtl = int('cluster.nodeTtl', cluster.nodeTtl ?? clusterDefaults.nodeTtl, 200, 3_600_000)
  const heartbeat = int('cluster.heartbeat', cluster.heartbeat ?? Math.floor(nodeTtl / 5), 20, Math.floor(nodeTtl / 2))
  const requestTimeout = int('cluster.requestTimeout', cluster.requestTimeout ?? clusterDefaults.requestTimeout, 10, 60_000)
  const indexBuckets = int('cluster.indexBuckets', cluster.indexBuckets ?? (redisCluster ? clusterDefaults.indexBuckets : 1), 1, 1024)
  const batch = bool('cluster.batch', cluster.batch ?? true)
  return { redis: redis as RedisOption, userClient, redisCluster, keyPrefix, nodeTtl, heartbeat, requestTimeout, indexBuckets, batch }
}

function isClusterSeeds (value: unknown): value is RedisClusterSeeds {
  const nodes = (value as Partial<RedisClusterSeeds> | null)?.clusterNodes
  return !isRedisClient(value) && Array.isArray(nodes) && nodes.length > 0 &&
    ((value as RedisClusterSeeds).clusterOptions === undefined || typeof (value as RedisClusterSeeds).clusterOptions === 'object')
}
