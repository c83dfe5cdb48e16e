/**
 * Where a uid's session data (its settings) is kept between connections, as
 * mqant's `StorageHandler`: loaded on bind, saved on change, its time to live
 * refreshed on activity, deleted on an explicit logout. Any object with these
 * four methods will do (the `session.store` option); the gate's own are
 * `MemorySessionStore` (single node) and `RedisSessionStore` (cluster).
 */
export interface SessionStore {
  /** The stored data, or `undefined` when there is none (never saved, expired or deleted). */
  load (uid: string): Promise<Record<string, string> | undefined>
  /** Replaces the stored data; it expires `ttl` ms from now unless touched. */
  save (uid: string, data: Record<string, string>, ttl: number): Promise<void>
  /** Pushes the expiry `ttl` ms ahead (mqant's `Heartbeat`). */
  touch (uid: string, ttl: number): Promise<void>
  delete (uid: string): Promise<void>
}

/** The single-node store: a Map with expiry, bounded in entries (the oldest saved goes first). */
export class MemorySessionStore implements SessionStore {
  private readonly entries = new Map<string, { data: Record<string, string>, expires: number }>()
  private readonly maxEntries: number
  private readonly now: () => number

  constructor (maxEntries = 100_000, now: () => number = Date.now) {
    this.maxEntries = maxEntries
    this.now = now
  }

  async load (uid: string): Promise<Record<string, string> | undefined> {
    const e = this.entries.get(uid)
    if (e === undefined) return undefined
    if (e.expires <= this.now()) {
      this.entries.delete(uid)
      return undefined
    }
    return { ...e.data }
  }

  async save (uid: string, data: Record<string, string>, ttl: number): Promise<void> {
    this.entries.delete(uid)
    if (Object.keys(data).length === 0) return
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!)
    this.entries.set(uid, { data: { ...data }, expires: this.now() + ttl })
  }

  async touch (uid: string, ttl: number): Promise<void> {
    const e = this.entries.get(uid)
    if (e !== undefined) e.expires = this.now() + ttl
  }

  async delete (uid: string): Promise<void> {
    this.entries.delete(uid)
  }

  /** Drops expired entries. */
  sweep (now: number): void {
    for (const [uid, e] of this.entries) if (e.expires <= now) this.entries.delete(uid)
  }
}
