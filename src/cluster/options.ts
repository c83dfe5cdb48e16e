import type { Redis, RedisOptions } from 'ioredis'
import { fail, int } from '../option-checks.js'

/**
 * Where the cluster store is: a URL (`redis://…`, `rediss://…`), ioredis
 * options (single Redis or Sentinel), or an ioredis client. A client you pass
 * stays yours: the gate never quits it, and only `duplicate()`s it for its
 * subscription.
 */
export type RedisOption = string | RedisOptions | Redis

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
}

export interface NormalizedClusterOptions {
  redis: RedisOption
  /** Whether `redis` is a client the user owns. */
  userClient: boolean
  keyPrefix: string
  nodeTtl: number
  heartbeat: number
  requestTimeout: number
}

export const clusterDefaults = {
  keyPrefix: 'gate',
  nodeTtl: 10000,
  requestTimeout: 1000
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
  if (userClient && (redis as { isCluster?: boolean }).isCluster === true) {
    fail('redis', 'an ioredis Cluster client is not supported yet; pass a Redis client, URL or options (single Redis or Sentinel)')
  }
  if (!userClient && !(typeof redis === 'string' && redis.length > 0) && (typeof redis !== 'object' || redis === null || Array.isArray(redis))) {
    fail('redis', 'must be a Redis URL, ioredis options or an ioredis client')
  }
  if (typeof cluster !== 'object' || cluster === null) fail('cluster', 'must be an object')
  const known = new Set(['keyPrefix', 'nodeTtl', 'heartbeat', 'requestTimeout'])
  for (const key of Object.keys(cluster)) if (!known.has(key)) fail(`cluster.${key}`, 'is not a cluster option')

  const keyPrefix = cluster.keyPrefix ?? clusterDefaults.keyPrefix
  if (typeof keyPrefix !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(keyPrefix)) {
    fail('cluster.keyPrefix', 'must be 1-64 characters of A-Z a-z 0-9 _ . : -')
  }
  const nodeTtl = int('cluster.nodeTtl', cluster.nodeTtl ?? clusterDefaults.nodeTtl, 200, 3_600_000)
  const heartbeat = int('cluster.heartbeat', cluster.heartbeat ?? Math.floor(nodeTtl / 5), 20, Math.floor(nodeTtl / 2))
  const requestTimeout = int('cluster.requestTimeout', cluster.requestTimeout ?? clusterDefaults.requestTimeout, 10, 60_000)
  return { redis: redis as RedisOption, userClient, keyPrefix, nodeTtl, heartbeat, requestTimeout }
}
