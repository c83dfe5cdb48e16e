import { Cluster, Redis, type ClusterNode, type ClusterOptions as IORedisClusterOptions, type RedisOptions } from 'ioredis'
import { GateError } from '../errors.js'
import type { GateLogger } from '../logger.js'
import { within } from './deadline.js'
import type { NormalizedClusterOptions, RedisClient, RedisClusterSeeds } from './options.js'

/** The oldest Redis the cluster mode runs on: sharded pub/sub (SPUBLISH, SSUBSCRIBE) came in 7.0. */
const MIN_REDIS_MAJOR = 7

/**
 * The two Redis clients of a node: `client` for commands and publishing,
 * `sub` for its subscription. Each is a single-Redis `Redis` or a Redis
 * Cluster `Cluster`. A client the user passed in is used as is and never
 * closed; `sub` is always ours (a duplicate; on a Redis Cluster with
 * `shardedSubscribers`, so that each shard channel is subscribed on the master
 * of its slot, and again after a failover).
 */
export class ClusterConnections {
  readonly client: RedisClient
  readonly sub: RedisClient
  private readonly owned: boolean

  constructor (opts: NormalizedClusterOptions, log: GateLogger) {
    // Commands fail at once while Redis is unreachable instead of queueing;
    // reconnects are tried at least every second. The user's options win.
    const ours: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: opts.requestTimeout,
      retryStrategy: (times: number) => Math.min(times * 100, 1000)
    }
    const redis = opts.redis
    if (opts.userClient) this.client = redis as RedisClient
    else if (opts.redisCluster) this.client = newCluster(redis as RedisClusterSeeds, opts.requestTimeout)
    else if (typeof redis === 'string') this.client = new Redis(redis, ours)
    else this.client = new Redis({ ...ours, ...(redis as RedisOptions) })
    this.owned = !opts.userClient
    // The subscription is queued until connected, and renewed by ioredis on reconnect.
    this.sub = isCluster(this.client)
      ? (this.client as Cluster).duplicate([], { lazyConnect: true, enableOfflineQueue: true, shardedSubscribers: true, redisOptions: { ...(this.client as Cluster).options.redisOptions, commandTimeout: undefined } })
      : (this.client as Redis).duplicate({ lazyConnect: true, enableOfflineQueue: true, commandTimeout: undefined })
    for (const conn of this.owned ? [this.client, this.sub] : [this.sub]) {
      conn.on('error', (err: Error) => log.debug({ err }, 'redis connection error'))
    }
  }

  /** Connects; resolves when the command connection is ready, or after `ms`: false then. */
  async open (ms: number): Promise<boolean> {
    const client = this.client
    for (const conn of [client, this.sub]) if (conn.status === 'wait') conn.connect().catch(() => {})
    if (client.status === 'ready') return true
    let onReady: (() => void) | undefined
    try {
      await within(new Promise<void>(resolve => { onReady = resolve; client.once('ready', resolve) }), ms)
      return true
    } catch {
      return false
    } finally {
      if (onReady !== undefined) client.off('ready', onReady)
    }
  }

  /**
   * Throws `FST_GATE_REDIS_VERSION` when a server (on a Redis Cluster: any
   * master) runs a Redis older than 7.
   */
  async checkVersion (ms: number): Promise<void> {
    const servers = isCluster(this.client) ? this.client.nodes('master') : [this.client as Redis]
    const infos = await within(Promise.all(servers.map(async server => await server.info('server'))), ms)
    for (const info of infos) {
      const version = /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown'
      if (!(Number.parseInt(version, 10) >= MIN_REDIS_MAJOR)) throw new GateError.REDIS_VERSION(version)
    }
  }

  /** Closes what is ours: `quit` within `ms`, else a hard disconnect. */
  async close (ms: number): Promise<void> {
    await Promise.all((this.owned ? [this.sub, this.client] : [this.sub]).map(async conn => {
      if (conn.status !== 'ready') {
        conn.disconnect()
        return
      }
      try {
        await within(conn.quit(), ms)
      } catch {
        conn.disconnect()
      }
    }))
  }
}

/** Duck-typed, as a client may come from another copy of ioredis. */
export function isCluster (client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true
}

/**
 * The gate's own Redis Cluster client. Commands fail instead of queueing
 * while the cluster is down; during a failover ioredis refreshes the slot map
 * and retries on the new master.
 */
function newCluster (seeds: RedisClusterSeeds, requestTimeout: number): Cluster {
  const nodes: ClusterNode[] = seeds.clusterNodes.map(node => {
    if (typeof node !== 'string') return node
    const colon = node.lastIndexOf(':')
    return colon > 0 ? { host: node.slice(0, colon), port: Number(node.slice(colon + 1)) } : node
  })
  const user = seeds.clusterOptions ?? {}
  const ours: IORedisClusterOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    clusterRetryStrategy: (times: number) => Math.min(times * 100, 1000),
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: requestTimeout,
    ...user,
    redisOptions: {
      maxRetriesPerRequest: 1,
      commandTimeout: requestTimeout,
      connectTimeout: Math.max(requestTimeout, 1000),
      ...user.redisOptions
    }
  }
  return new Cluster(nodes, ours)
}
