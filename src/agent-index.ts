import type { Agent, Place } from './agent.js'
import type { ConnectionInfo, RoomMember } from './answers.js'

export type { ConnectionInfo } from './answers.js'

/** Each connection's place, written here only. */
class Entry implements Place {
  uid: string | undefined = undefined
  rooms: Set<string> | undefined = undefined
  everBound = false
}

/**
 * This node's connections, indexed by id, uid and room. It is the one owner of
 * each connection's uid and rooms (the agent's `Place`): a change goes through
 * here, so the index and the agents agree. Everything is synchronous and local;
 * operations (`src/operations/`) and the directories build on it.
 */
export class AgentIndex {
  readonly nodeId: string
  private readonly byId = new Map<string, Agent>()
  private readonly byUid = new Map<string, Set<Agent>>()
  private readonly byRoom = new Map<string, Set<Agent>>()
  private sortedUids: string[] | undefined
  private sortedRooms: string[] | undefined
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

  /** Makes a connection's agent with its place (`make`), and indexes it. */
  add<A extends Agent<any>> (make: (place: Place) => A): A {
    const entry = new Entry()
    const agent = make(entry)
    if (agent.place !== entry) throw new TypeError('the agent must be made with the place it is given')
    this.byId.set(agent.id, agent)
    if (agent.transport === 'tcp') this.tcp++
    this.byProtocol.set(agent.protocol, (this.byProtocol.get(agent.protocol) ?? 0) + 1)
    return agent
  }

  /**
   * Takes the agent out of every index (id, uid, rooms). Its place keeps the uid
   * and rooms, so disconnect hooks see it as it was when it closed.
   */
  remove (agent: Agent): void {
    if (!this.byId.delete(agent.id)) return
    if (agent.transport === 'tcp') this.tcp--
    this.byProtocol.set(agent.protocol, this.byProtocol.get(agent.protocol)! - 1)
    const entry = agent.place as Entry
    if (entry.rooms !== undefined) for (const room of entry.rooms) if (this.unindex(this.byRoom, room, agent)) this.sortedRooms = undefined
    if (entry.uid !== undefined && this.unindex(this.byUid, entry.uid, agent)) this.sortedUids = undefined
  }

  /** Adds `agent` to `index[key]`; returns true when the key is new. */
  private index (index: Map<string, Set<Agent>>, key: string, agent: Agent): boolean {
    const set = index.get(key)
    if (set !== undefined) {
      set.add(agent)
      return false
    }
    index.set(key, new Set([agent]))
    return true
  }

  /** Deletes `agent` from `index[key]`; returns true when that emptied the key. */
  private unindex (index: Map<string, Set<Agent>>, key: string, agent: Agent): boolean {
    const set = index.get(key)
    if (set === undefined || !set.delete(agent) || set.size > 0) return false
    index.delete(key)
    return true
  }

  /** The place of an agent still indexed here (not removed): one that `add` made. */
  private indexed (agent: Agent): Entry | undefined {
    return this.byId.get(agent.id) === agent ? agent.place as Entry : undefined
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

  /**
   * Binds `uid` to an indexed agent (it must have none: unbind first). Returns
   * true when it is the uid's first connection here, undefined when the agent is
   * not indexed (closed).
   */
  bind (agent: Agent, uid: string): boolean | undefined {
    const entry = this.indexed(agent)
    if (entry === undefined) return undefined
    entry.uid = uid
    entry.everBound = true
    const first = this.index(this.byUid, uid, agent)
    if (first) this.sortedUids = undefined
    return first
  }

  /** Removes `agent`'s uid; returns the uid and whether it was the last connection of it here. */
  unbind (agent: Agent): { uid: string, last: boolean } | undefined {
    // A removed (closed) agent keeps its uid for the disconnect hooks.
    const entry = this.indexed(agent)
    const uid = entry?.uid
    if (entry === undefined || uid === undefined) return undefined
    entry.uid = undefined
    const last = this.unindex(this.byUid, uid, agent)
    if (last) this.sortedUids = undefined
    return { uid, last }
  }

  /** Returns true when the agent was not in the room yet (and is indexed). */
  join (agent: Agent, room: string): boolean {
    const entry = this.indexed(agent)
    if (entry === undefined) return false
    const rooms = (entry.rooms ??= new Set())
    if (rooms.has(room)) return false
    rooms.add(room)
    if (this.index(this.byRoom, room, agent)) this.sortedRooms = undefined
    return true
  }

  /** Returns true when the agent was in the room. */
  leave (agent: Agent, room: string): boolean {
    const entry = this.indexed(agent)
    if (entry?.rooms?.delete(room) !== true) return false
    if (entry.rooms.size === 0) entry.rooms = undefined
    if (this.unindex(this.byRoom, room, agent)) this.sortedRooms = undefined
    return true
  }

  /** Local uids in a stable order (cached until a uid comes or goes). */
  uids (): readonly string[] {
    return (this.sortedUids ??= [...this.byUid.keys()].sort(compareStrings))
  }

  /** Local rooms with members in a stable order (cached until a room comes or goes). */
  rooms (): readonly string[] {
    return (this.sortedRooms ??= [...this.byRoom.keys()].sort(compareStrings))
  }

  /** A connection as a room member. */
  member (agent: Agent): RoomMember {
    const uid = agent.uid
    return uid === undefined
      ? { id: agent.id, node: this.nodeId, transport: agent.transport, protocol: agent.protocol }
      : { uid, id: agent.id, node: this.nodeId, transport: agent.transport, protocol: agent.protocol }
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
      ...(agent.hasSettings ? { settings: agent.settings.toJSON() } : {}),
      ...(agent.rooms.size > 0 ? { rooms: [...agent.rooms].sort(compareStrings) } : {})
    }
  }
}

/** Orders strings by UTF-16 code unit: stable, locale-independent. */
export function compareStrings (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
