import type { OutboundMessage } from '../codec/outbound.js'
import type { KickTarget, LocalAgents } from '../local-agents.js'
import type { AgentDirectory, Delivery, GateStats, KickResult, UserConnections, UsersPage } from './directory.js'

/** The single-node directory: every answer comes from this node's memory. */
export class LocalDirectory implements AgentDirectory {
  readonly mode = 'local' as const
  private readonly local: LocalAgents

  constructor (local: LocalAgents) {
    this.local = local
  }

  async start (): Promise<void> {}
  async stop (): Promise<void> {}
  added (): void {}
  removed (): void {}
  bound (): void {}
  unbound (): void {}
  joined (): void {}
  left (): void {}

  async isOnline (uid: string): Promise<boolean> {
    return this.local.agentsOf(uid) !== undefined
  }

  async stats (): Promise<GateStats> {
    return {
      onlineUsers: this.local.onlineUsers,
      connections: this.local.connections,
      nodes: 1,
      transports: this.local.transports,
      node: this.local.nodeId,
      mode: this.mode
    }
  }

  async users (offset: number, limit: number): Promise<UsersPage> {
    const uids = this.local.uids()
    const items = uids.slice(offset, offset + limit).map(uid => ({ uid, connections: this.local.agentsOf(uid)?.size ?? 0 }))
    return { total: uids.length, offset, limit, items }
  }

  async user (uid: string): Promise<UserConnections | null> {
    const set = this.local.agentsOf(uid)
    if (set === undefined) return null
    return { uid, connections: [...set].map(agent => this.local.info(agent)) }
  }

  async pushToUids (uids: readonly string[], msg: OutboundMessage): Promise<Delivery> {
    return { delivered: this.local.pushToUids(new Set(uids), msg) }
  }

  async pushToRoom (room: string, msg: OutboundMessage): Promise<Delivery> {
    return { delivered: this.local.pushToRoom(room, msg) }
  }

  async broadcast (msg: OutboundMessage, loggedInOnly: boolean): Promise<Delivery> {
    return { delivered: this.local.broadcast(msg, loggedInOnly) }
  }

  async kick (target: KickTarget, code: number, reason: string): Promise<KickResult> {
    return { kicked: this.local.kick(target, code, reason) }
  }
}
