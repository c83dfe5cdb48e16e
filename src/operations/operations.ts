import type { Agent } from '../agent.js'
import type { ClusterAnswer, Delivery, KickResult, SettingsResult } from '../answers.js'
import type { OutboundMessage } from '../codec/outbound.js'
import type { Directory, LocalNode } from '../directory/directory.js'
import type { NodeFigures } from '../figures/schema.js'
import type { History } from '../history/history.js'
import type { RoomHistory } from '../history/room-history.js'
import type { ClusterFigures, KickTarget, Operation, RemoteShare, RoomExcept } from './operation.js'

/**
 * The cluster-wide operations: this node's share first (`LocalNode.run`), then
 * the other nodes' through the directory (socket.io's adapter does the same:
 * the local broadcast, then the publish). The answers add both counts up.
 */
export class Operations {
  private readonly node: LocalNode
  private readonly directory: Directory
  private readonly history: History
  private readonly roomHistory: RoomHistory

  constructor (node: LocalNode, directory: Directory, history: History, roomHistory: RoomHistory) {
    this.node = node
    this.directory = directory
    this.history = history
    this.roomHistory = roomHistory
  }

  /** Sends to every connection of these uids; [history] appended to their streams first when `msg` keeps history. */
  async pushToUids (uids: readonly string[], msg: OutboundMessage): Promise<Delivery> {
    const list = [...new Set(uids)]
    if (!this.history.keeps(msg.name)) return delivered(await this.run({ op: 'push', uids: list, msg }))
    // [history] appended before it is sent to the connections that track positions; `stored` says to how many uids' streams.
    // The others get it at once, as without history (`early`: which they are).
    const stored = this.history.append(list, msg)
    const early = new Set<Agent<any>>()
    let here = this.node.run({ op: 'push', uids: list, msg, early })
    const written = this.history.written()
    if (written === undefined) {
      const positions = await stored
      here += this.node.run({ op: 'push', uids: list, msg, positions, early })
      const there = await this.directory.remote({ op: 'push', uids: list, msg, positions })
      return { ...delivered({ ...answerOf(there), n: here + there.n }), stored: positions.size }
    }
    // The store runs the appends before any command sent after `written` (one Redis connection): the
    // directory reads where the uids are while they run, one round trip for both, and a client that
    // binds and reads its stream meanwhile either has the message in its read or is in the route.
    await written
    const [positions, there] = await Promise.all([
      stored.then(positions => { here += this.node.run({ op: 'push', uids: list, msg, positions, early }); return positions }),
      this.directory.remote({ op: 'push', uids: list, msg, stored })
    ])
    return { ...delivered({ ...answerOf(there), n: here + there.n }), stored: positions.size }
  }

  /** `except`: a connection and/or a uid the push skips, on every node. */
  async pushToRoom (room: string, msg: OutboundMessage, except?: RoomExcept): Promise<Delivery> {
    if (!this.roomHistory.keeps(msg.name)) return delivered(await this.run(except === undefined ? { op: 'room', room, msg } : { op: 'room', room, msg, except }))
    // [room history] appended to the room's stream before it is sent; `stored`: 1 when it was
    const pos = await this.roomHistory.append(room, msg)
    const answer = delivered(await this.run({ op: 'room', room, msg, ...(except === undefined ? {} : { except }), ...(pos === undefined ? {} : { pos }) }))
    return { ...answer, stored: pos === undefined ? 0 : 1 }
  }

  async broadcast (msg: OutboundMessage, loggedInOnly: boolean): Promise<Delivery> {
    return delivered(await this.run({ op: 'broadcast', msg, loggedInOnly }))
  }

  async kick (target: KickTarget, code: number, reason: string): Promise<KickResult> {
    const { n, ...answer } = await this.run({ op: 'kick', uids: target.uids ?? [], agents: target.agents ?? [], except: target.except, code, reason })
    return { kicked: n, ...answer }
  }

  /** [session] Settings of every connection of `uid`. */
  async updateSettings (uid: string, set: Record<string, string>, remove: readonly string[]): Promise<SettingsResult> {
    const { n, ...answer } = await this.run({ op: 'settings', uid, set, remove })
    return { updated: n, ...answer }
  }

  /** Every live node's figures, this node's first; a node without a reporter (or no answer) is missing. */
  async figures (): Promise<ClusterFigures> {
    const mine = this.node.figures()
    const there = await this.directory.remote({ op: 'figures' })
    const nodes: NodeFigures[] = mine === undefined ? [] : [mine]
    const missing = mine === undefined ? [this.node.nodeId] : []
    for (const [node, payload] of [...(there.replies ?? [])].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)) {
      const figures = JSON.parse(payload.toString()) as NodeFigures | null
      if (figures === null) missing.push(node)
      else nodes.push(figures)
    }
    missing.push(...there.missingNodes ?? [])
    return missing.length === 0 && there.partial !== true ? { nodes } : { nodes, partial: true, missingNodes: missing.sort() }
  }

  /** This node's share, then the others'. */
  private async run (op: Operation): Promise<ClusterAnswer & { n: number }> {
    const here = this.node.run(op)
    const there = await this.directory.remote(op)
    return { ...answerOf(there), n: here + there.n }
  }
}

function delivered ({ n, ...answer }: ClusterAnswer & { n: number }): Delivery {
  return { delivered: n, ...answer }
}

function answerOf (share: RemoteShare): ClusterAnswer {
  if (share.partial !== true) return {}
  return share.missingNodes === undefined ? { partial: true } : { partial: true, missingNodes: share.missingNodes }
}
