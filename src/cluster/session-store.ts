import type { SessionStore } from '../session/store.js'
import type { ClusterKeys } from './keys.js'
import type { RedisClient } from './options.js'

/**
 * Session data in Redis, on the gate's command connection:
 *
 *   {prefix:u:<uid>}:session   HASH  setting key -> value, expiring `ttl` ms after the last save or touch
 *
 * The hash tag is the uid's own (keys.ts), so on a Redis Cluster sessions are
 * spread over the slots.
 *
 * A save replaces the hash in one MULTI, so a reader never sees half of it.
 */
export class RedisSessionStore implements SessionStore {
  private readonly redis: RedisClient
  private readonly keys: ClusterKeys

  constructor (client: RedisClient, keys: ClusterKeys) {
    this.redis = client
    this.keys = keys
  }

  private key (uid: string): string {
    return `${this.keys.uidTag(uid)}:session`
  }

  async load (uid: string): Promise<Record<string, string> | undefined> {
    const data = await this.redis.hgetall(this.key(uid))
    return Object.keys(data).length === 0 ? undefined : data
  }

  async save (uid: string, data: Record<string, string>, ttl: number): Promise<void> {
    const key = this.key(uid)
    const tx = this.redis.multi().del(key)
    if (Object.keys(data).length > 0) tx.hset(key, data).pexpire(key, ttl)
    await tx.exec()
  }

  async touch (uid: string, ttl: number): Promise<void> {
    await this.redis.pexpire(this.key(uid), ttl)
  }

  async delete (uid: string): Promise<void> {
    await this.redis.del(this.key(uid))
  }
}
