import type { Agent } from '../agent.js'
import { OutboundMessage } from '../codec/outbound.js'
import type { Processor } from '../codec/processor.js'
import type { FramingOptions } from '../framing/length-prefix.js'
import type { GateLogger } from '../logger.js'
import type { MessageRegistry } from '../messages.js'
import { MemoryHistoryStore } from './memory-store.js'
import type { NormalizedHistoryOptions } from './options.js'
import { positioner, type AddPosition } from './positioned.js'
import type { HistoryStore, Position } from './store.js'
import { formatPosition, parsePosition } from './store.js'
import { Tracker, type TrackerHost } from './tracker.js'
import type { HistoryPage } from './page.js'
import { GateError } from '../errors.js'
import type { Recovery } from './recovery.js'
import { OutageLog } from '../outage-log.js'
import { fillGap, replay } from './replay.js'

export type { BindOptions, Recovery } from './recovery.js'

/** Longest position token: an epoch (8 characters here, at most 15 from other stores), ':' and up to 16 digits. */
export const MAX_POSITION_LENGTH = 32

/** Sweeps of the memory store, at most this often (ms). */
const SWEEP_EVERY = 10_000

/**
 * Per-uid history: appends the messages registered with `history: true` when
 * they are pushed, and replays them to a connection that resumes. The store is
 * the directory's (Redis Streams in cluster mode) or memory.
 */
export class History implements TrackerHost {
  readonly opts: NormalizedHistoryOptions
  store: HistoryStore | undefined
  private readonly positioners = new Map<string, AddPosition>()
  /** The connections that asked for positions, from their resume until unbind or close. */
  private readonly trackers = new Map<Agent<any>, Tracker>()
  private readonly framing: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'>
  private readonly log: GateLogger
  private cache: { msg: OutboundMessage, token: string, out: OutboundMessage } | undefined
  private lastSweep = 0
  private readonly maxBufferedBytes: number
  private readonly maxMsgLen: number
  /** Failed appends, logged once per outage of the store (not per push). */
  private readonly appends: OutageLog

  constructor (opts: NormalizedHistoryOptions, framing: Pick<FramingOptions, 'lenMsgLen' | 'littleEndian'> & { maxBufferedBytes: number, maxMsgLen: number }, log: GateLogger) {
    this.opts = opts
    this.framing = { lenMsgLen: framing.lenMsgLen, littleEndian: framing.littleEndian }
    this.maxBufferedBytes = framing.maxBufferedBytes
    this.maxMsgLen = framing.maxMsgLen
    this.log = log
    this.appends = new OutageLog(log, 'history appends failed; messages are sent without a position until the store answers', 'history appends work again')
  }

  /** Bytes a position may add to a payload: `,"<field>":"<token>"` in JSON; less in protobuf (tag, length, token). */
  get reserve (): number {
    return this.opts.field.length + 6 + MAX_POSITION_LENGTH
  }

  get gapTimeout (): number {
    return this.opts.gapTimeout
  }

  /** At ready: the store, and how each message with history carries its position. */
  start (registry: MessageRegistry, processor: Processor, store: HistoryStore | undefined): void {
    for (const def of registry.list()) if (def.history) this.positioners.set(def.name, positioner(processor, def, this.opts.field))
    // [room history] rooms' streams live in the same store
    if (this.positioners.size > 0 || registry.list().some(def => def.roomHistory)) this.store = store ?? new MemoryHistoryStore(this.opts)
  }

  /** `uid` logged in on this node: its stream is kept before those of uids that never did. */
  loggedIn (uid: string): void {
    this.store?.loggedIn?.(uid)
  }

  /** Whether `name` is kept in history. */
  keeps (name: string): boolean {
    return this.positioners.has(name)
  }

  /**
   * Appends `msg` to every uid's stream, before it is sent. Resolves with the
   * positions of those that were stored (a store that failed is logged; those
   * uids get the message live, without a position). Throws at once, not
   * later, when the message and its position could exceed `maxMsgLen`.
   */
  append (uids: readonly string[], msg: OutboundMessage): Promise<Map<string, Position>> {
    // The position counts toward maxMsgLen, so that a tracking client never gets a payload over it.
    const size = msg.payload.length + this.reserve
    if (size > this.maxMsgLen) throw new GateError.MESSAGE_TOO_LARGE(msg.name, size, this.maxMsgLen)
    const store = this.store!
    return Promise.allSettled(uids.map(async uid => await store.append(uid, msg.name, msg.text, msg.payload))).then(results => {
      const out = new Map<string, Position>()
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') out.set(uids[i], r.value)
        else this.appends.failed(r.reason, { uid: uids[i] })
      })
      if (out.size > 0) this.appends.ok()
      return out
    })
  }

  /** See `HistoryStore.written`: when the directory may read a push's route before its appends are answered. */
  written (): Promise<void> | undefined {
    return this.store?.written?.()
  }

  /** `msg` with its position in the body (one copy per message and position, shared by the uid's connections). */
  positioned (msg: OutboundMessage, pos: Position): OutboundMessage {
    const token = formatPosition(pos)
    const c = this.cache
    if (c !== undefined && c.msg === msg && c.token === token) return c.out
    const add = this.positioners.get(msg.name)
    const out = add === undefined ? msg : new OutboundMessage(msg.name, add(msg.payload, token), msg.text, this.framing)
    this.cache = { msg, token, out }
    return out
  }

  /**
   * Starts positions for a connection just bound to `uid`, and replays what it
   * missed since `token`. Must be called right after the bind, before any await:
   * from then on, live messages for it wait in its tracker until the replay is done.
   */
  async resume (agent: Agent<any>, uid: string, token: string): Promise<Recovery> {
    const store = this.store
    this.detach(agent)
    const tracker = new Tracker(agent, uid, this)
    this.trackers.set(agent, tracker)
    if (store === undefined) {
      tracker.live()
      return { recovered: false, replayed: 0, pos: '' }
    }
    // Lets the presence of the bind reach Redis first (it is sent on the same
    // connection, in a microtask): a push appended after our read is then
    // routed to this connection, and one appended before it is in the read.
    await new Promise(resolve => setImmediate(resolve))
    const want = token === '' ? undefined : parsePosition(token)
    const out = { recovered: false, replayed: 0 }
    // A later resume of the same connection (a login message after an MQTT session's resume) takes over: this one stops.
    const mine = (): boolean => agent.isOpen && this.trackers.get(agent) === tracker
    try {
      await replay(store, uid, want, { agent, tracker, mine, framing: this.framing, maxBufferedBytes: this.maxBufferedBytes }, out)
    } catch (err) {
      this.log.warn({ err, uid }, 'history read failed; resumed without replay')
      out.recovered = false
    }
    tracker.live()
    return { recovered: out.recovered, replayed: out.replayed, pos: tracker.epoch === '' ? '' : formatPosition({ epoch: tracker.epoch, offset: tracker.last }) }
  }

  /** Fills a gap: the stored messages after `after`, offered in order; a gap the store cannot fill is skipped. */
  async fill (tracker: Tracker, after: number): Promise<void> {
    try {
      await fillGap(this.store!, tracker.uid, tracker, after, this.framing)
    } catch (err) {
      this.log.warn({ err, uid: tracker.uid }, 'history read failed; gap skipped')
    }
    tracker.skipGap()
  }

  /**
   * A page of `uid`'s history after offset `after`, bodies decoded, for the admin
   * API. Throws `FST_GATE_NO_HISTORY` when no message has history, and
   * `FST_GATE_CLUSTER_UNAVAILABLE` when the store cannot be read.
   */
  async page (uid: string, after: number, limit: number, processor: Processor): Promise<HistoryPage> {
    if (this.store === undefined) throw new GateError.NO_HISTORY()
    let r
    try {
      r = await this.store.read(uid, after, limit)
    } catch (err) {
      throw new GateError.CLUSTER_UNAVAILABLE((err as Error).message)
    }
    const items = r.items.map(item => ({ offset: item.offset, at: new Date(item.at).toISOString(), name: item.name, body: processor.decode(item.payload).body }))
    const page: HistoryPage = { uid, epoch: r.epoch, first: r.first, last: r.last, items }
    const end = items.at(-1)?.offset
    if (end !== undefined && end < r.last) page.next = end
    return page
  }

  /**
   * A live message stored at `pos` for one connection of its uid: in order and
   * with its position when the connection tracks positions, else as it is.
   * Returns whether it was written (or kept to be written in turn).
   */
  offer (agent: Agent<any>, msg: OutboundMessage, pos: Position): boolean {
    const tracker = this.trackers.get(agent)
    return tracker !== undefined ? tracker.offer(msg, pos) : agent.write(msg)
  }

  /** Whether `agent` tracks positions (resumed, until unbind or close). */
  tracks (agent: Agent<any>): boolean {
    return this.trackers.has(agent)
  }

  /**
   * `agent` got the message stored at `pos` before its position was known, as
   * it did not track positions then; if it does now (it resumed meanwhile),
   * that offset counts as written: its replay and gap fills skip it.
   */
  early (agent: Agent<any>, pos: Position): void {
    this.trackers.get(agent)?.skip(pos)
  }

  /** The position of the last kept message written to `agent`, when it tracks positions (MQTT sessions save it). */
  position (agent: Agent<any>): string | undefined {
    const t = this.trackers.get(agent)
    return t === undefined || t.epoch === '' ? undefined : formatPosition({ epoch: t.epoch, offset: t.last })
  }

  /** The connection's positions end (unbind, close). */
  detach (agent: Agent<any>): void {
    this.trackers.get(agent)?.stop()
    this.trackers.delete(agent)
  }

  sweep (now: number): void {
    if (this.store?.sweep === undefined || now - this.lastSweep < SWEEP_EVERY) return
    this.lastSweep = now
    this.store.sweep(now)
  }

  async close (): Promise<void> {
    await this.store?.close?.()
  }
}
