import type { OutboundMessage } from '../codec/outbound.js'
import type { KickTarget, LocalAgents } from '../local-agents.js'
import type { NodeFigures } from '../figures/schema.js'
import type { Position } from '../history/store.js'
import type { AgentDirectory, ClusterFigures, Delivery, GateStats, KickResult, UserConnections, UsersPage } from './directory.js'
import type { SettingsResult } from '../answers.js'

/** The single-node directory: every answer comes from this node's memory. */
export class LocalDirectory implements AgentDirectory {
  readonly mode = 'local' as const
  reporter: (() => NodeFigures) | undefined = undefined
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
      protocols: { leaf: 0, mqtt: 0, ...this.local.protocols },
      node: this.local.nodeId,
      mode: this.mode
    }
  }

  async users (offset: number, limit: number, prefix = ''): Promise<UsersPage> {
    const uids = this.local.uids()
    const [start, end] = prefixRange(uids, prefix)
    const from = Math.min(start + offset, end)
    const items = uids.slice(from, Math.min(from + limit, end)).map(uid => ({ uid, connections: this.local.agentsOf(uid)?.size ?? 0 }))
    return { total: end - start, offset, limit, items }
  }

  async user (uid: string): Promise<UserConnections | null> {
    const set = this.local.agentsOf(uid)
    if (set === undefined) return null
    return { uid, connections: [...set].map(agent => this.local.info(agent)) }
  }

  async pushToUids (uids: readonly string[], msg: OutboundMessage, positions?: ReadonlyMap<string, Position>): Promise<Delivery> {
    return { delivered: this.local.pushToUids(new Set(uids), msg, positions) }
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

  async updateSettings (uid: string, set: Record<string, string>, remove: readonly string[]): Promise<SettingsResult> {
    return { updated: this.local.updateSettings(uid, set, remove) }
  }

  async figures (): Promise<ClusterFigures> {
    const mine = this.reporter?.()
    return mine === undefined ? { nodes: [], partial: true, missingNodes: [this.local.nodeId] } : { nodes: [mine] }
  }
}

/**
 * Where the strings that start with `prefix` are in `sorted` (ordered by UTF-16
 * code unit, where they sit side by side): `[start, end)`, found by two binary
 * searches, so a page of a prefix costs O(log n) whatever the number of uids.
 */
export function prefixRange (sorted: readonly string[], prefix: string): [number, number] {
  if (prefix === '') return [0, sorted.length]
  const search = (from: number, before: (s: string) => boolean): number => {
    let lo = from
    let hi = sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (before(sorted[mid])) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  const start = search(0, s => s < prefix)
  return [start, search(start, s => s.startsWith(prefix))]
}
