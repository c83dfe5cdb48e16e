import type { Agent } from '../agent.js'
import type { GateStats, RoomMembers, RoomsPage, UserConnections, UsersPage } from '../answers.js'
import type { NodeFigures } from '../figures/schema.js'
import type { AgentIndex } from '../agent-index.js'
import type { Ask, Operation, RemoteShare } from '../operations/operation.js'
import type { PresenceEvents } from '../presence-events.js'
import type { HistoryStore } from '../history/store.js' // [history]
import type { NormalizedHistoryOptions } from '../history/options.js' // [history]
import type { SessionStore } from '../session/store.js' // [session]

export type { ClusterAnswer, Delivery, GateStats, KickResult, RoomMembers, RoomsPage, UserConnections, UsersPage } from '../answers.js'

/** A change of this node's presence, reported after its index changed. */
export type PresenceChange =
  | { readonly kind: 'connected', readonly agent: Agent }
  /** `uid`: the uid it had, if any. */
  | { readonly kind: 'disconnected', readonly agent: Agent, readonly uid: string | undefined }
  /**
   * Also sent again when what the connection publishes changed (its settings);
   * `first`: the uid's first connection on this node (only on a new bind).
   */
  | { readonly kind: 'bound', readonly agent: Agent, readonly uid: string, readonly first?: boolean }
  | { readonly kind: 'unbound', readonly agent: Agent, readonly uid: string }
  /** The connection entered a room (its rooms are the agent's). */
  | { readonly kind: 'joined', readonly agent: Agent, readonly room: string }
  /** The connection left a room while open (a closing one's rooms come with 'disconnected'). */
  | { readonly kind: 'left', readonly agent: Agent, readonly room: string }

/** What a directory gets of this node: its connections, and what it does when another node asks. */
export interface LocalNode {
  readonly nodeId: string
  /** This node's index (read only). */
  readonly agents: AgentIndex
  /** Does another node's operation with this node's connections; returns how many it reached. */
  run (op: Operation): number
  /** This node's live figures, undefined without a reporter (the dashboard's sampler). */
  figures (): NodeFigures | undefined
  /** The gate's presence hooks: a directory reports online, offline, join and leave here. */
  readonly events: PresenceEvents
}

/**
 * Where agents live, beyond this node (the shape of @fastify/rate-limit's
 * store): it keeps presence and asks the other nodes to do their share of an
 * operation. The gate does this node's share itself. `LocalDirectory` is the
 * single node (presence from memory, no other node); `RedisDirectory` keeps
 * presence in Redis and reaches the other nodes over Redis pub/sub.
 */
export interface Directory {
  readonly mode: 'local' | 'cluster'
  start (): Promise<void>
  /** Removes this node's presence and releases resources. */
  stop (): Promise<void>
  /** This node's presence changed. */
  changed (change: PresenceChange): void
  /** Cluster-wide counts. */
  stats (): Promise<GateStats>
  /** Online uids in a stable order, a page at a time; with `prefix`, only the uids that start with it. */
  users (offset: number, limit: number, prefix: string): Promise<UsersPage>
  /** `null` when the uid has no connection anywhere. */
  user (uid: string): Promise<UserConnections | null>
  /** Rooms with members in a stable order, a page at a time, with their counts. */
  rooms (offset: number, limit: number): Promise<RoomsPage>
  /** A page of a room's member connections, ordered by connection id; `null` when it has no member anywhere. */
  room (room: string, offset: number, limit: number): Promise<RoomMembers | null>
  /**
   * The other nodes' share of an operation (or their answers to a question);
   * rejects only for an ask without a wire form (`UnknownOperation`, a bug).
   */
  remote (ask: Ask): Promise<RemoteShare>
  /** [history] [session] Stores kept beside the presence (default: memory). */
  stores? (): DirectoryStores
}

/** [history] [session] Stores a directory offers (the cluster's: in its Redis). */
export interface DirectoryStores {
  history (opts: NormalizedHistoryOptions): HistoryStore
  session (): SessionStore
}
