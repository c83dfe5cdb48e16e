import { OutboundMessage } from '../codec/outbound.js'
import type { ClusterAnswer } from '../answers.js'
import type { Directory, DirectoryStores, GateStats, LocalNode, PresenceChange, RoomMembers, RoomsPage, UserConnections, UsersPage } from '../directory/directory.js'
import { memberEvents } from '../directory/member-events.js'
import type { FramingOptions } from '../framing/length-prefix.js'
import type { GateLogger } from '../logger.js'
import type { FiguresQuestion, Operation, RemoteShare } from '../operations/operation.js'
import { ClusterBus, type Target } from './bus.js'
import { ClusterConnections } from './connections.js'
import { Deadline, within } from './deadline.js'
import type { Request } from './envelope.js'
import { clusterKeys, type ClusterKeys } from './keys.js'
import { isCluster } from './connections.js'
import { NodePresence } from './node-presence.js'
import type { NormalizedClusterOptions } from './options.js'
import { PresenceStore, type RouteRead } from './presence.js'
import { agentsByNode, uidsByNode } from './routing.js'
import { defineScripts } from './scripts.js'
import { RedisHistoryStore } from './history-store.js' // [history]
import { RedisSessionStore } from './session-store.js' // [session]
import { OutageLog } from '../outage-log.js'

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
    this.bus = new ClusterBus(this.conns.client, this.conns.sub, this.nodeId, keys.channel, (req, payload) => this.serve(req, payload), this.log)
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
  async remote (op: Operation | FiguresQuestion): Promise<RemoteShare> {
    const deadline = new Deadline(this.opts.requestTimeout)
    const uids = op.op === 'push' || op.op === 'kick' ? op.uids : op.op === 'settings' ? [op.uid] : []
    let route: RouteRead
    try {
      route = await this.store.route(uids, deadline.left, op.op === 'room' ? op.room : undefined)
      this.outage.ok()
    } catch (err) {
      this.outage.failed(err, { op: op.op })
      return { n: 0, partial: true }
    }
    const live = new Set(route.nodes)
    const asked = new Map<string, Target>()
    // [history] positions appended while the route was read (see Operations.pushToUids)
    if (op.op === 'push' && op.stored !== undefined) op = { ...op, positions: await op.stored }
    for (const [node, target] of targetsOf(op, route)) if (node !== this.nodeId && live.has(node)) asked.set(node, target)
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

  /** Does a request from another node with this node's connections. */
  private serve (req: Request, payload: Buffer): number | Buffer {
    if (req.op === 'figures') return Buffer.from(JSON.stringify(this.node.figures() ?? null))
    return this.node.run(operationOf(req, payload, this.framing))
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

/** Which node gets which request of `op`: by where its uids are bound, by its agents' ids, or every live node. */
function targetsOf (op: Operation | FiguresQuestion, route: RouteRead): Map<string, Target> {
  switch (op.op) {
    case 'push': {
      const targets = new Map<string, Target>()
      for (const [node, its] of uidsByNode(op.uids, route.agents)) {
        const req: Request = { op: 'push', uids: its, name: op.msg.name, text: op.msg.text }
        // [history] each uid's position travels with the request
        const positions = op.positions
        if (positions !== undefined) req.pos = Object.fromEntries(its.flatMap(uid => { const p = positions.get(uid); return p === undefined ? [] : [[uid, [p.epoch, p.offset]]] }))
        targets.set(node, { req, payload: op.msg.payload })
      }
      return targets
    }
    case 'kick': {
      const byUid = uidsByNode(op.uids, route.agents)
      const byAgent = agentsByNode(op.agents)
      const targets = new Map<string, Target>()
      for (const node of new Set([...byUid.keys(), ...byAgent.keys()])) {
        const req: Request = { op: 'kick', uids: byUid.get(node) ?? [], agents: byAgent.get(node) ?? [], code: op.code, reason: op.reason }
        if (op.except !== undefined) req.except = op.except
        targets.set(node, { req })
      }
      return targets
    }
    case 'settings': {
      const req: Request = { op: 'settings', uid: op.uid, set: { ...op.set }, remove: [...op.remove] }
      return new Map([...uidsByNode([op.uid], route.agents).keys()].map(node => [node, { req }]))
    }
    case 'room': {
      const req: Request = { op: 'room', room: op.room, name: op.msg.name, text: op.msg.text }
      if (op.except?.agent !== undefined) req.xa = op.except.agent
      if (op.except?.uid !== undefined) req.xu = op.except.uid
      if (op.pos !== undefined) req.pos = [op.pos.epoch, op.pos.offset] // [room history]
      const target: Target = { req, payload: op.msg.payload }
      return new Map((route.roomNodes ?? []).map(node => [node, target]))
    }
    case 'broadcast': return everyNode(route, { req: { op: 'broadcast', loggedInOnly: op.loggedInOnly, name: op.msg.name, text: op.msg.text }, payload: op.msg.payload })
    case 'figures': return everyNode(route, { req: { op: 'figures' } })
  }
}

/** The operation another node asked for, with the message it sent (encoded there, wrapped here). */
function operationOf (req: Exclude<Request, { op: 'figures' }>, payload: Buffer, framing: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'>): Operation {
  switch (req.op) {
    case 'kick': return { op: 'kick', uids: req.uids, agents: req.agents, except: req.except, code: req.code, reason: req.reason }
    case 'settings': return { op: 'settings', uid: req.uid, set: req.set, remove: req.remove } // [session]
    case 'push': {
      const msg = new OutboundMessage(req.name, payload, req.text, framing)
      // [history]
      const positions = req.pos === undefined ? undefined : new Map(Object.entries(req.pos).map(([uid, [epoch, offset]]) => [uid, { epoch, offset }]))
      return { op: 'push', uids: req.uids, msg, positions }
    }
    case 'room': {
      const msg = new OutboundMessage(req.name, payload, req.text, framing)
      const pos = req.pos === undefined ? {} : { pos: { epoch: req.pos[0], offset: req.pos[1] } } // [room history]
      if (req.xa === undefined && req.xu === undefined) return { op: 'room', room: req.room, msg, ...pos }
      return { op: 'room', room: req.room, msg, except: { agent: req.xa, uid: req.xu }, ...pos }
    }
    case 'broadcast': return { op: 'broadcast', loggedInOnly: req.loggedInOnly, msg: new OutboundMessage(req.name, payload, req.text, framing) }
  }
}

function everyNode (route: RouteRead, target: Target): Map<string, Target> {
  return new Map(route.nodes.map(node => [node, target]))
}
