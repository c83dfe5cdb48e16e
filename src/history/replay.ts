import type { Agent } from '../agent.js'
import { OutboundMessage } from '../codec/outbound.js'
import type { FramingOptions } from '../framing/length-prefix.js'
import type { HistoryStore, Position, StoredMessage } from './store.js'
import type { Tracker } from './tracker.js'

/**
 * Reading a stream back into a connection's `Tracker`: the replay of a resume
 * and the fill of a gap. One stream is a uid's (`History`) or a room's
 * (`RoomHistory`); both keep it in the same store under their own key.
 */

/** Messages read from the store per round trip of a replay. */
export const PAGE = 500

/** What a stream read needs to write its messages to a connection. */
export interface ReplayTarget {
  agent: Agent<any>
  tracker: Tracker
  /** Whether this replay still owns the connection's tracker (a later resume of the same stream takes over). */
  mine: () => boolean
  framing: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'>
  maxBufferedBytes: number
}

/**
 * Reads stream `key` for a resume from `want` (`undefined`: the first, nothing
 * to replay) and writes what the client missed to the tracker, in order and
 * once, pausing while the connection's backlog is high. Sets the tracker's
 * epoch and last offset, and `out` as it goes (what was replayed before a
 * store error stays counted). Throws what the store throws.
 */
export async function replay (store: HistoryStore, key: string, want: Position | undefined, target: ReplayTarget, out: { recovered: boolean, replayed: number }): Promise<void> {
  const { tracker, agent, mine } = target
  let r = await store.read(key, want?.offset ?? 0, want === undefined ? 0 : PAGE, true)
  if (want !== undefined && want.epoch !== r.epoch && r.epoch !== '') {
    // Another epoch: the client's stream was lost. Everything of this one is new to it.
    r = await store.read(key, 0, PAGE, true)
  }
  tracker.epoch = r.epoch
  if (want === undefined) {
    // First time: nothing to replay; what arrived since the bind or join is delivered.
    const low = tracker.lowestHeld
    tracker.last = low !== undefined ? Math.min(low - 1, r.last) : r.last
    return
  }
  const same = want.epoch === r.epoch
  out.recovered = same && want.offset <= r.last && r.first <= want.offset + 1
  tracker.last = same ? Math.min(want.offset, r.last) : 0
  let items = r.items
  while (items.length > 0 && mine()) {
    for (const item of items) {
      if (item.offset <= tracker.last) continue
      if (agent.bufferedBytes > target.maxBufferedBytes / 2) await drained(agent, target.maxBufferedBytes)
      if (!mine()) break
      tracker.write(stored(item, target.framing), { epoch: r.epoch, offset: item.offset })
      out.replayed++
    }
    if (items.length < PAGE) break
    const next = await store.read(key, tracker.last, PAGE)
    if (next.epoch !== r.epoch) break
    items = next.items
  }
}

/** Offers the tracker the messages of stream `key` after `after`, in order (a gap's fill). Throws what the store throws. */
export async function fillGap (store: HistoryStore, key: string, tracker: Tracker, after: number, framing: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'>): Promise<void> {
  const r = await store.read(key, after, PAGE)
  if (r.epoch === tracker.epoch) {
    for (const item of r.items) tracker.offer(stored(item, framing), { epoch: r.epoch, offset: item.offset })
  }
}

/** A stored message as an outbound one. */
function stored (item: StoredMessage, framing: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'>): OutboundMessage {
  return new OutboundMessage(item.name, item.payload, item.text, framing)
}

/** Waits until the connection's outbound backlog is under a quarter of its bound, so a long replay is not a slow consumer. */
export async function drained (agent: Agent<any>, maxBufferedBytes: number): Promise<void> {
  // Bounded: a client that stops reading is closed as a slow consumer by its own writes.
  for (let i = 0; i < 2000 && agent.isOpen && agent.bufferedBytes > maxBufferedBytes / 4; i++) {
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}
