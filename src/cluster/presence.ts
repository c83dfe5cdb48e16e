import type { ConnectionInfo } from '../local-agents.js'
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
}

/** Changes since the last write: 'b' agentId uid info | 'u' agentId uid, and the counts when they changed. */
export interface Changes {
  ops: readonly string[]
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
}

/** Every registry answer starts with these two. */
type RegistryHead = [number, Array<string | number>]

/**
 * Typed calls to the presence scripts for one node, over the registry's slot
 * and the uid-index buckets (see scripts.ts). Every call is bounded by `ms`
 * and fails with `FST_GATE_CLUSTER_UNAVAILABLE`.
 *
 * Costs, with `b` buckets: a write touches the registry and the buckets of the
 * uids it changes (one script each, sent together); a full publish touches
 * every bucket; `stats` and `users` read the registry, then every bucket once
 * (all sent together) and, for `users`, the buckets the page covers; `user`
 * and a route read the registry and the uids' buckets, together.
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

  constructor (scripts: PresenceScripts, keys: ClusterKeys, nodeId: string, nodeTtl: number) {
    this.scripts = scripts
    this.keys = keys
    this.nodeId = nodeId
    this.nodeTtl = nodeTtl
  }

  /** Registers this node under a new incarnation and replaces its presence with `snapshot`, bucket by bucket. */
  async sync (snapshot: Snapshot, ms: number): Promise<void> {
    await within((async () => {
      const [, dead, inc] = await this.scripts.gateRegSync(this.keys.nodes, this.nodeId, '', this.nodeTtl, snapshot.ws, snapshot.tcp, JSON.stringify(snapshot.protocols)) as [number, Array<string | number>, number]
      this.incarnation = String(inc)
      const perBucket: string[][] = Array.from({ length: this.keys.buckets }, () => [])
      for (const [id, uid, info] of snapshot.bound) perBucket[this.keys.bucketOf(uid)].push(id, uid, info)
      await Promise.all(perBucket.map(async (args, k) => await this.scripts.gateBucketSync(this.keys.bucket(k), this.nodeId, this.incarnation, ...args)))
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
      for (const [k, list] of perBucket) calls.push(this.scripts.gateBucketApply(this.keys.bucket(k), this.nodeId, this.incarnation, ...list))
      return (await Promise.all(calls)).every(ok => ok === 1)
    })(), ms)
  }

  /** Removes this node's presence: its bucket entries, then its record. */
  async leave (ms: number): Promise<void> {
    await within((async () => {
      await Promise.all(this.bucketKeys().map(async key => await this.scripts.gateBucketDrop(key, this.nodeId)))
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

  /** Live nodes, and where each uid's connections are (a dead node's may be among them: the caller asks live nodes only). */
  async route (uids: readonly string[], ms: number): Promise<RouteRead> {
    return await within((async () => {
      const perBucket = new Map<number, number[]>()
      uids.forEach((uid, i) => {
        const k = this.keys.bucketOf(uid)
        const list = perBucket.get(k)
        if (list === undefined) perBucket.set(k, [i])
        else list.push(i)
      })
      const agents: string[][] = uids.map(() => [])
      const [nodes] = await Promise.all([
        this.nodes(),
        ...[...perBucket].map(async ([k, at]) => {
          const found = await this.scripts.gateBucketRoute(this.keys.bucket(k), ...at.map(i => uids[i])) as string[][]
          at.forEach((i, j) => { agents[i] = found[j] ?? [] })
        })
      ])
      return { registered: nodes.registered, nodes: [...nodes.live], agents }
    })(), ms)
  }

  // ---- internals ----------------------------------------------------------------

  private bucketKeys (): string[] {
    return Array.from({ length: this.keys.buckets }, (_, k) => this.keys.bucket(k))
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

  /** Removes the entries of dead nodes (`[node, incarnation, …]`) from every bucket, then forgets them. */
  private async reap (dead: ReadonlyArray<string | number>): Promise<void> {
    const runs: Array<Promise<void>> = []
    for (let i = 0; i + 1 < dead.length; i += 2) {
      const node = String(dead[i])
      const inc = String(dead[i + 1])
      let run = this.reaping.get(node)
      if (run === undefined) {
        run = (async () => {
          await Promise.all(this.bucketKeys().map(async key => await this.scripts.gateBucketReap(key, node, inc)))
          await this.scripts.gateRegReaped(this.keys.nodes, this.nodeId, '', node, inc)
        })().finally(() => this.reaping.delete(node))
        this.reaping.set(node, run)
      }
      runs.push(run)
    }
    await Promise.all(runs).catch(() => {})
  }
}
