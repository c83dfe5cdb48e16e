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
 * with its own connections (`NodeShare.run`): the gate does this node's, and
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

/** What one node asks the others: an operation on their connections, or a question. */
export type Ask = Operation | FiguresQuestion

/**
 * Which nodes an ask goes to: those holding some uids (and those named in some
 * connection ids), those with members of a room, or every live node.
 */
export type Reach =
  | { readonly to: 'uids', readonly uids: readonly string[], readonly agents?: readonly string[] }
  | { readonly to: 'room', readonly room: string }
  | { readonly to: 'all' }

/** One node's part of an ask's targets: the uids and connection ids it holds (none for a room or every node). */
export interface Share {
  readonly uids: readonly string[]
  readonly agents: readonly string[]
}

/**
 * How an ask travels over the cluster bus, as it is: where it goes, its JSON
 * head for one node's share, and how the asked node rebuilds it from that head
 * and the message (its name and text flag in the head, its bytes after it, as
 * encoded once on the asking node). Local fields (a push's `stored`, `early`)
 * do not travel.
 */
export interface WireForm<A extends Ask, H extends object> {
  reach (ask: A): Reach
  /** What the asking node waits for once the route is read, before it makes the heads ([history] a push's positions). */
  settle? (ask: A): Promise<A>
  /** The JSON head for the node holding `share`, without `op` and the message (both names are the envelope's). */
  head (ask: A, share: Share): H
  /** The ask again, on the asked node; `msg` is the message it carried, if any. */
  rebuild (head: H, msg: OutboundMessage | undefined): A
}

type OpOf<K extends Ask['op']> = Extract<Ask, { readonly op: K }>

/** One operation's wire form, its head's type read from `head`. */
function wireForm<A extends Ask, H extends object> (form: WireForm<A, H>): WireForm<A, H> {
  return form
}

/**
 * Every ask's wire form: adding an operation means a member of `Operation`
 * and its entry here, then what a node does with it (`NodeShare.run`).
 */
export const wireForms = {
  push: wireForm({
    reach: (op: OpOf<'push'>) => ({ to: 'uids', uids: op.uids }),
    settle: async op => op.stored === undefined ? op : { ...op, positions: await op.stored },
    // [history] the positions of the node's uids: uid -> [epoch, offset]
    head: (op, share) => ({ uids: share.uids, pos: op.positions === undefined ? undefined : positionsOf(share.uids, op.positions) }),
    rebuild: ({ uids, pos }, msg) => ({
      op: 'push',
      uids,
      msg: carried(msg),
      ...(pos === undefined ? {} : { positions: new Map(Object.entries(pos).map(([uid, [epoch, offset]]) => [uid, { epoch, offset }])) })
    })
  }),
  room: wireForm({
    reach: (op: OpOf<'room'>) => ({ to: 'room', room: op.room }),
    // [room history] `pos`: [epoch, offset] in the room's stream
    head: op => ({ room: op.room, except: op.except, pos: op.pos === undefined ? undefined : [op.pos.epoch, op.pos.offset] as const }),
    rebuild: ({ room, except, pos }, msg) => ({
      op: 'room',
      room,
      msg: carried(msg),
      ...(except === undefined ? {} : { except }),
      ...(pos === undefined ? {} : { pos: { epoch: pos[0], offset: pos[1] } })
    })
  }),
  broadcast: wireForm({
    reach: (_op: OpOf<'broadcast'>) => ({ to: 'all' }),
    head: op => ({ loggedInOnly: op.loggedInOnly }),
    rebuild: ({ loggedInOnly }, msg) => ({ op: 'broadcast', msg: carried(msg), loggedInOnly })
  }),
  kick: wireForm({
    reach: (op: OpOf<'kick'>) => ({ to: 'uids', uids: op.uids, agents: op.agents }),
    head: (op, share) => ({ uids: share.uids, agents: share.agents, except: op.except, code: op.code, reason: op.reason }),
    rebuild: ({ except, ...head }) => ({ op: 'kick', ...head, ...(except === undefined ? {} : { except }) })
  }),
  // [session]
  settings: wireForm({
    reach: (op: OpOf<'settings'>) => ({ to: 'uids', uids: [op.uid] }),
    head: op => ({ uid: op.uid, set: op.set, remove: op.remove }),
    rebuild: head => ({ op: 'settings', ...head })
  }),
  figures: wireForm({
    reach: (_op: OpOf<'figures'>) => ({ to: 'all' }),
    head: () => ({}),
    rebuild: () => ({ op: 'figures' })
  })
} satisfies { readonly [K in Ask['op']]: WireForm<OpOf<K>, object> }

/** An ask whose name has no wire form: a newer node's (in a rolling upgrade), or a bug. */
export class UnknownOperation extends TypeError {
  readonly op: string

  constructor (op: string) {
    super(`no wire form for the cluster operation "${op}"`)
    this.op = op
  }
}

/** The wire form of the ask named `op`; throws `UnknownOperation` for a name that has none. */
export function wireFormOf (op: string): WireForm<Ask, object> {
  if (!Object.hasOwn(wireForms, op)) throw new UnknownOperation(op)
  return wireForms[op as Ask['op']] as unknown as WireForm<Ask, object>
}

/** [history] The positions of `uids` that have one, as JSON. */
function positionsOf (uids: readonly string[], positions: ReadonlyMap<string, Position>): Record<string, readonly [string, number]> {
  const pos: Record<string, readonly [string, number]> = {}
  for (const uid of uids) {
    const p = positions.get(uid)
    if (p !== undefined) pos[uid] = [p.epoch, p.offset]
  }
  return pos
}

function carried (msg: OutboundMessage | undefined): OutboundMessage {
  if (msg === undefined) throw new TypeError('this cluster operation carries a message, and none came')
  return msg
}

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
