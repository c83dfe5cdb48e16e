import type { RoomMember } from '../answers.js'
import type { ConnectionInfo } from '../agent-index.js'
import type { PresenceEvents } from '../presence-events.js'
import { within } from './deadline.js'
import type { ClusterKeys } from './keys.js'
import type { PresenceScripts } from './scripts.js'

/** This node's whole presence, as republished after Redis lost it. */
export interface Snapshot {
  ws: number
  tcp: number
  /** Open connections by protocol. */
  protocols: Record<string, number>
  /** Logged-in connections: agent id, uid, ConnectionInfo JSON. */
  bound: Array<[string, string, string]>
  /** Room members: agent id, room, uid ('' when not logged in), RoomMember JSON. */
  members: Array<[string, string, string, string]>
}

/**
 * Changes since the last write: `ops` 'b' agentId uid info | 'u' agentId uid;
 * `rooms` 'j' agentId room uid member | 'l' agentId room; and the counts when they changed.
 */
export interface Changes {
  ops: readonly string[]
  rooms: readonly string[]
  counts?: { ws: number, tcp: number, protocols: Record<string, number> }
}

/** Every read says whether this node was registered when it ran. */
interface Read { registered: boolean }

export interface StatsRead extends Read { nodes: number, ws: number, tcp: number, onlineUsers: number, protocols: Record<string, number> }
export interface UsersRead extends Read { total: number, items: Array<{ uid: string, connections: number }> }
export interface UserRead extends Read { connections: ConnectionInfo[] }
export interface RouteRead extends Read {
  /** Live nodes, this one included when registered. */
  nodes: string[]
  /** Per asked uid, the ids of its connections. */
  agents: string[][]
  /** When a room was asked: the nodes with members of it (a dead node's may be among them). */
  roomNodes?: string[]
}
export interface RoomsRead extends Read { total: number, items: Array<{ room: string, connections: number, uids: number }> }
export interface RoomRead extends Read { total: number, items: RoomMember[] }

/** Every registry answer starts with these two. */
type RegistryHead = [number, Array<string | number>]

/**
 * Typed calls to the presence scripts for one node, over the registry's slot
 * and the uid-index and room-index buckets (see scripts.ts, room-scripts.ts).
 * Every call is bounded by `ms` and fails with `FST_GATE_CLUSTER_UNAVAILABLE`.
 *
 * Costs, with `b` buckets: a write touches the registry and the buckets of the
 * uids and rooms it changes (one script each, sent together); a full publish
 * touches every bucket; `stats`, `users` and `rooms` read the registry, then
 * every bucket of their kind once (all sent together) and the buckets the
 * page covers; `user`, `room` and a route read the registry and the uids' (or
 * the room's) buckets, together.
 *
 * Online and offline events come from the uid buckets' answers (a uid's first
 * and last connection in the cluster); a dead node's offline and leave events
 * from the buckets that the reap emptied, on the node that reaped them.
 */
export class PresenceStore {
  private readonly scripts: PresenceScripts
  private readonly keys: ClusterKeys
  private readonly nodeId: string
  private readonly nodeTtl: number
  /** This node's incarnation, given by the last full publish. */
  private incarnation = '0'
  /** Reaps under way, by dead node. */
  private readonly reaping = new Map<string, Promise<void>>()
  private readonly events: PresenceEvents

  constructor (scripts: PresenceScripts, keys: ClusterKeys, nodeId: string, nodeTtl: number, events: PresenceEvents) {
    this.scripts = scripts
    this.keys = keys
    this.nodeId = nodeId
    this.nodeTtl = nodeTtl
    this.events = events
  }

  /** Registers this node under a new incarnation and replaces its presence with `snapshot`, bucket by bucket. */
  async sync (snapshot: Snapshot, ms: number): Promise<void> {
    await within((async () => {
      const [, dead, inc] = await this.scripts.gateRegSync(this.keys.nodes, this.nodeId, '', this.nodeTtl, snapshot.ws, snapshot.tcp, JSON.stringify(snapshot.protocols)) as [number, Array<string | number>, number]
      this.incarnation = String(inc)
      const perBucket: string[][] = Array.from({ length: this.keys.buckets }, () => [])
      for (const [id, uid, info] of snapshot.bound) perBucket[this.keys.bucketOf(uid)].push(id, uid, info)
      const perRoomBucket: string[][] = Array.from({ length: this.keys.buckets }, () => [])
      for (const [id, room, uid, member] of snapshot.members) perRoomBucket[this.keys.bucketOf(room)].push(id, room, uid, member)
      await Promise.all([
        ...perBucket.map(async (args, k) => await this.scripts.gateBucketSync(this.keys.bucket(k), this.nodeId, this.incarnation, ...args)),
        ...perRoomBucket.map(async (args, k) => await this.scripts.gateRoomSync(this.keys.roomBucket(k), this.nodeId, this.incarnation, ...args))
      ])
      void this.reap(dead)
    })(), ms)
  }

  /** Extends this node's deadline; false when it is not registered. Reaps dead nodes in the background. */
  async heartbeat (ms: number): Promise<boolean> {
    const [registered, dead] = await within(this.scripts.gateRegHeartbeat(this.keys.nodes, this.nodeId, this.incarnation, this.nodeTtl), ms) as RegistryHead
    void this.reap(dead)
    return registered === 1
  }

  /** Applies incremental changes; false when Redis does not hold this node's current presence. */
  async apply (changes: Changes, ms: number): Promise<boolean> {
    return await within((async () => {
      const calls: Array<Promise<unknown>> = []
      const counts = changes.counts
      if (counts !== undefined) {
        calls.push(this.scripts.gateRegCounts(this.keys.nodes, this.nodeId, this.incarnation, counts.ws, counts.tcp, JSON.stringify(counts.protocols))
          .then(r => (r as RegistryHead)[0]))
      }
      const perBucket = new Map<number, string[]>()
      const ops = changes.ops
      for (let i = 0; i < ops.length; i += ops[i] === 'b' ? 4 : 3) {
        const k = this.keys.bucketOf(ops[i + 2])
        const list = perBucket.get(k)
        const op = ops.slice(i, i + (ops[i] === 'b' ? 4 : 3))
        if (list === undefined) perBucket.set(k, op)
        else list.push(...op)
      }
      for (const [k, list] of perBucket) {
        calls.push(this.scripts.gateBucketApply(this.keys.bucket(k), this.nodeId, this.incarnation, ...list).then(r => {
          if (r === 0) return 0
          const [, online, offline] = r as [number, string[], string[]]
          for (const uid of online) this.events.emit({ type: 'online', uid, node: this.nodeId, died: false })
          for (const uid of offline) this.events.emit({ type: 'offline', uid, node: this.nodeId, died: false })
          return 1
        }))
      }
      const perRoomBucket = new Map<number, string[]>()
      const rooms = changes.rooms
      for (let i = 0; i < rooms.length; i += rooms[i] === 'j' ? 5 : 3) {
        const k = this.keys.bucketOf(rooms[i + 2])
        const op = rooms.slice(i, i + (rooms[i] === 'j' ? 5 : 3))
        const list = perRoomBucket.get(k)
        if (list === undefined) perRoomBucket.set(k, op)
        else list.push(...op)
      }
      for (const [k, list] of perRoomBucket) calls.push(this.scripts.gateRoomApply(this.keys.roomBucket(k), this.nodeId, this.incarnation, ...list))
      return (await Promise.all(calls)).every(ok => ok === 1)
    })(), ms)
  }

  /** Removes this node's presence: its bucket entries, then its record. */
  async leave (ms: number): Promise<void> {
    await within((async () => {
      await Promise.all([
        ...this.bucketKeys().map(async key => {
          for (const uid of await this.scripts.gateBucketDrop(key, this.nodeId) as string[]) this.events.emit({ type: 'offline', uid, node: this.nodeId, died: false })
        }),
        ...this.roomBucketKeys().map(async key => await this.scripts.gateRoomDrop(key, this.nodeId))
      ])
      await this.scripts.gateRegLeave(this.keys.nodes, this.nodeId)
    })(), ms)
  }

  async stats (ms: number): Promise<StatsRead> {
    return await within((async () => {
      const [registered, dead, nodes, ws, tcp, ...perNode] = await this.scripts.gateRegStats(this.keys.nodes, this.nodeId, this.incarnation) as [number, Array<string | number>, number, number, number, ...string[]]
      await this.reap(dead)
      const counts = await Promise.all(this.bucketKeys().map(async key => await this.scripts.gateBucketPage(key, '', 0, 0) as [number]))
      const protocols: Record<string, number> = {}
      for (const json of perNode) {
        let parsed: unknown
        try { parsed = JSON.parse(json) } catch { continue }
        for (const [name, n] of Object.entries(parsed as Record<string, unknown>)) if (typeof n === 'number') protocols[name] = (protocols[name] ?? 0) + n
      }
      return { registered: registered === 1, nodes, ws, tcp, onlineUsers: counts.reduce((sum, [n]) => sum + n, 0), protocols }
    })(), ms)
  }

  /**
   * A page of the uids that start with `prefix` ('' for all), ordered by
   * bucket, then by uid bytes within a bucket (with one bucket: by uid bytes).
   * The buckets' counts are read first, then the buckets the page covers.
   */
  async users (offset: number, limit: number, prefix: string, ms: number): Promise<UsersRead> {
    return await within((async () => {
      const registered = await this.live()
      const keys = this.bucketKeys()
      const counts = (await Promise.all(keys.map(async key => await this.scripts.gateBucketPage(key, prefix, 0, 0) as [number]))).map(([n]) => n)
      const total = counts.reduce((sum, n) => sum + n, 0)
      const reads: Array<Promise<unknown>> = []
      let before = 0
      for (let k = 0; k < keys.length; k++) {
        const from = Math.max(offset - before, 0)
        const to = Math.min(offset + limit - before, counts[k])
        if (from < to) reads.push(this.scripts.gateBucketPage(keys[k], prefix, from, to - from))
        before += counts[k]
      }
      const items: UsersRead['items'] = []
      for (const [, ...rest] of await Promise.all(reads) as Array<Array<string | number>>) {
        for (let i = 0; i < rest.length; i += 2) items.push({ uid: String(rest[i]), connections: Number(rest[i + 1]) })
      }
      return { registered, total, items }
    })(), ms)
  }

  async user (uid: string, ms: number): Promise<UserRead> {
    return await within((async () => {
      const [nodes, infos] = await Promise.all([
        this.nodes(),
        this.scripts.gateBucketUser(this.keys.bucket(this.keys.bucketOf(uid)), uid) as Promise<string[]>
      ])
      const connections = infos.map(json => JSON.parse(String(json)) as ConnectionInfo).filter(conn => nodes.live.has(conn.node))
      connections.sort((a, b) => a.connectedAt < b.connectedAt ? -1 : a.connectedAt > b.connectedAt ? 1 : a.id < b.id ? -1 : 1)
      return { registered: nodes.registered, connections }
    })(), ms)
  }

  /**
   * Live nodes, where each uid's connections are, and which nodes have members
   * of `room` when one is given (a dead node's may be among them: the caller
   * asks live nodes only).
   */
  async route (uids: readonly string[], ms: number, room?: string): Promise<RouteRead> {
    return await within((async () => {
      const perBucket = new Map<number, number[]>()
      uids.forEach((uid, i) => {
        const k = this.keys.bucketOf(uid)
        const list = perBucket.get(k)
        if (list === undefined) perBucket.set(k, [i])
        else list.push(i)
      })
      const agents: string[][] = uids.map(() => [])
      let roomNodes: string[] | undefined
      const [nodes] = await Promise.all([
        this.nodes(),
        room === undefined
          ? undefined
          : this.scripts.gateRoomNodes(this.keys.roomBucket(this.keys.bucketOf(room)), room).then(found => { roomNodes = found as string[] }),
        ...[...perBucket].map(async ([k, at]) => {
          const found = await this.scripts.gateBucketRoute(this.keys.bucket(k), ...at.map(i => uids[i])) as string[][]
          at.forEach((i, j) => { agents[i] = found[j] ?? [] })
        })
      ])
      const read: RouteRead = { registered: nodes.registered, nodes: [...nodes.live], agents }
      if (roomNodes !== undefined) read.roomNodes = roomNodes
      return read
    })(), ms)
  }

  /** A page of the rooms with members, ordered by bucket, then by room bytes within a bucket (with one bucket: by room bytes). */
  async rooms (offset: number, limit: number, ms: number): Promise<RoomsRead> {
    return await within((async () => {
      const registered = await this.live()
      const keys = this.roomBucketKeys()
      const counts = (await Promise.all(keys.map(async key => await this.scripts.gateRoomPage(key, 0, 0) as [number]))).map(([n]) => n)
      const total = counts.reduce((sum, n) => sum + n, 0)
      const reads: Array<Promise<unknown>> = []
      let before = 0
      for (let k = 0; k < keys.length; k++) {
        const from = Math.max(offset - before, 0)
        const to = Math.min(offset + limit - before, counts[k])
        if (from < to) reads.push(this.scripts.gateRoomPage(keys[k], from, to - from))
        before += counts[k]
      }
      const items: RoomsRead['items'] = []
      for (const [, ...rest] of await Promise.all(reads) as Array<Array<string | number>>) {
        for (let i = 0; i < rest.length; i += 3) items.push({ room: String(rest[i]), connections: Number(rest[i + 1]), uids: Number(rest[i + 2]) })
      }
      return { registered, total, items }
    })(), ms)
  }

  /** A page of a room's members, ordered by agent id; dead nodes are reaped first. */
  async room (room: string, offset: number, limit: number, ms: number): Promise<RoomRead> {
    return await within((async () => {
      const registered = await this.live()
      const [total, ...infos] = await this.scripts.gateRoomMembers(this.keys.roomBucket(this.keys.bucketOf(room)), room, offset, limit) as [number, ...Array<string | null>]
      const items = infos.flatMap(info => typeof info === 'string' ? [JSON.parse(info) as RoomMember] : [])
      return { registered, total, items }
    })(), ms)
  }

  // ---- internals ----------------------------------------------------------------

  private bucketKeys (): string[] {
    return Array.from({ length: this.keys.buckets }, (_, k) => this.keys.bucket(k))
  }

  private roomBucketKeys (): string[] {
    return Array.from({ length: this.keys.buckets }, (_, k) => this.keys.roomBucket(k))
  }

  /** The live nodes; dead ones are reaped in the background. */
  private async nodes (): Promise<{ registered: boolean, live: Set<string> }> {
    const [registered, dead, live] = await this.scripts.gateRegNodes(this.keys.nodes, this.nodeId, this.incarnation) as [number, Array<string | number>, string[]]
    void this.reap(dead)
    return { registered: registered === 1, live: new Set(live) }
  }

  /** Whether this node is registered; dead nodes are reaped before it resolves. */
  private async live (): Promise<boolean> {
    const [registered, dead] = await this.scripts.gateRegNodes(this.keys.nodes, this.nodeId, this.incarnation) as [number, Array<string | number>]
    await this.reap(dead)
    return registered === 1
  }

  /**
   * Removes the entries of dead nodes (`[node, incarnation, …]`) from every
   * bucket, then forgets them; reports what the removal changed (`died: true`).
   */
  private async reap (dead: ReadonlyArray<string | number>): Promise<void> {
    const runs: Array<Promise<void>> = []
    for (let i = 0; i + 1 < dead.length; i += 2) {
      const node = String(dead[i])
      const inc = String(dead[i + 1])
      let run = this.reaping.get(node)
      if (run === undefined) {
        run = (async () => {
          await Promise.all([
            ...this.bucketKeys().map(async key => {
              for (const uid of await this.scripts.gateBucketReap(key, node, inc) as string[]) this.events.emit({ type: 'offline', uid, node, died: true })
            }),
            ...this.roomBucketKeys().map(async key => {
              const gone = await this.scripts.gateRoomReap(key, node, inc) as string[]
              for (let j = 0; j + 2 < gone.length; j += 3) {
                this.events.emit({ type: 'leave', room: gone[j], id: gone[j + 1], uid: gone[j + 2] === '' ? undefined : gone[j + 2], node, died: true })
              }
            })
          ])
          await this.scripts.gateRegReaped(this.keys.nodes, this.nodeId, '', node, inc)
        })().finally(() => this.reaping.delete(node))
        this.reaping.set(node, run)
      }
      runs.push(run)
    }
    await Promise.all(runs).catch(() => {})
  }
}
