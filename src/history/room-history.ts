import type { Agent } from '../agent.js'
import { OutboundMessage } from '../codec/outbound.js'
import type { Processor } from '../codec/processor.js'
import { GateError } from '../errors.js'
import type { FramingOptions } from '../framing/length-prefix.js'
import type { GateLogger } from '../logger.js'
import type { MessageRegistry } from '../messages.js'
import { OutageLog } from '../outage-log.js'
import type { History } from './history.js'
import { fillGap, replay } from './replay.js'
import { MemoryHistoryStore } from './memory-store.js'
import { positioner, type AddPosition } from './positioned.js'
import type { Recovery } from './recovery.js'
import { formatPosition, parsePosition, type Position } from './store.js'
import { Tracker, type TrackerHost } from './tracker.js'

/**
 * The store key of a room's stream, beside the uids' streams in the same
 * `HistoryStore` (no uid starts with NUL: src/identity.ts `isUid`). In Redis it
 * becomes the hash tag `{<prefix>:u:\0room\0<room>}`, a slot per room, so a
 * Redis Cluster spreads rooms over its slots as it does uids.
 */
export const roomKey = (room: string): string => `\0room\0${room}`

/** Adds the room and the position to an encoded room message. */
type AddRoomPosition = (payload: Buffer, room: string, token: string) => Buffer

/**
 * Room history (docs/sessions.md): appends the messages registered with
 * `roomHistory: true` to their room's stream when they are pushed to a room,
 * and replays them to a connection that subscribes with the position it last
 * saw (`Gate_Subscribe { since }`, an MQTT persistent session). A connection
 * that subscribed with a position gets each kept message of that room in
 * order, once, with two more body fields: the room (`history.roomField`) and
 * the position (`history.field`); every other connection gets it as it is.
 *
 * Same store, same streams, same bounds as per-uid history (`History`), and
 * the same `Tracker` per connection and room.
 */
export class RoomHistory {
  private readonly history: History
  private readonly positioners = new Map<string, AddRoomPosition>()
  /** The connections that subscribed with positions, and their trackers by room. */
  private readonly trackers = new Map<Agent<any>, Map<string, Tracker>>()
  private readonly framing: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'>
  private readonly maxBufferedBytes: number
  private readonly maxMsgLen: number
  private readonly log: GateLogger
  private readonly appends: OutageLog
  private cache: { msg: OutboundMessage, room: string, token: string, out: OutboundMessage } | undefined

  constructor (history: History, framing: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'> & { maxBufferedBytes: number, maxMsgLen: number }, log: GateLogger) {
    this.history = history
    this.framing = { lenMsgLen: framing.lenMsgLen, littleEndian: framing.littleEndian }
    this.maxBufferedBytes = framing.maxBufferedBytes
    this.maxMsgLen = framing.maxMsgLen
    this.log = log
    this.appends = new OutageLog(log, 'room history appends failed; room messages are sent without a position until the store answers', 'room history appends work again')
  }

  /** At ready (after `History.start`, whose store it shares): how each kept room message carries its room and position. */
  start (registry: MessageRegistry, processor: Processor): void {
    const { field, roomField } = this.history.opts
    for (const def of registry.list()) {
      if (!def.roomHistory) continue
      const addPos: AddPosition = positioner(processor, def, field)
      const addRoom: AddPosition = positioner(processor, def, roomField)
      this.positioners.set(def.name, (payload, room, token) => addPos(addRoom(payload, room), token))
    }
  }

  /** Whether any message is kept for rooms. */
  get enabled (): boolean {
    return this.positioners.size > 0
  }

  /** Whether `name` is kept when pushed to a room. */
  keeps (name: string): boolean {
    return this.positioners.has(name)
  }

  /**
   * Appends `msg` to `room`'s stream, before it is sent; resolves with its
   * position, or `undefined` when the store failed (logged once per outage: the
   * message then goes out live, without a position).
   */
  async append (room: string, msg: OutboundMessage): Promise<Position | undefined> {
    // Room and position count toward maxMsgLen, so that a tracking client never gets a payload over it.
    const size = msg.payload.length + this.reserve(room)
    if (size > this.maxMsgLen) throw new GateError.MESSAGE_TOO_LARGE(msg.name, size, this.maxMsgLen)
    try {
      const pos = await this.history.store!.append(roomKey(room), msg.name, msg.text, msg.payload)
      this.appends.ok()
      return pos
    } catch (err) {
      this.appends.failed(err, { room })
      return undefined
    }
  }

  /** A live room message stored at `pos`, for one member: in order and with room and position when it tracks the room, else as it is. */
  offer (agent: Agent<any>, room: string, msg: OutboundMessage, pos: Position): boolean {
    const tracker = this.trackers.get(agent)?.get(room)
    return tracker !== undefined ? tracker.offer(msg, pos) : agent.write(msg)
  }

  /**
   * A live room message stored at `pos` that `agent` is not sent (a push
   * except it): when it tracks the room, that offset counts as written, so
   * that the next message does not look like a gap that a fill would close
   * with this very message.
   */
  skip (agent: Agent<any>, room: string, pos: Position): void {
    this.trackers.get(agent)?.get(room)?.skip(pos)
  }

  /**
   * Starts positions of `room` for a connection that just joined it, and
   * replays what it missed since `since` (`''`: none, the first subscribe).
   * Called right after the join, before any await: from then on, live messages
   * of the room wait in its tracker until the replay is done.
   */
  async resume (agent: Agent<any>, room: string, since: string): Promise<Recovery> {
    const store = this.history.store
    this.detach(agent, room)
    const tracker = this.track(agent, room)
    if (store === undefined) {
      tracker.live()
      return { recovered: false, replayed: 0, pos: '' }
    }
    // Lets the room presence of the join reach Redis first (sent in a microtask):
    // a push appended after our read is then routed here, one appended before is in the read.
    await new Promise(resolve => setImmediate(resolve))
    const key = roomKey(room)
    if (store instanceof MemoryHistoryStore) store.loggedIn(key) // watched: kept before streams nobody asked for (Redis: READ marks it)
    const want = since === '' ? undefined : parsePosition(since)
    const out = { recovered: false, replayed: 0 }
    const mine = (): boolean => agent.isOpen && this.trackers.get(agent)?.get(room) === tracker
    try {
      await replay(store, key, want, { agent, tracker, mine, framing: this.framing, maxBufferedBytes: this.maxBufferedBytes }, out)
    } catch (err) {
      this.log.warn({ err, room }, 'room history read failed; subscribed without replay')
      out.recovered = false
    }
    tracker.live()
    // One more look after gapTimeout: a push appended after our read by a node
    // that had not yet seen this member is read from the stream, not lost.
    setTimeout(() => { if (mine()) void this.fill(room, tracker, tracker.last) }, this.history.gapTimeout).unref()
    return { recovered: out.recovered, replayed: out.replayed, pos: tracker.epoch === '' ? '' : formatPosition({ epoch: tracker.epoch, offset: tracker.last }) }
  }

  /** Whether `agent` tracks `room` (subscribed with a position, or an MQTT persistent session's room). */
  tracks (agent: Agent<any>, room: string): boolean {
    return this.trackers.get(agent)?.has(room) === true
  }

  /** The position of the last kept message of `room` written to `agent`, when it tracks the room (MQTT sessions save it). */
  position (agent: Agent<any>, room: string): string | undefined {
    const t = this.trackers.get(agent)?.get(room)
    return t === undefined || t.epoch === '' ? undefined : formatPosition({ epoch: t.epoch, offset: t.last })
  }

  /** The connection's positions of `room` end (it left), or of every room (`room` undefined: it closed). */
  detach (agent: Agent<any>, room?: string): void {
    const mine = this.trackers.get(agent)
    if (mine === undefined) return
    if (room === undefined) {
      for (const t of mine.values()) t.stop()
      this.trackers.delete(agent)
      return
    }
    mine.get(room)?.stop()
    mine.delete(room)
    if (mine.size === 0) this.trackers.delete(agent)
  }

  /** Bytes room and position may add: `,"<roomField>":<room as JSON>` and `,"<field>":"<token>"` in JSON; less in protobuf. */
  private reserve (room: string): number {
    return this.history.reserve + this.history.opts.roomField.length + 4 + Buffer.byteLength(JSON.stringify(room))
  }

  private track (agent: Agent<any>, room: string): Tracker {
    const host: TrackerHost = {
      gapTimeout: this.history.gapTimeout,
      positioned: (msg, pos) => this.positioned(msg, room, pos),
      fill: async (tracker, after) => { await this.fill(room, tracker, after) }
    }
    const tracker = new Tracker(agent, roomKey(room), host)
    let mine = this.trackers.get(agent)
    if (mine === undefined) this.trackers.set(agent, mine = new Map())
    mine.set(room, tracker)
    return tracker
  }

  /** `msg` with its room and position (one copy per message, room and position, shared by the room's tracking members). */
  private positioned (msg: OutboundMessage, room: string, pos: Position): OutboundMessage {
    const token = formatPosition(pos)
    const c = this.cache
    if (c !== undefined && c.msg === msg && c.room === room && c.token === token) return c.out
    const add = this.positioners.get(msg.name)
    const out = add === undefined ? msg : new OutboundMessage(msg.name, add(msg.payload, room, token), msg.text, this.framing)
    this.cache = { msg, room, token, out }
    return out
  }

  /** Fills a gap of `room`: the stored messages after `after`, offered in order; a gap the store cannot fill is skipped. */
  private async fill (room: string, tracker: Tracker, after: number): Promise<void> {
    try {
      await fillGap(this.history.store!, roomKey(room), tracker, after, this.framing)
    } catch (err) {
      this.log.warn({ err, room }, 'room history read failed; gap skipped')
    }
    tracker.skipGap()
  }
}
