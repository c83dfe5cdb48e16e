import type { ClusterAnswer } from '../answers.js'
import type { Directory, DirectoryStores, GateStats, LocalNode, PresenceChange, RoomMembers, RoomsPage, UserConnections, UsersPage } from '../directory/directory.js'
import { memberEvents } from '../directory/member-events.js'
import type { FramingOptions } from '../framing/length-prefix.js'
import type { GateLogger } from '../logger.js'
import { UnknownOperation, wireFormOf, type Ask, type RemoteShare } from '../operations/operation.js'
import { ClusterBus } from './bus.js'
import { ClusterConnections } from './connections.js'
import { Deadline, within } from './deadline.js'
import { operationOf, requestOf, type Target, type WireHead } from './envelope.js'
import { clusterKeys, type ClusterKeys } from './keys.js'
import { isCluster } from './connections.js'
import { NodePresence } from './node-presence.js'
import type { NormalizedClusterOptions } from './options.js'
import { PresenceStore, type RouteRead } from './presence.js'
import { sharesOf } from './routing.js'
import { defineScripts } from './scripts.js'
import { RedisHistoryStore } from './history-store.js' // [history]
import { RedisSessionStore } from './session-store.js' // [session]
import { OutageLog } from '../outage-log.js'

/** At most this many unknown op names are remembered (and logged). */
const MAX_UNKNOWN_OPS = 16

/**
 * The cluster directory: presence in Redis, the other nodes' share of every
 * operation over Redis pub/sub (the gate does this node's share itself).
 *
 * Failure policy, when Redis cannot be reached or is too slow:
 * - questions (`stats`, `users`, `user`) reject with `FST_GATE_CLUSTER_UNAVAILABLE`
 *   (503): a local answer would look complete and be wrong;
 * - operations (pushes, broadcasts, kicks) answer `partial: true`: this node's
 *   share was done, and cannot be undone.
 * Nodes that do not answer an operation within `requestTimeout` are listed in
 * `missingNodes`, with `partial: true`.
 */
export class RedisDirectory implements Directory {
  readonly mode = 'cluster' as const
  private readonly node: LocalNode
  private readonly framing: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'>
  private readonly opts: NormalizedClusterOptions
  private readonly nodeId: string
  private readonly log: GateLogger
  private readonly conns: ClusterConnections
  private readonly keys: ClusterKeys
  private readonly store: PresenceStore
  private readonly presence: NodePresence
  private readonly bus: ClusterBus
  private connected = false
  /** Operations that could not reach Redis: logged once per outage, not per push. */
  private readonly outage: OutageLog
  /** Op names other nodes asked for that have no wire form here, logged once each. */
  private readonly unknownOps = new Set<string>()

  /** `host` is what the cluster needs of the gate: its logger and its framing options. */
  constructor (node: LocalNode, host: { log: GateLogger, options: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'> }, opts: NormalizedClusterOptions) {
    this.node = node
    this.framing = host.options
    this.opts = opts
    this.nodeId = node.nodeId
    this.log = host.log.child({ part: 'cluster', node: node.nodeId })
    const keys = this.keys = clusterKeys(opts.keyPrefix, opts.indexBuckets)
    this.conns = new ClusterConnections(opts, this.log)
    this.outage = new OutageLog(this.log, 'cluster unreachable; operations are done on this node only until it answers', 'cluster reachable again; operations reach every node')
    this.store = new PresenceStore(defineScripts(this.conns.client), keys, this.nodeId, opts.nodeTtl, node.events)
    this.presence = new NodePresence(this.store, node.agents, opts.heartbeat, opts.requestTimeout, this.log, opts.nodeTtl)
    this.bus = new ClusterBus(this.conns.client, this.conns.sub, this.nodeId, keys.channel, (head, payload, from) => this.serve(head, payload, from), this.log, opts.batch)
  }

  /**
   * Connects, subscribes and publishes this node. When Redis cannot be reached
   * within `nodeTtl`, it logs an error and serves this node's connections;
   * everything is retried, and published as soon as Redis answers.
   */
  async start (): Promise<void> {
    const client = this.conns.client
    client.on('ready', this.onReady)
    client.on('close', this.onClose)
    if (isCluster(client)) client.on('-node', this.onNodeGone)
    if (!(await this.conns.open(this.opts.nodeTtl))) {
      this.log.error('redis is unreachable; serving this node\'s connections only until it answers')
    } else {
      await this.conns.checkVersion(this.opts.requestTimeout).catch(async (err: Error & { code?: string }) => {
        if (err.code !== 'FST_GATE_REDIS_VERSION') return
        await this.conns.close(this.opts.requestTimeout)
        throw err
      })
    }
    // Subscribed before publishing, so that no request to this node is missed;
    // not waited on past requestTimeout: the bus keeps trying on every reconnect.
    await within(this.bus.start(), this.opts.requestTimeout).catch(() => {})
    await this.presence.start()
  }

  async stop (): Promise<void> {
    this.conns.client.off('ready', this.onReady)
    this.conns.client.off('close', this.onClose)
    this.conns.client.off('-node', this.onNodeGone)
    await this.presence.stop()
    this.bus.stop()
    await this.conns.close(this.opts.requestTimeout)
  }

  // ---- this node's changes ----------------------------------------------------

  /**
   * Uids and room members are published (batched per tick); join and leave
   * events fire here at once, online and offline once Redis answered.
   */
  changed (change: PresenceChange): void {
    memberEvents(change, this.nodeId, this.node.events)
    const { agent } = change
    switch (change.kind) {
      case 'connected':
        this.presence.counted()
        break
      case 'disconnected':
        this.presence.counted()
        if (change.uid !== undefined) this.presence.unbound(agent, change.uid)
        for (const room of agent.rooms) this.presence.left(agent, room)
        break
      case 'bound':
        this.presence.bound(agent, change.uid)
        // A new uid (not a settings change): the member entries carry it.
        if (change.first !== undefined) for (const room of agent.rooms) this.presence.joined(agent, room)
        break
      case 'unbound':
        this.presence.unbound(agent, change.uid)
        for (const room of agent.rooms) this.presence.joined(agent, room)
        break
      case 'joined':
      case 'left':
        if (change.kind === 'joined') this.presence.joined(agent, change.room)
        else this.presence.left(agent, change.room)
        if (agent.uid !== undefined) this.presence.refresh(agent)
    }
  }

  // ---- questions ----------------------------------------------------------------

  async stats (): Promise<GateStats> {
    const r = await this.store.stats(this.opts.requestTimeout)
    return {
      onlineUsers: r.onlineUsers,
      connections: r.ws + r.tcp,
      nodes: r.nodes,
      transports: { ws: r.ws, tcp: r.tcp },
      protocols: { leaf: 0, mqtt: 0, ...r.protocols },
      node: this.nodeId,
      mode: this.mode,
      ...this.unpublished(r.registered)
    }
  }

  async users (offset: number, limit: number, prefix = ''): Promise<UsersPage> {
    const r = await this.store.users(offset, limit, prefix, this.opts.requestTimeout)
    return { total: r.total, offset, limit, items: r.items, ...this.unpublished(r.registered) }
  }

  async user (uid: string): Promise<UserConnections | null> {
    const r = await this.store.user(uid, this.opts.requestTimeout)
    if (r.connections.length === 0) return null
    return { uid, connections: r.connections, ...this.unpublished(r.registered) }
  }

  async rooms (offset: number, limit: number): Promise<RoomsPage> {
    const r = await this.store.rooms(offset, limit, this.opts.requestTimeout)
    return { total: r.total, offset, limit, items: r.items, ...this.unpublished(r.registered) }
  }

  async room (room: string, offset: number, limit: number): Promise<RoomMembers | null> {
    const r = await this.store.room(room, offset, limit, this.opts.requestTimeout)
    if (r.total === 0) return null
    return { room, total: r.total, offset, limit, items: r.items, ...this.unpublished(r.registered) }
  }

  // ---- the other nodes' share ---------------------------------------------------

  /**
   * Looks up which live nodes may hold the targets (uids: where they are bound;
   * agents: their node; rooms: the nodes with members of it; broadcasts: every
   * live node) and asks them, all within one `requestTimeout`.
   */
  async remote (ask: Ask): Promise<RemoteShare> {
    const form = wireFormOf(ask.op)
    const deadline = new Deadline(this.opts.requestTimeout)
    const reach = form.reach(ask)
    let route: RouteRead
    try {
      route = await this.store.route(reach.to === 'uids' ? reach.uids : [], deadline.left, reach.to === 'room' ? reach.room : undefined)
      this.outage.ok()
    } catch (err) {
      this.outage.failed(err, { op: ask.op })
      return { n: 0, partial: true }
    }
    const live = new Set(route.nodes)
    const asked = new Map<string, Target>()
    // [history] positions appended while the route was read (see Operations.pushToUids)
    if (form.settle !== undefined) ask = await form.settle(ask)
    for (const [node, share] of sharesOf(reach, route)) if (node !== this.nodeId && live.has(node)) asked.set(node, requestOf(ask, share))
    const outcome = await this.bus.request(asked, deadline.left)
    const share: RemoteShare = { n: outcome.n, replies: outcome.payloads }
    if (outcome.missing.length > 0) return { ...share, partial: true, missingNodes: outcome.missing }
    // While this node rejoins (Redis restarted, or it was reaped), and for
    // nodeTtl after, other nodes may not be back in Redis yet: the answer may
    // miss their connections.
    if (!route.registered || !this.presence.published || this.presence.settling) {
      void this.presence.wake()
      return { ...share, partial: true }
    }
    return share
  }

  /** [history] Streams in the cluster's Redis, on the command connection; [session] session data beside them. */
  stores (): DirectoryStores {
    return {
      history: opts => new RedisHistoryStore(this.conns.client, this.keys, opts),
      session: () => new RedisSessionStore(this.conns.client, this.keys)
    }
  }

  // ---- internals ----------------------------------------------------------------

  /** A cluster answer read while this node's own presence is not in Redis is partial. */
  private unpublished (registered: boolean): ClusterAnswer {
    if (registered && this.presence.published) return {}
    void this.presence.wake()
    return { partial: true, missingNodes: [this.nodeId] }
  }

  /**
   * Does a request from another node with this node's connections. An op
   * without a wire form here (a newer node's, in a rolling upgrade) is logged
   * once per name and not answered: the asking node counts this one missing.
   */
  private serve (head: WireHead, payload: Buffer, from: string): number | Buffer | undefined {
    let ask: Ask
    try {
      ask = operationOf(head, payload, this.framing)
    } catch (err) {
      if (!(err instanceof UnknownOperation)) throw err
      if (this.unknownOps.size < MAX_UNKNOWN_OPS && !this.unknownOps.has(err.op)) {
        this.unknownOps.add(err.op)
        this.log.warn({ op: err.op, from }, 'a node asked for a cluster operation this node does not know; not answered')
      }
      return undefined
    }
    if (ask.op === 'figures') return Buffer.from(JSON.stringify(this.node.figures() ?? null))
    return this.node.run(ask)
  }

  private readonly onReady = (): void => {
    if (!this.connected) this.log.info('redis connected')
    this.connected = true
    void this.presence.resync()
  }

  /**
   * A Redis Cluster dropped a server from its map (a master failed and its
   * replica took over, or a resharding): the new master may have missed this
   * node's latest writes, so it republishes everything.
   */
  private readonly onNodeGone = (): void => {
    this.log.info('redis cluster topology changed; republishing presence')
    void this.presence.resync()
  }

  private readonly onClose = (): void => {
    if (this.connected) this.log.warn('redis connection lost; serving this node\'s connections, retrying')
    this.connected = false
  }
}
