import type { Agent } from '../agent.js'
import type { OutboundMessage } from '../codec/outbound.js'
import type { Delivery, GateStats, KickResult, UserConnections, UsersPage } from '../answers.js'
import type { NodeFigures } from '../figures/schema.js'
import type { KickTarget } from '../local-agents.js'
import type { ClusterAnswer } from '../answers.js'
import type { HistoryStore, Position } from '../history/store.js' // [history]
import type { NormalizedHistoryOptions } from '../history/options.js' // [history]
import type { SessionStore } from '../session/store.js' // [session]
import type { SettingsResult } from '../answers.js' // [session]

export type { ClusterAnswer, Delivery, GateStats, KickResult, UserConnections, UsersPage } from '../answers.js'

/** Every node's live figures; a node without a reporter is missing. */
export interface ClusterFigures extends ClusterAnswer {
  nodes: NodeFigures[]
}

/**
 * Where agents live. The gate tells the directory about its own connections as
 * they change, and asks it every cluster-wide question. `LocalDirectory` answers
 * from this node's memory; the Redis directory answers for the whole cluster.
 * `app.gate` and the admin routes only ever talk to this interface.
 */
export interface AgentDirectory {
  readonly mode: 'local' | 'cluster'
  start (): Promise<void>
  /** Removes this node's presence and releases resources. */
  stop (): Promise<void>

  // Local changes, reported synchronously by the gate (after its index changed).
  added (agent: Agent): void
  removed (agent: Agent, uid: string | undefined, lastOfUid: boolean): void
  bound (agent: Agent, uid: string, firstOfUid: boolean): void
  unbound (agent: Agent, uid: string, lastOfUid: boolean): void
  joined (agent: Agent, room: string): void
  left (agent: Agent, room: string): void

  // Cluster-wide questions and operations.
  isOnline (uid: string): Promise<boolean>
  stats (): Promise<GateStats>
  /** Online uids in a stable order, a page at a time; with `prefix`, only the uids that start with it. */
  users (offset: number, limit: number, prefix?: string): Promise<UsersPage>
  /** `null` when the uid has no connection anywhere. */
  user (uid: string): Promise<UserConnections | null>
  /** [history] `positions`: each stored uid's position of `msg`, for the connections that track them. */
  pushToUids (uids: readonly string[], msg: OutboundMessage, positions?: ReadonlyMap<string, Position>): Promise<Delivery>
  pushToRoom (room: string, msg: OutboundMessage): Promise<Delivery>
  broadcast (msg: OutboundMessage, loggedInOnly: boolean): Promise<Delivery>
  kick (target: KickTarget, code: number, reason: string): Promise<KickResult>

  /** What this node answers when asked for its live figures (the dashboard sets it). */
  reporter: (() => NodeFigures) | undefined
  /** Every live node's figures, this node's first. */
  figures (): Promise<ClusterFigures>
  /** [history] The history store of this directory (default: memory). */
  historyStore? (opts: NormalizedHistoryOptions): HistoryStore
  /** [session] Sets and removes settings of every connection of `uid`, on every node. */
  updateSettings (uid: string, set: Record<string, string>, remove: readonly string[]): Promise<SettingsResult>
  /** [session] The session store of this directory (default: memory). */
  sessionStore? (): SessionStore
}
