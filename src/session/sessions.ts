import type { Agent } from '../agent.js'
import type { GateLogger } from '../logger.js'
import type { NormalizedSessionOptions } from './options.js'
import { SessionSettings } from './settings.js'
import { MemorySessionStore, type SessionStore } from './store.js'

/**
 * Session settings and storage: makes each connection's settings, loads a
 * uid's stored settings when it binds, saves them when they change, refreshes
 * their time to live while the uid is active, and deletes them on an explicit
 * logout. A store that fails is logged; the connection goes on without it.
 */
export class Sessions {
  readonly opts: NormalizedSessionOptions
  store: SessionStore | undefined
  private readonly log: GateLogger
  private lastTouch = 0

  constructor (opts: NormalizedSessionOptions, log: GateLogger) {
    this.opts = opts
    this.log = log
  }

  /** At ready: the store (`directoryStore` is the cluster's Redis one). */
  start (directoryStore: SessionStore | undefined): void {
    const s = this.opts.store
    this.store = s === false ? undefined : s === 'auto' ? directoryStore ?? new MemorySessionStore() : s
  }

  /** A connection's settings; `onChange` runs after each change. */
  settings (onChange: () => void): SessionSettings {
    return new SessionSettings(this.opts, onChange)
  }

  /** A throwaway, to check an update before it is sent to every node. */
  check (set: Record<string, string>, remove: string[]): void {
    new SessionSettings(this.opts, () => {}).update(set, remove)
  }

  /** The uid's stored settings, or `undefined` (none, or the store failed). */
  async load (uid: string): Promise<Record<string, string> | undefined> {
    if (this.store === undefined) return undefined
    try {
      return await this.store.load(uid)
    } catch (err) {
      this.log.warn({ err, uid }, 'session load failed; logged in without stored settings')
      return undefined
    }
  }

  /** Saves `agent`'s settings as its uid's (the last connection to change them wins). */
  save (uid: string, settings: SessionSettings): void {
    this.store?.save(uid, settings.toJSON(), this.opts.ttl).catch((err: unknown) => this.log.warn({ err, uid }, 'session save failed'))
  }

  /** An explicit logout: the uid's stored settings are deleted. */
  loggedOut (uid: string): void {
    this.store?.delete(uid).catch((err: unknown) => this.log.warn({ err, uid }, 'session delete failed'))
  }

  /**
   * On the gate's timer: every quarter of `ttl`, refreshes the stored data of
   * the uids whose connections received something since the last round.
   */
  sweep (now: number, agents: Iterable<Agent<any>>): void {
    const store = this.store
    if (store === undefined || now - this.lastTouch < this.opts.ttl / 4) return
    const since = this.lastTouch
    this.lastTouch = now
    if (store instanceof MemorySessionStore) store.sweep(now)
    const active = new Set<string>()
    for (const agent of agents) if (agent.uid !== undefined && agent.lastSeen >= since && agent.hasSettings) active.add(agent.uid)
    for (const uid of active) store.touch(uid, this.opts.ttl).catch((err: unknown) => this.log.debug({ err, uid }, 'session touch failed'))
  }
}
