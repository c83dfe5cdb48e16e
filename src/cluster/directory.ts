import type { Agent } from '../agent.js'
import { OutboundMessage } from '../codec/outbound.js'
import type { AgentDirectory, ClusterAnswer, ClusterFigures, Delivery, GateStats, KickResult, UserConnections, UsersPage } from '../directory/directory.js'
import type { NodeFigures } from '../figures/schema.js'
import type { FramingOptions } from '../framing/length-prefix.js'
import type { KickTarget, LocalAgents } from '../local-agents.js'
import type { GateLogger } from '../logger.js'
import { ClusterBus, type Target } from './bus.js'
import { ClusterConnections } from './connections.js'
import { Deadline, within } from './deadline.js'
import type { Request } from './envelope.js'
import { clusterKeys } from './keys.js'
import { NodePresence } from './node-presence.js'
import type { NormalizedClusterOptions } from './options.js'
import { PresenceStore, type RouteRead } from './presence.js'
import { agentsByNode, uidsByNode } from './routing.js'
import { defineScripts } from './scripts.js'
import { RedisHistoryStore } from './history-store.js' // [history]
import type { HistoryStore, Position } from '../history/store.js' // [history]
import type { NormalizedHistoryOptions } from '../history/options.js' // [history]
import { RedisSessionStore } from './session-store.js' // [session]
import type { SessionStore } from '../session/store.js' // [session]
import type { SettingsResult } from '../answers.js' // [session]

/**
 * The cluster directory: presence in Redis, cross-node operations over Redis
 * pub/sub. This node's own share of every operation is done directly.
 *
 * Failure policy, when Redis cannot be reached or is too slow:
 * - questions (`stats`, `users`, `user`) reject with `FST_GATE_CLUSTER_UNAVAILABLE`
 *   (503): a local answer would look complete and be wrong;
 * - operations (pushes, broadcasts, kicks) do this node's share, and answer it
 *   with `partial: true`: it was done, and cannot be undone;
 * - `isOnline` (the `reject` login policy) answers from this node alone, so
 *   logins keep working.
 * Nodes that do not answer an operation within `requestTimeout` are listed in
 * `missingNodes`, with `partial: true`.
 */
export class RedisDirectory implements AgentDirectory {
  readonly mode = 'cluster' as const
  reporter: (() => NodeFigures) | undefined = undefined
  private readonly local: LocalAgents
  private readonly framing: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'>
  private readonly opts: NormalizedClusterOptions
  private readonly nodeId: string
  private readonly log: GateLogger
  private readonly conns: ClusterConnections
  private readonly store: PresenceStore
  private readonly presence: NodePresence
  private readonly bus: ClusterBus
  private connected = false

  /** `host` is what the cluster needs of the gate: its logger and its framing options. */
  constructor (local: LocalAgents, host: { log: GateLogger, options: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'> }, opts: NormalizedClusterOptions) {
    this.local = local
    this.framing = host.options
    this.opts = opts
    this.nodeId = local.nodeId
    this.log = host.log.child({ component: 'cluster', node: local.nodeId })
    const keys = clusterKeys(opts.keyPrefix)
    this.conns = new ClusterConnections(opts, this.log)
    this.store = new PresenceStore(defineScripts(this.conns.client), keys.nodes, this.nodeId, opts.nodeTtl)
    this.presence = new NodePresence(this.store, local, opts.heartbeat, opts.requestTimeout, this.log)
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
    if (!(await this.conns.open(this.opts.nodeTtl))) {
      this.log.error('redis is unreachable; serving this node\'s connections only until it answers')
    }
    // Subscribed before publishing, so that no request to this node is missed;
    // not waited on past requestTimeout: the bus keeps trying on every reconnect.
    await within(this.bus.start(), this.opts.requestTimeout).catch(() => {})
    await this.presence.start()
  }

  async stop (): Promise<void> {
    this.conns.client.off('ready', this.onReady)
    this.conns.client.off('close', this.onClose)
    await this.presence.stop()
    this.bus.stop()
    await this.conns.close(this.opts.requestTimeout)
  }

  // ---- this node's changes ----------------------------------------------------

  added (): void {
    this.presence.counted()
  }

  removed (agent: Agent, uid: string | undefined): void {
    this.presence.counted()
    if (uid !== undefined) this.presence.unbound(agent, uid)
  }

  bound (agent: Agent, uid: string): void {
    this.presence.bound(agent, uid)
  }

  unbound (agent: Agent, uid: string): void {
    this.presence.unbound(agent, uid)
  }

  // Room pushes go to every live node, so rooms are not published.
  joined (): void {}
  left (): void {}

  // ---- questions ----------------------------------------------------------------

  async isOnline (uid: string): Promise<boolean> {
    try {
      return (await this.store.user(uid, this.opts.requestTimeout)).connections.length > 0
    } catch (err) {
      this.log.warn({ err, uid }, 'cluster unreachable; uid checked on this node only')
      return this.local.agentsOf(uid) !== undefined
    }
  }

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

  // ---- operations -------------------------------------------------------------

  async pushToUids (uids: readonly string[], msg: OutboundMessage, positions?: ReadonlyMap<string, Position>): Promise<Delivery> {
    const local = this.local.pushToUids(uids, msg, positions)
    const { n, ...answer } = await this.fanOut(local, uids, route => {
      const targets = new Map<string, Target>()
      for (const [node, its] of uidsByNode(uids, route.agents)) {
        const req: Request = { op: 'push', uids: its, name: msg.name, text: msg.text }
        // [history] each uid's position travels with the request
        if (positions !== undefined) req.pos = Object.fromEntries(its.flatMap(uid => { const p = positions.get(uid); return p === undefined ? [] : [[uid, [p.epoch, p.offset]]] }))
        targets.set(node, { req, payload: msg.payload })
      }
      return targets
    })
    return { delivered: n, ...answer }
  }

  async pushToRoom (room: string, msg: OutboundMessage): Promise<Delivery> {
    const local = this.local.pushToRoom(room, msg)
    const req: Request = { op: 'room', room, name: msg.name, text: msg.text }
    const { n, ...answer } = await this.fanOut(local, [], route => everyNode(route, { req, payload: msg.payload }))
    return { delivered: n, ...answer }
  }

  async broadcast (msg: OutboundMessage, loggedInOnly: boolean): Promise<Delivery> {
    const local = this.local.broadcast(msg, loggedInOnly)
    const req: Request = { op: 'broadcast', loggedInOnly, name: msg.name, text: msg.text }
    const { n, ...answer } = await this.fanOut(local, [], route => everyNode(route, { req, payload: msg.payload }))
    return { delivered: n, ...answer }
  }

  async kick (target: KickTarget, code: number, reason: string): Promise<KickResult> {
    const local = this.local.kick(target, code, reason)
    const uids = target.uids ?? []
    const { n, ...answer } = await this.fanOut(local, uids, route => {
      const byUid = uidsByNode(uids, route.agents)
      const byAgent = agentsByNode(target.agents ?? [])
      const targets = new Map<string, Target>()
      for (const node of new Set([...byUid.keys(), ...byAgent.keys()])) {
        const req: Request = { op: 'kick', uids: byUid.get(node) ?? [], agents: byAgent.get(node) ?? [], code, reason }
        if (target.except !== undefined) req.except = target.except
        targets.set(node, { req })
      }
      return targets
    })
    return { kicked: n, ...answer }
  }

  /**
   * Asks every other live node for its figures over the bus, within one
   * `requestTimeout`. Without Redis, this node's figures alone, marked partial.
   */
  async figures (): Promise<ClusterFigures> {
    const mine = this.reporter?.()
    const nodes = mine === undefined ? [] : [mine]
    const missing = mine === undefined ? [this.nodeId] : []
    const deadline = new Deadline(this.opts.requestTimeout)
    let live: string[]
    try {
      live = (await this.store.route([], deadline.left)).nodes
    } catch (err) {
      this.log.warn({ err }, 'cluster unreachable; figures of this node only')
      return { nodes, partial: true, missingNodes: missing }
    }
    const asked = new Map<string, Target>(live.filter(node => node !== this.nodeId).map(node => [node, { req: { op: 'figures' } }]))
    const outcome = await this.bus.request(asked, deadline.left)
    for (const node of [...asked.keys()].sort()) {
      const payload = outcome.payloads.get(node)
      const figures = payload === undefined ? null : JSON.parse(payload.toString()) as NodeFigures | null
      if (figures === null) {
        if (!outcome.missing.includes(node)) missing.push(node)
      } else {
        nodes.push(figures)
      }
    }
    missing.push(...outcome.missing)
    return missing.length === 0 ? { nodes } : { nodes, partial: true, missingNodes: missing.sort() }
  }

  /** [session] Settings of the uid's connections on every node that holds it. */
  async updateSettings (uid: string, set: Record<string, string>, remove: readonly string[]): Promise<SettingsResult> {
    const local = this.local.updateSettings(uid, set, remove)
    const req: Request = { op: 'settings', uid, set, remove: [...remove] }
    const { n, ...answer } = await this.fanOut(local, [uid], route => new Map([...uidsByNode([uid], route.agents).keys()].map(node => [node, { req }])))
    return { updated: n, ...answer }
  }

  /** [session] Session data in the cluster's Redis. */
  sessionStore (): SessionStore {
    return new RedisSessionStore(this.conns.client, this.opts.keyPrefix)
  }

  /** [history] Streams in the cluster's Redis, on the command connection. */
  historyStore (opts: NormalizedHistoryOptions): HistoryStore {
    return new RedisHistoryStore(this.conns.client, this.opts.keyPrefix, opts)
  }

  // ---- internals ----------------------------------------------------------------

  /**
   * Looks up where `uids` live (and which nodes are live), asks the other live
   * nodes `targets(route)` names, and adds their counts to this node's `local`
   * one, all within one `requestTimeout`.
   */
  private async fanOut (local: number, uids: readonly string[], targets: (route: RouteRead) => Map<string, Target>): Promise<ClusterAnswer & { n: number }> {
    const deadline = new Deadline(this.opts.requestTimeout)
    let route: RouteRead
    try {
      route = await this.store.route(uids, deadline.left)
    } catch (err) {
      this.log.warn({ err }, 'cluster unreachable; operation done on this node only')
      return { n: local, partial: true }
    }
    const live = new Set(route.nodes)
    const asked = new Map<string, Target>()
    for (const [node, target] of targets(route)) if (node !== this.nodeId && live.has(node)) asked.set(node, target)
    const outcome = await this.bus.request(asked, deadline.left)
    if (outcome.missing.length === 0) return { n: local + outcome.n }
    return { n: local + outcome.n, partial: true, missingNodes: outcome.missing }
  }

  /** A cluster answer read while this node's own presence is not in Redis is partial. */
  private unpublished (registered: boolean): ClusterAnswer {
    if (registered && this.presence.published) return {}
    void this.presence.wake()
    return { partial: true, missingNodes: [this.nodeId] }
  }

  /** Does a request from another node with this node's connections. */
  private serve (req: Request, payload: Buffer): number | Buffer {
    if (req.op === 'kick') return this.local.kick(req, req.code, req.reason)
    if (req.op === 'figures') return Buffer.from(JSON.stringify(this.reporter?.() ?? null))
    if (req.op === 'settings') return this.local.updateSettings(req.uid, req.set, req.remove) // [session]
    const msg = new OutboundMessage(req.name, payload, req.text, this.framing)
    switch (req.op) {
      case 'push': return this.local.pushToUids(req.uids, msg, req.pos === undefined ? undefined : new Map(Object.entries(req.pos).map(([uid, [epoch, offset]]) => [uid, { epoch, offset }]))) // [history]
      case 'room': return this.local.pushToRoom(req.room, msg)
      case 'broadcast': return this.local.broadcast(msg, req.loggedInOnly)
    }
  }

  private readonly onReady = (): void => {
    if (!this.connected) this.log.info('redis connected')
    this.connected = true
    void this.presence.resync()
  }

  private readonly onClose = (): void => {
    if (this.connected) this.log.warn('redis connection lost; serving this node\'s connections, retrying')
    this.connected = false
  }
}

function everyNode (route: RouteRead, target: Target): Map<string, Target> {
  return new Map(route.nodes.map(node => [node, target]))
}
