import type { Agent } from '../agent.js'
import type { ClusterAnswer } from '../answers.js'
import type { OutboundMessage } from '../codec/outbound.js'
import type { NodeFigures } from '../figures/schema.js'
import type { Position } from '../history/store.js'

/** Who to kick. */
export interface KickTarget {
  uids?: readonly string[]
  agents?: readonly string[]
  /** Spare this connection (the one that just logged in under `replace`). */
  except?: string
}

/**
 * Who a room push skips (except-the-sender): one connection by its id, every
 * connection of one uid, or both.
 */
export interface RoomExcept {
  readonly agent?: string
  readonly uid?: string
}

/**
 * An operation on connections, wherever they are. Each node does its own share
 * with its own connections (`LocalShare.run`): the gate does this node's, and
 * the directory asks the other nodes that may hold the targets to do theirs.
 * The message is encoded once, on the node that asked.
 */
export type Operation =
  /**
   * [history] `positions`: each stored uid's position of `msg`, for the connections that track them;
   * `stored`: those positions while the appends run (the directory reads the route meanwhile, then waits
   * for them); `early`: without `positions`, only the connections that do not track positions get `msg`,
   * and are added to it; with them, those connections are skipped (one that tracks positions since counts
   * the offset as written).
   */
  | { readonly op: 'push', readonly uids: readonly string[], readonly msg: OutboundMessage, readonly positions?: ReadonlyMap<string, Position>, readonly stored?: Promise<ReadonlyMap<string, Position>>, readonly early?: Set<Agent<any>> }
  /** [room history] `pos`: the message's position in the room's stream, for the members that track it. */
  | { readonly op: 'room', readonly room: string, readonly msg: OutboundMessage, readonly except?: RoomExcept, readonly pos?: Position }
  | { readonly op: 'broadcast', readonly msg: OutboundMessage, readonly loggedInOnly: boolean }
  | { readonly op: 'kick', readonly uids: readonly string[], readonly agents: readonly string[], readonly except?: string, readonly code: number, readonly reason: string }
  /** [session] Sets and removes settings of the uid's connections. */
  | { readonly op: 'settings', readonly uid: string, readonly set: Readonly<Record<string, string>>, readonly remove: readonly string[] }

/** A question to every other node: its live figures (the dashboard's). */
export interface FiguresQuestion { readonly op: 'figures' }

/**
 * What the other nodes did with an operation: the connections they reached and,
 * for a question, their answers. `partial` when some node did not answer in
 * time (`missingNodes`), or the cluster could not be asked at all.
 */
export interface RemoteShare extends ClusterAnswer {
  n: number
  /** Answer payloads, by node (figures: JSON, `null` without a reporter). */
  replies?: ReadonlyMap<string, Buffer>
}

/** Every live node's figures, this node's first. */
export interface ClusterFigures extends ClusterAnswer {
  nodes: NodeFigures[]
}
