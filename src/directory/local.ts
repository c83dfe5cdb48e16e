import type { GateStats, RoomMembers, RoomsPage, UserConnections, UsersPage } from '../answers.js'
import { compareStrings, type AgentIndex } from '../agent-index.js'
import type { RemoteShare } from '../operations/operation.js'
import type { PresenceEvents } from '../presence-events.js'
import type { Directory, LocalNode, PresenceChange } from './directory.js'
import { memberEvents } from './member-events.js'

/** The single-node directory: presence is this node's memory, and there is no other node to ask. */
export class LocalDirectory implements Directory {
  readonly mode = 'local' as const
  private readonly local: AgentIndex
  private readonly events: PresenceEvents

  constructor (node: LocalNode) {
    this.local = node.agents
    this.events = node.events
  }

  async start (): Promise<void> {}
  async stop (): Promise<void> {}

  /** The index is the presence: only the hooks are told. */
  changed (change: PresenceChange): void {
    memberEvents(change, this.local.nodeId, this.events)
    if (!this.events.wanted) return
    const node = this.local.nodeId
    if (change.kind === 'bound' && change.first === true) {
      this.events.emit({ type: 'online', uid: change.uid, node, died: false })
    } else if ((change.kind === 'unbound' || change.kind === 'disconnected') && change.uid !== undefined && this.local.agentsOf(change.uid) === undefined) {
      this.events.emit({ type: 'offline', uid: change.uid, node, died: false })
    }
  }

  async remote (): Promise<RemoteShare> {
    return { n: 0 }
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

  async rooms (offset: number, limit: number): Promise<RoomsPage> {
    const rooms = this.local.rooms()
    const items = rooms.slice(offset, offset + limit).map(room => {
      const members = this.local.members(room)!
      const uids = new Set<string>()
      for (const agent of members) if (agent.uid !== undefined) uids.add(agent.uid)
      return { room, connections: members.size, uids: uids.size }
    })
    return { total: rooms.length, offset, limit, items }
  }

  async room (room: string, offset: number, limit: number): Promise<RoomMembers | null> {
    const members = this.local.members(room)
    if (members === undefined) return null
    const ids = [...members].sort((a, b) => compareStrings(a.id, b.id))
    return { room, total: ids.length, offset, limit, items: ids.slice(offset, offset + limit).map(agent => this.local.member(agent)) }
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
