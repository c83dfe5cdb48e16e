import type { Agent } from './agent.js'
import type { ConnectionInfo } from './answers.js'
import type { OutboundMessage } from './codec/outbound.js'
import type { Position } from './history/store.js' // [history]

export type { ConnectionInfo } from './answers.js'

/** Who to kick. */
export interface KickTarget {
  uids?: readonly string[]
  agents?: readonly string[]
  /** Spare this connection (the one that just logged in under `replace`). */
  except?: string
}

/**
 * This node's connections, indexed by id, uid and room. Everything here is
 * synchronous and local; the directories build cluster answers on top of it.
 */
export class LocalAgents {
  readonly nodeId: string
  private readonly byId = new Map<string, Agent>()
  private readonly byUid = new Map<string, Set<Agent>>()
  private readonly byRoom = new Map<string, Set<Agent>>()
  private sortedUids: string[] | undefined
  private tcp = 0
  private readonly byProtocol = new Map<string, number>()

  constructor (nodeId: string) {
    this.nodeId = nodeId
  }

  get connections (): number {
    return this.byId.size
  }

  get onlineUsers (): number {
    return this.byUid.size
  }

  get transports (): { ws: number, tcp: number } {
    return { ws: this.byId.size - this.tcp, tcp: this.tcp }
  }

  /** Open connections by protocol name. */
  get protocols (): Record<string, number> {
    return Object.fromEntries(this.byProtocol)
  }

  add (agent: Agent): void {
    this.byId.set(agent.id, agent)
    if (agent.transport === 'tcp') this.tcp++
    this.byProtocol.set(agent.protocol, (this.byProtocol.get(agent.protocol) ?? 0) + 1)
  }

  /**
   * Takes the agent out of every index (id, uid, rooms). The agent itself keeps its
   * uid and rooms, so disconnect hooks see it as it was when it closed.
   */
  remove (agent: Agent): void {
    if (!this.byId.delete(agent.id)) return
    if (agent.transport === 'tcp') this.tcp--
    this.byProtocol.set(agent.protocol, this.byProtocol.get(agent.protocol)! - 1)
    if (agent.roomSet) for (const room of agent.roomSet) this.unindex(this.byRoom, room, agent)
    if (agent.uidValue !== undefined && this.unindex(this.byUid, agent.uidValue, agent)) this.sortedUids = undefined
  }

  /** Deletes `agent` from `index[key]`; returns true when that emptied the key. */
  private unindex (index: Map<string, Set<Agent>>, key: string, agent: Agent): boolean {
    const set = index.get(key)
    if (set === undefined || !set.delete(agent) || set.size > 0) return false
    index.delete(key)
    return true
  }

  get (id: string): Agent | undefined {
    return this.byId.get(id)
  }

  all (): IterableIterator<Agent> {
    return this.byId.values()
  }

  agentsOf (uid: string): ReadonlySet<Agent> | undefined {
    return this.byUid.get(uid)
  }

  members (room: string): ReadonlySet<Agent> | undefined {
    return this.byRoom.get(room)
  }

  roomNames (): IterableIterator<string> {
    return this.byRoom.keys()
  }

  /** Indexes `agent` under `uid`; returns true when it is the uid's first connection here. */
  bind (agent: Agent, uid: string): boolean {
    agent.uidValue = uid
    let set = this.byUid.get(uid)
    const first = set === undefined
    if (set === undefined) {
      set = new Set()
      this.byUid.set(uid, set)
      this.sortedUids = undefined
    }
    set.add(agent)
    return first
  }

  /** Removes `agent`'s uid; returns the uid and whether it was the last connection of it here. */
  unbind (agent: Agent): { uid: string, last: boolean } | undefined {
    const uid = agent.uidValue
    // A removed (closed) agent keeps its uid for the disconnect hooks.
    if (uid === undefined || !this.byId.has(agent.id)) return undefined
    agent.uidValue = undefined
    const set = this.byUid.get(uid)
    set?.delete(agent)
    const last = set === undefined || set.size === 0
    if (last) {
      this.byUid.delete(uid)
      this.sortedUids = undefined
    }
    return { uid, last }
  }

  /** Returns true when the agent was not in the room yet. */
  join (agent: Agent, room: string): boolean {
    const rooms = (agent.roomSet ??= new Set())
    if (rooms.has(room)) return false
    rooms.add(room)
    let set = this.byRoom.get(room)
    if (set === undefined) {
      set = new Set()
      this.byRoom.set(room, set)
    }
    set.add(agent)
    return true
  }

  /** Returns true when the agent was in the room. */
  leave (agent: Agent, room: string): boolean {
    if (!this.byId.has(agent.id) || agent.roomSet?.delete(room) !== true) return false
    if (agent.roomSet.size === 0) agent.roomSet = undefined
    const set = this.byRoom.get(room)
    if (set !== undefined) {
      set.delete(agent)
      if (set.size === 0) this.byRoom.delete(room)
    }
    return true
  }

  /** Local uids in a stable order (cached until a uid comes or goes). */
  uids (): readonly string[] {
    return (this.sortedUids ??= [...this.byUid.keys()].sort(compareStrings))
  }

  info (agent: Agent): ConnectionInfo {
    return {
      id: agent.id,
      node: this.nodeId,
      transport: agent.transport,
      protocol: agent.protocol,
      remoteAddress: agent.remoteAddress,
      connectedAt: new Date(agent.connectedAt).toISOString(),
      // [session] settings, when the connection has any
      ...(agent.settingsValue !== undefined && agent.settingsValue.size > 0 ? { settings: agent.settingsValue.toJSON() } : {})
    }
  }

  /** [session] Updates the settings of every connection of `uid` here; returns how many. */
  updateSettings (uid: string, set: Record<string, string>, remove: readonly string[]): number {
    let n = 0
    for (const agent of this.byUid.get(uid) ?? []) {
      if (!agent.isOpen) continue
      agent.settings.update(set, remove)
      n++
    }
    return n
  }

  /** Writes `msg` to every connection of these uids; returns how many took it. */
  pushToUids (uids: Iterable<string>, msg: OutboundMessage, positions?: ReadonlyMap<string, Position>): number {
    let n = 0
    for (const uid of uids) {
      const set = this.byUid.get(uid)
      if (set === undefined) continue
      // [history] connections that asked for positions get the message in order, with its position
      const pos = positions?.get(uid)
      for (const agent of set) if (pos !== undefined && agent.tracker !== undefined ? agent.tracker.offer(msg, pos) : agent.write(msg)) n++
    }
    return n
  }

  pushToRoom (room: string, msg: OutboundMessage): number {
    let n = 0
    const set = this.byRoom.get(room)
    if (set !== undefined) for (const agent of set) if (agent.write(msg)) n++
    return n
  }

  broadcast (msg: OutboundMessage, loggedInOnly: boolean): number {
    let n = 0
    for (const agent of this.byId.values()) {
      if (loggedInOnly && agent.uidValue === undefined) continue
      if (agent.write(msg)) n++
    }
    return n
  }

  /** Closes the targeted open connections; returns how many were closed. */
  kick (target: KickTarget, code: number, reason: string): number {
    const victims = new Set<Agent>()
    for (const uid of target.uids ?? []) {
      const set = this.byUid.get(uid)
      if (set !== undefined) for (const agent of set) victims.add(agent)
    }
    for (const id of target.agents ?? []) {
      const agent = this.byId.get(id)
      if (agent !== undefined) victims.add(agent)
    }
    let n = 0
    for (const agent of victims) {
      if (agent.id === target.except || !agent.isOpen) continue
      agent.close(code, reason)
      n++
    }
    return n
  }
}

/** Orders strings by UTF-16 code unit: stable, locale-independent. */
export function compareStrings (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
