import type { PresenceEvents } from '../presence-events.js'
import type { PresenceChange } from './directory.js'

/**
 * The `join` and `leave` events of this node's own connections, from a change
 * of its index: every directory fires them at once, on the member's node
 * (a dead node's members leave through the directory that removes them).
 */
export function memberEvents (change: PresenceChange, nodeId: string, events: PresenceEvents): void {
  if (!events.wanted) return
  const { agent } = change
  switch (change.kind) {
    case 'joined':
      events.emit({ type: 'join', room: change.room, id: agent.id, uid: agent.uid, node: nodeId, died: false })
      break
    case 'left':
      events.emit({ type: 'leave', room: change.room, id: agent.id, uid: agent.uid, node: nodeId, died: false })
      break
    case 'disconnected':
      for (const room of agent.rooms) events.emit({ type: 'leave', room, id: agent.id, uid: change.uid, node: nodeId, died: false })
  }
}
