import type { Redis } from 'ioredis'
import type { SessionStore } from '../session/store.js'

/**
 * Session data in Redis, on the gate's command connection:
 *
 *   T:session:<uid>   HASH  setting key -> value, expiring `ttl` ms after the last save or touch
 *
 * A save replaces the hash in one MULTI, so a reader never sees half of it.
 */
export class RedisSessionStore implements SessionStore {
  private readonly redis: Redis
  private readonly tag: string

  constructor (client: Redis, keyPrefix: string) {
    this.redis = client
    this.tag = `{${keyPrefix}}`
  }

  private key (uid: string): string {
    return `${this.tag}:session:${uid}`
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
