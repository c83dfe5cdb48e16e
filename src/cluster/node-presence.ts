import type { Agent } from '../agent.js'
import type { AgentIndex } from '../agent-index.js'
import type { GateLogger } from '../logger.js'
import type { Changes, PresenceStore, Snapshot } from './presence.js'

/**
 * Keeps this node's presence in Redis (uids and room members) equal to its `AgentIndex`:
 * - changes are batched per tick into one script call;
 * - a heartbeat extends the node's deadline every `heartbeat` ms;
 * - when Redis refuses a write or a heartbeat (it restarted empty, or a
 *   survivor reaped this node) or cannot be reached, the node is `stale`: it
 *   stops writing changes and the next tick republishes a full snapshot.
 *
 * Ordering contract: the snapshot is taken, and the queue emptied, in the same
 * tick as the publish starts; later changes wait until it is done (a publish
 * is several scripts, one per slot), so Redis applies them on top of the
 * snapshot. Changes of one bucket go on one connection, in order.
 */
export class NodePresence {
  private readonly store: PresenceStore
  private readonly local: AgentIndex
  private readonly heartbeat: number
  private readonly timeout: number
  private readonly log: GateLogger
  private ops: string[] = []
  private roomOps: string[] = []
  /** Logged-in connections whose rooms changed: their uid entry is written again at the next flush. */
  private refreshing = new Set<Agent>()
  private countsChanged = false
  private flushScheduled = false
  private stale = true
  private readonly settle: number
  /** Until when the other nodes may still be rejoining (see `settle`). */
  private settledAt = 0
  /** Set while a full publish is under way: changes wait for it, then go on top of it. */
  private publishing = false
  /** Bumped by every republish; refusals of older writes are ignored. */
  private generation = 0
  private ticking: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined

  /**
   * `settle`: after a republish (Redis lost this node's presence, or a
   * reconnect or failover), how long the other nodes may take to be back in
   * Redis too (`nodeTtl`: a live node republishes within it, or counts as dead).
   */
  constructor (store: PresenceStore, local: AgentIndex, heartbeat: number, timeout: number, log: GateLogger, settle: number) {
    this.store = store
    this.local = local
    this.heartbeat = heartbeat
    this.timeout = timeout
    this.settle = settle
    this.log = log
  }

  /** Whether other nodes may still be rejoining after this node's last republish. */
  get settling (): boolean {
    return Date.now() < this.settledAt
  }

  /** Whether Redis holds this node's presence, as far as this node knows. */
  get published (): boolean {
    return !this.stale
  }

  /** Publishes now, then heartbeats; resolves after the first attempt, successful or not. */
  async start (): Promise<void> {
    this.timer = setInterval(() => { void this.wake() }, this.heartbeat)
    this.timer.unref()
    await this.wake()
  }

  /** Stops writing and removes this node's presence from Redis. */
  async stop (): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    await this.ticking
    this.stale = true
    this.ops = []
    this.roomOps = []
    this.refreshing.clear()
    try {
      await this.store.leave(this.timeout)
    } catch (err) {
      this.log.warn({ err }, 'could not remove this node\'s presence; survivors will purge it')
    }
  }

  /**
   * Republishes the whole presence now. Called on every (re)connect: a Redis
   * that restarted, or a replica promoted by Sentinel, may still hold this
   * node's record and yet miss its latest writes.
   */
  async resync (): Promise<void> {
    this.stale = true
    await this.wake()
  }

  /** Runs a heartbeat (or a republish when stale) now, unless one is running. */
  async wake (): Promise<void> {
    if (this.timer === undefined) return
    this.ticking ??= this.tick().finally(() => { this.ticking = undefined })
    await this.ticking
  }

  /** The node's connection counts changed. */
  counted (): void {
    this.countsChanged = true
    this.schedule()
  }

  bound (agent: Agent, uid: string): void {
    this.ops.push('b', agent.id, uid, JSON.stringify(this.local.info(agent)))
    this.schedule()
  }

  unbound (agent: Agent, uid: string): void {
    this.ops.push('u', agent.id, uid)
    this.schedule()
  }

  /** The connection is a member of `room` (new, or its uid changed). */
  joined (agent: Agent, room: string): void {
    this.roomOps.push('j', agent.id, room, agent.uid ?? '', JSON.stringify(this.local.member(agent)))
    this.schedule()
  }

  left (agent: Agent, room: string): void {
    this.roomOps.push('l', agent.id, room)
    this.schedule()
  }

  /** A logged-in connection's rooms changed: its uid entry (which lists them) is written again, once per flush. */
  refresh (agent: Agent): void {
    this.refreshing.add(agent)
    this.schedule()
  }

  private schedule (): void {
    if (this.stale) {
      this.ops = []
      this.roomOps = []
      this.refreshing.clear()
      return
    }
    if (this.flushScheduled || this.publishing) return
    this.flushScheduled = true
    queueMicrotask(() => this.flush())
  }

  private flush (): void {
    this.flushScheduled = false
    for (const agent of this.refreshing) {
      const uid = agent.uid
      if (uid !== undefined && this.local.get(agent.id) === agent) this.ops.push('b', agent.id, uid, JSON.stringify(this.local.info(agent)))
    }
    this.refreshing.clear()
    const changes: Changes = { ops: this.ops, rooms: this.roomOps }
    this.ops = []
    this.roomOps = []
    if (this.countsChanged) {
      changes.counts = { ...this.local.transports, protocols: this.local.protocols }
      this.countsChanged = false
    }
    if (this.stale || (changes.ops.length === 0 && changes.rooms.length === 0 && changes.counts === undefined)) return
    const generation = this.generation
    this.store.apply(changes, this.timeout).then(
      ok => { if (!ok) this.lost(generation, 'this node is not registered') },
      (err: Error) => this.lost(generation, err.message)
    )
  }

  private lost (generation: number, why: string): void {
    if (generation !== this.generation || this.stale) return
    this.log.warn({ why }, 'cluster presence write failed; republishing')
    this.stale = true
    void this.wake()
  }

  private async tick (): Promise<void> {
    try {
      if (this.stale) {
        await this.republish()
      } else if (!(await this.store.heartbeat(this.timeout))) {
        this.log.warn('this node\'s record is gone from Redis; republishing')
        await this.republish()
      }
    } catch (err) {
      if (!this.stale) this.log.warn({ err }, 'cluster heartbeat failed')
      this.stale = true
    }
  }

  private async republish (): Promise<void> {
    this.generation++
    this.stale = false
    this.ops = []
    this.roomOps = []
    this.refreshing.clear()
    this.countsChanged = false
    const snapshot = this.snapshot()
    this.publishing = true
    try {
      await this.store.sync(snapshot, this.timeout)
    } catch (err) {
      this.stale = true
      throw err
    } finally {
      this.publishing = false
    }
    if (this.ops.length > 0 || this.roomOps.length > 0 || this.refreshing.size > 0 || this.countsChanged) this.schedule()
    // The first publish is a start; a later one is a rejoin, and so may be the other nodes'.
    if (this.generation > 1) this.settledAt = Date.now() + this.settle
    this.log.info({ connections: snapshot.ws + snapshot.tcp, bound: snapshot.bound.length }, 'cluster presence published')
  }

  private snapshot (): Snapshot {
    const bound: Snapshot['bound'] = []
    const members: Snapshot['members'] = []
    for (const agent of this.local.all()) {
      if (agent.uid !== undefined) bound.push([agent.id, agent.uid, JSON.stringify(this.local.info(agent))])
      if (agent.rooms.size === 0) continue
      const member = JSON.stringify(this.local.member(agent))
      for (const room of agent.rooms) members.push([agent.id, room, agent.uid ?? '', member])
    }
    return { ...this.local.transports, protocols: this.local.protocols, bound, members }
  }
}
