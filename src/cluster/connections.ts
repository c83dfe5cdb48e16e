import { Redis, type RedisOptions } from 'ioredis'
import type { GateLogger } from '../logger.js'
import { within } from './deadline.js'
import type { NormalizedClusterOptions } from './options.js'

/**
 * The two Redis connections of a node: `client` for commands and publishing,
 * `sub` for its subscription. A client the user passed in is used as is and
 * never closed; `sub` is always ours (a duplicate).
 */
export class ClusterConnections {
  readonly client: Redis
  readonly sub: Redis
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
    if (opts.userClient) this.client = redis as Redis
    else if (typeof redis === 'string') this.client = new Redis(redis, ours)
    else this.client = new Redis({ ...ours, ...(redis as RedisOptions) })
    this.owned = !opts.userClient
    // The subscription is queued until connected, and renewed by ioredis on reconnect.
    this.sub = this.client.duplicate({ lazyConnect: true, enableOfflineQueue: true, commandTimeout: undefined })
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
