import type { Agent } from '../agent.js'
import type { OutboundMessage } from '../codec/outbound.js'
import type { History } from '../history/history.js'
import type { RoomHistory } from '../history/room-history.js'
import type { Position } from '../history/store.js'
import type { AgentIndex } from '../agent-index.js'
import type { Operation, RoomExcept } from './operation.js'

/**
 * This node's share of an operation, done with its own connections; the same
 * code serves the gate's own operations and those other nodes ask for.
 * Returns how many connections it reached (written, closed, updated).
 */
export class NodeShare {
  private readonly local: AgentIndex
  private readonly history: History
  private readonly roomHistory: RoomHistory

  constructor (local: AgentIndex, history: History, roomHistory: RoomHistory) {
    this.local = local
    this.history = history
    this.roomHistory = roomHistory
  }

  run (op: Operation): number {
    switch (op.op) {
      case 'push': return this.push(op.uids, op.msg, op.positions, op.early)
      case 'room': return op.except === undefined && op.pos === undefined ? this.writeAll(this.local.members(op.room), op.msg) : this.room(op.room, op.msg, op.except, op.pos)
      case 'broadcast': return this.broadcast(op.msg, op.loggedInOnly)
      case 'kick': return this.kick(op.uids, op.agents, op.except, op.code, op.reason)
      case 'settings': return this.settings(op.uid, op.set, op.remove)
    }
  }

  private push (uids: readonly string[], msg: OutboundMessage, positions: ReadonlyMap<string, Position> | undefined, early: Set<Agent<any>> | undefined): number {
    let n = 0
    for (const uid of uids) {
      const set = this.local.agentsOf(uid)
      if (set === undefined) continue
      if (early !== undefined && positions === undefined) {
        // [history] before the positions: the connections that do not track them
        for (const agent of set) {
          if (this.history.tracks(agent)) continue
          early.add(agent)
          if (agent.write(msg)) n++
        }
        continue
      }
      // [history] connections that asked for positions get the message in order, with its position
      const pos = positions?.get(uid)
      for (const agent of set) {
        if (early?.has(agent) === true) {
          if (pos !== undefined) this.history.early(agent, pos)
        } else if (pos !== undefined ? this.history.offer(agent, msg, pos) : agent.write(msg)) n++
      }
    }
    return n
  }

  /**
   * A room push that skips a connection and/or a uid (except-the-sender), or
   * [room history] that was stored at `pos`: members that track the room get it in order, with its position.
   */
  private room (room: string, msg: OutboundMessage, except: RoomExcept | undefined, pos: Position | undefined): number {
    let n = 0
    for (const agent of this.local.members(room) ?? []) {
      if (except !== undefined && (agent.id === except.agent || (except.uid !== undefined && agent.uid === except.uid))) {
        if (pos !== undefined) this.roomHistory.skip(agent, room, pos)
        continue
      }
      if (pos !== undefined ? this.roomHistory.offer(agent, room, msg, pos) : agent.write(msg)) n++
    }
    return n
  }

  private writeAll (agents: Iterable<Agent> | undefined, msg: OutboundMessage): number {
    let n = 0
    if (agents !== undefined) for (const agent of agents) if (agent.write(msg)) n++
    return n
  }

  private broadcast (msg: OutboundMessage, loggedInOnly: boolean): number {
    let n = 0
    for (const agent of this.local.all()) {
      if (loggedInOnly && agent.uid === undefined) continue
      if (agent.write(msg)) n++
    }
    return n
  }

  /** Closes the targeted open connections; returns how many were closed. */
  private kick (uids: readonly string[], agents: readonly string[], except: string | undefined, code: number, reason: string): number {
    const victims = new Set<Agent>()
    for (const uid of uids) for (const agent of this.local.agentsOf(uid) ?? []) victims.add(agent)
    for (const id of agents) {
      const agent = this.local.get(id)
      if (agent !== undefined) victims.add(agent)
    }
    let n = 0
    for (const agent of victims) {
      if (agent.id === except || !agent.isOpen) continue
      agent.close(code, reason)
      n++
    }
    return n
  }

  /** [session] Updates the settings of every open connection of `uid` here. */
  private settings (uid: string, set: Readonly<Record<string, string>>, remove: readonly string[]): number {
    let n = 0
    for (const agent of this.local.agentsOf(uid) ?? []) {
      if (!agent.isOpen) continue
      agent.settings.update(set, remove)
      n++
    }
    return n
  }
}
