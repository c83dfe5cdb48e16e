import type { ConnectionInfo } from '../local-agents.js'
import { within } from './deadline.js'
import type { PresenceScripts } from './scripts.js'

/** This node's whole presence, as republished after Redis lost it. */
export interface Snapshot {
  ws: number
  tcp: number
  /** Open connections by protocol. */
  protocols: Record<string, number>
  /** Logged-in connections: agent id, uid, ConnectionInfo JSON. */
  bound: Array<[string, string, string]>
}

/** Every read says whether this node was registered when it ran. */
interface Read { registered: boolean }

export interface StatsRead extends Read { nodes: number, ws: number, tcp: number, onlineUsers: number, protocols: Record<string, number> }
export interface UsersRead extends Read { total: number, items: Array<{ uid: string, connections: number }> }
export interface UserRead extends Read { connections: ConnectionInfo[] }
export interface RouteRead extends Read {
  /** Live nodes, this one included when registered. */
  nodes: string[]
  /** Per asked uid, the ids of its connections on live nodes. */
  agents: string[][]
}

/**
 * Typed calls to the presence scripts for one node. Every call is bounded by
 * `ms` and fails with `FST_GATE_CLUSTER_UNAVAILABLE`.
 */
export class PresenceStore {
  private readonly scripts: PresenceScripts
  private readonly nodesKey: string
  private readonly nodeId: string
  private readonly nodeTtl: number

  constructor (scripts: PresenceScripts, nodesKey: string, nodeId: string, nodeTtl: number) {
    this.scripts = scripts
    this.nodesKey = nodesKey
    this.nodeId = nodeId
    this.nodeTtl = nodeTtl
  }

  /** Registers this node and replaces its presence with `snapshot`. */
  async sync (snapshot: Snapshot, ms: number): Promise<void> {
    await within(this.scripts.gateSync(this.nodesKey, this.nodeId, this.nodeTtl, snapshot.ws, snapshot.tcp, JSON.stringify(snapshot.protocols), ...snapshot.bound.flat()), ms)
  }

  /** Extends this node's deadline; false when it is not registered. */
  async heartbeat (ms: number): Promise<boolean> {
    return await within(this.scripts.gateHeartbeat(this.nodesKey, this.nodeId, this.nodeTtl), ms) === 1
  }

  /** Applies incremental changes (see `PresenceWriter`); false when this node is not registered. */
  async apply (ops: readonly string[], ms: number): Promise<boolean> {
    return await within(this.scripts.gateApply(this.nodesKey, this.nodeId, ...ops), ms) === 1
  }

  /** Removes this node's presence. */
  async leave (ms: number): Promise<void> {
    await within(this.scripts.gateLeave(this.nodesKey, this.nodeId), ms)
  }

  async stats (ms: number): Promise<StatsRead> {
    const [registered, nodes, ws, tcp, onlineUsers, ...perNode] = await within(this.scripts.gateStats(this.nodesKey, this.nodeId), ms) as [number, number, number, number, number, ...string[]]
    const protocols: Record<string, number> = {}
    for (const json of perNode) {
      let counts: unknown
      try { counts = JSON.parse(json) } catch { continue }
      for (const [name, n] of Object.entries(counts as Record<string, unknown>)) if (typeof n === 'number') protocols[name] = (protocols[name] ?? 0) + n
    }
    return { registered: registered === 1, nodes, ws, tcp, onlineUsers, protocols }
  }

  /** A page of the uids that start with `prefix` ('' for all). */
  async users (offset: number, limit: number, prefix: string, ms: number): Promise<UsersRead> {
    const [registered, total, ...rest] = await within(this.scripts.gateUsers(this.nodesKey, this.nodeId, offset, limit, prefix), ms) as Array<string | number>
    const items: UsersRead['items'] = []
    for (let i = 0; i < rest.length; i += 2) items.push({ uid: String(rest[i]), connections: Number(rest[i + 1]) })
    return { registered: registered === 1, total: Number(total), items }
  }

  async user (uid: string, ms: number): Promise<UserRead> {
    const [registered, ...infos] = await within(this.scripts.gateUser(this.nodesKey, this.nodeId, uid), ms) as Array<string | number>
    const connections = infos.map(json => JSON.parse(String(json)) as ConnectionInfo)
    connections.sort((a, b) => a.connectedAt < b.connectedAt ? -1 : a.connectedAt > b.connectedAt ? 1 : a.id < b.id ? -1 : 1)
    return { registered: registered === 1, connections }
  }

  /** Live nodes, and where each uid's connections are. */
  async route (uids: readonly string[], ms: number): Promise<RouteRead> {
    const [registered, nodes, ...agents] = await within(this.scripts.gateRoute(this.nodesKey, this.nodeId, ...uids), ms) as [number, string[], ...string[][]]
    return { registered: registered === 1, nodes, agents }
  }
}
