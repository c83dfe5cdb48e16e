import type { GateLogger as Logger } from './logger.js'
import { CloseCode, type CloseReason } from './close-codes.js'
import type { OutboundMessage } from './codec/outbound.js'
import type { Slot } from './limits/admission.js'
import type { Backlog } from './limits/backlog.js'
import { LogLimiter } from './limits/log-limiter.js'
import type { DefaultMessages, MessageName } from './message-map.js'
import type { Link, Wire } from './link.js'
import type { ProtocolSession } from './protocol-session.js'
import type { Transport } from './transport/kind.js'
import type { BindOptions, Recovery } from './history/recovery.js' // [history]
import { SessionSettings, settingsDefaults } from './session/settings.js' // [session]

export type { Transport } from './transport/kind.js'

/** The outbound limits an agent applies, and the process-wide backlog it adds to. */
export interface OutboundLimits {
  readonly maxBufferedBytes: number
  /** 0: no process-wide bound. */
  readonly maxTotalBufferedBytes: number
}

/**
 * What an agent reaches of the gate that owns it (the lifecycle builds it once,
 * for every agent; `PeerHost` in src/pipeline/peer.ts adds what its protocol
 * session reaches).
 */
export interface AgentHost {
  readonly options: OutboundLimits
  readonly counters: GateCounters
  /** Bytes waiting in the agents' outbound queues, process-wide (a shared frame once). */
  readonly backlog: Backlog
  /** Login, uids, rooms and settings (src/membership.ts). */
  readonly membership: {
    bind (agent: Agent<any>, uid: string, opts?: BindOptions): Promise<Recovery | undefined>
    unbind (agent: Agent<any>): void
    join (agent: Agent<any>, room: string): void
    leave (agent: Agent<any>, room: string): void
    /** [session] Makes a connection's settings (bounded, reporting changes). */
    settingsFor? (agent: Agent<any>): SessionSettings
  }
  encode (name: string, body: unknown): OutboundMessage
  /** The agent is gone: the index, the directory and the disconnect hooks learn it (src/lifecycle.ts). */
  closed (agent: Agent<any>, reason: CloseReason): void
}

/** @internal A connection's handler queue as the agent holds it (dispatch makes it and knows it as an `Inbox`, src/inbox.ts). */
export interface HeldInbox {
  readonly busy: boolean
  /** The connection is gone: what waits is dropped. */
  clear (): void
}

/**
 * Who a connection is (its uid) and where it is (its rooms) on this node. This
 * node's index (`AgentIndex`) makes it and is its only writer, so the index and
 * what the agent reports cannot disagree; the agent only reads it. After the
 * close it keeps what it held, for the disconnect hooks.
 */
export interface Place {
  readonly uid: string | undefined
  readonly rooms: ReadonlySet<string> | undefined
  /** Whether a uid was ever bound (the login timeout then no longer applies). */
  readonly everBound: boolean
}

/** Gate-wide totals since start (monotonic), read by the metrics plugin. */
export interface GateCounters {
  msgsIn: number
  msgsOut: number
  bytesIn: number
  bytesOut: number
  handlerErrors: number
  /** Connections refused: gate full, per-IP cap or rate, or not serving. */
  refused: number
  /** Times a connection's reading paused because it passed `msgRate`. */
  throttled: number
  /** Times a connection's reading paused because its address passed `msgRatePerIp`. */
  addressThrottled: number
  /** Times a login waited because its IP passed `loginRatePerIp`. */
  loginsThrottled: number
  /** Closes by close code. */
  closes: Map<number, number>
}

const enum State { Open, Closing, Closed }
const noRooms: ReadonlySet<string> = new Set()
/** 1006: closed without a close frame (WebSocket), or a socket error (TCP). */
const ABNORMAL = 1006
/** Lines about lost connections, capped process-wide (a network outage loses them all at once). */
const lostLines = new LogLimiter()

/**
 * One client connection, the same object on WebSocket and TCP and for every
 * protocol (mqant's session). Each connection is one object of the gate's, an
 * agent (made as a `PeerAgent`, src/pipeline/peer.ts), beside its socket
 * (`Link`), its protocol's parser state (`ProtocolSession`) and its entry in
 * this node's index (`Place`). It owns the connection's flow: the admission
 * place it holds, its counters, its handler queue (made on the first message),
 * its outbound queue and byte bounds, its handshake and keep-alive deadlines,
 * and its close.
 *
 * Three sides, one object:
 * - **the application's**, declared here: `send`, `bind`, `join`, `close`, `uid`, `data`...;
 * - **its link's** (`LinkEvents`, src/link.ts), declared here: the
 *   transport reports socket events to it (`socketData`, `socketDrained`,
 *   `socketClosed`...), and its inbox pauses and resumes its reading;
 * - **its protocol session's** (`ProtocolPeer`, src/protocol/protocol.ts),
 *   declared by the subclass `PeerAgent`: the session gets the agent itself in
 *   `Protocol.open` and hands it what it parsed (`receive`, `deliver`, `control`...).
 *   That side names message definitions, whose handlers name `Agent`: a
 *   subclass in a file above both keeps the types free of import cycles.
 *
 * It knows nothing of a wire format: it writes `OutboundMessage`s through its
 * link, in the framing its `Wire` names. The members of the link's side are
 * tagged internal, and so left out of the published declarations, as is its
 * `BacklogHolder` shape (`queuedBytes`, `shed`).
 */
export class Agent<M extends object = DefaultMessages> {
  /** Unique in the cluster: `<nodeId>-<sequence>`. */
  readonly id: string
  readonly transport: Transport
  /** What the bytes say: `leaf`, `mqtt`, or the name of an application's own protocol. */
  readonly protocol: string
  readonly remoteAddress: string
  /** Unix milliseconds. */
  readonly connectedAt: number
  /** Application data; the gate never reads it. */
  data: Record<string, unknown> = {}
  msgsIn = 0
  msgsOut = 0
  bytesIn = 0
  bytesOut = 0
  /** When the last bytes arrived (unix ms), for the idle timeout. */
  lastSeen: number
  /** When `close()` was called (unix ms), for the close timeout. */
  closingSince = 0

  /** @internal The socket side; only the agent and the gate's lifecycle drive it. */
  readonly link: Link
  /** @internal How this connection's messages are framed, counted and probed (shared per protocol and transport). */
  readonly wire: Wire
  /** @internal Kept by this node's index. */
  readonly place: Place
  /** @internal The admission place this connection holds (given back at the close). */
  readonly slot: Slot
  /** @internal This connection's handler queue, made by the gate's dispatch on the first message. */
  inbox: HeldInbox | undefined = undefined
  /** @internal The protocol's handshake (MQTT CONNECT) is pending: the connection closes after `connectTimeout`. */
  handshakePending = false
  /** @internal The protocol's keep-alive in ms (MQTT), beside `idleTimeout`; 0: none. */
  keepAliveMs = 0
  /** @internal When this connection was last probed while throttled (-1: never; src/dispatch.ts). */
  probedAt = -1
  /** @internal Its `bytesOut` at that probe: a connection sent something since needs no probe. */
  probedBytesOut = 0
  private session: ProtocolSession | undefined = undefined
  protected readonly host: AgentHost
  private readonly parentLog: Logger
  private childLog: Logger | undefined
  private state = State.Open
  private reason: CloseReason | undefined
  /** Reading is paused by the inbox (backpressure or rate). */
  private paused = false
  /** [session] Made on first use. */
  private settingsValue: SessionSettings | undefined = undefined
  /** Messages waiting for the socket to drain, from `outHead` on; undefined while the socket keeps up. */
  private outq: Array<OutboundMessage | undefined> | undefined = undefined
  private outHead = 0
  /** Bytes of the frames in `outq`. */
  private outBytes = 0

  /** Made by the gate at admission (`Lifecycle.accept`), inside this node's index; an application never makes one. */
  constructor (id: string, link: Link, wire: Wire, host: AgentHost, log: Logger, place: Place, slot: Slot) {
    this.id = id
    this.link = link
    this.wire = wire
    this.place = place
    this.slot = slot
    this.transport = link.transport
    this.protocol = wire.protocol
    this.remoteAddress = link.remoteAddress
    this.host = host
    this.parentLog = log
    this.connectedAt = this.lastSeen = Date.now()
  }

  /** A child logger bound to this connection's id, made on first use. */
  get log (): Logger {
    return (this.childLog ??= this.parentLog.child({ agent: this.id, transport: this.transport, protocol: this.protocol }))
  }

  /** The uid bound at login, if any. */
  get uid (): string | undefined {
    return this.place.uid
  }

  get rooms (): ReadonlySet<string> {
    return this.place.rooms ?? noRooms
  }

  get isOpen (): boolean {
    return this.state === State.Open
  }

  /** Outbound bytes not yet taken by the OS: the gate's queue plus the socket's buffer. */
  get bufferedBytes (): number {
    return this.outBytes + this.link.bufferedAmount
  }

  /** Inbound bytes held of messages not yet complete (leaf over TCP, MQTT; ws keeps WebSocket fragments itself). */
  get inboundBytes (): number {
    return this.session?.buffered ?? 0
  }

  /** @internal Bytes of the frames in this connection's queue (shared frames counted whole). */
  get queuedBytes (): number {
    return this.outBytes
  }

  /** @internal The process-wide backlog bound binds and this queue is among the largest: closed (4004). */
  shed (): void {
    this.close(CloseCode.SLOW_CONSUMER, 'slow consumer: server backlog full')
  }

  /**
   * [session] This connection's settings: string keys and values, bounded (`session` option),
   * listed in `GET /gate/users/:uid` on every node and kept by the session store (docs/sessions.md).
   */
  get settings (): SessionSettings {
    return (this.settingsValue ??= this.host.membership.settingsFor?.(this) ?? new SessionSettings(settingsDefaults, () => {}))
  }

  /** @internal [session] Whether this connection has settings (without making them). */
  get hasSettings (): boolean {
    return this.settingsValue !== undefined && this.settingsValue.size > 0
  }

  /** Why the connection closed (set once closing starts). */
  get closeReason (): CloseReason | undefined {
    return this.reason
  }

  /**
   * Encodes and sends one message. Returns false, and sends nothing, when the
   * connection is closed or was just closed as a slow consumer (4004). Throws a
   * `GateError` when the message is unknown, invalid or too large; the connection
   * stays open then. With `GateMessages` extended, `name` and `body` are typed.
   */
  send<N extends MessageName<M>> (name: N, body: M[N]): boolean {
    return this.write(this.host.encode(name, body))
  }

  /**
   * Sends an already encoded message (shared by pushes and broadcasts). While the
   * socket keeps up, it goes straight to the socket. Once the socket's buffer is
   * full, messages wait in this agent's queue (shared buffers, no copies per
   * receiver) until the socket drains. A connection whose waiting bytes would pass
   * `maxBufferedBytes`, or that would add to a process-wide backlog already at
   * `maxTotalBufferedBytes`, is closed as a slow consumer (4004) instead.
   */
  write (msg: OutboundMessage): boolean {
    if (this.state !== State.Open) return false
    const q = this.outq
    if (q !== undefined) {
      const framing = this.wire.queueFraming
      const bytes = msg.unpooledFrame(framing).length
      const { maxBufferedBytes, maxTotalBufferedBytes } = this.host.options
      const backlog = this.host.backlog
      if (this.outBytes + this.link.bufferedAmount + bytes > maxBufferedBytes) {
        this.close(CloseCode.SLOW_CONSUMER, 'slow consumer')
        return false
      }
      // A frame another queue holds already costs the process nothing more.
      if (maxTotalBufferedBytes > 0 && !msg.held(framing) && !backlog.makeRoom(bytes, maxTotalBufferedBytes, this)) return false
      if (this.state !== State.Open) return false
      if (msg.hold(framing)) backlog.add(bytes)
      if (this.outBytes === 0) backlog.holders.add(this)
      q.push(msg)
      this.outBytes += bytes
    } else {
      // Only a transport that buffers by itself (WebSocket compression) gets here with a backlog.
      if (this.link.bufferedAmount > this.host.options.maxBufferedBytes) {
        this.close(CloseCode.SLOW_CONSUMER, 'slow consumer')
        return false
      }
      if (!this.link.write(msg, false)) this.outq = []
    }
    const bytes = msg.frame(this.wire.countFraming).length
    const counters = this.host.counters
    this.msgsOut++
    this.bytesOut += bytes
    counters.msgsOut++
    counters.bytesOut += bytes
    return true
  }

  /**
   * Closes the connection: WebSocket clients get `code` and `reason` in the close
   * frame; TCP clients see the socket end. Later calls do nothing.
   */
  close (code: number = CloseCode.NORMAL, reason = ''): void {
    if (this.state !== State.Open) return
    // What waits in the queue goes out before the close (a slow consumer's is dropped).
    if (code === CloseCode.SLOW_CONSUMER) this.dropQueue()
    else {
      this.flushQueue(true)
      this.session?.closing?.(code, reason)
    }
    this.closingStarted(code, reason)
    this.session?.stop?.()
    this.link.close(code, reason)
  }

  /**
   * Binds a uid (login). Honours the gate's multi-login policy; rejects with `FST_GATE_UID_IN_USE` under `reject`.
   * With `{ resume }` ([history], docs/sessions.md), the connection gets positions, the messages it missed are
   * replayed before this resolves, and the result says whether the recovery was complete.
   */
  bind (uid: string): Promise<void>
  bind (uid: string, opts: BindOptions): Promise<Recovery | undefined>
  async bind (uid: string, opts?: BindOptions): Promise<Recovery | undefined | void> {
    return await this.host.membership.bind(this, uid, opts)
  }

  unbind (): void {
    this.host.membership.unbind(this)
  }

  join (room: string): void {
    this.host.membership.join(this, room)
  }

  leave (room: string): void {
    this.host.membership.leave(this, room)
  }

  // ---- Admission: the protocol session that reads for it -----------------------------

  /** @internal Once admitted: the protocol session that reads this connection's bytes. */
  open (session: ProtocolSession): void {
    this.session = session
  }

  // ---- Flow control: what its inbox and the gate's dispatch drive ---------------------

  /** @internal The inbox holds: stop reading. */
  pause (): void {
    this.paused = true
    this.link.pause()
    this.session?.pause?.()
  }

  /**
   * @internal The inbox has room again. The session handles what it kept first:
   * that may pause the connection again (the handler queue filled up, or the rate
   * limit ran out), and then the socket must stay paused, or every chunk it reads
   * would pile up in the session.
   */
  resume (): void {
    this.paused = false
    this.session?.resume?.()
    if (!this.paused) this.link.resume()
  }

  /** @internal Writes something the client ignores (see `Link.probe`); false when there is nothing to write. */
  probe (): boolean {
    return this.link.probe(this.wire.probe)
  }

  // ---- LinkEvents: what its socket reports ---------------------------------------------

  /** @internal Bytes arrived: a chunk of a byte stream, or one whole WebSocket message. */
  socketData (chunk: Buffer): void {
    this.lastSeen = Date.now()
    this.session!.data(chunk)
  }

  /** @internal Bytes arrived that carry no data (a WebSocket ping). */
  socketAlive (): void {
    this.lastSeen = Date.now()
  }

  /** @internal The socket's buffer drained: what waits is written, in order. */
  socketDrained (): void {
    if (this.state === State.Open) this.flushQueue(false)
  }

  /** @internal The transport started the close by itself (ws refused a too-big frame with 1009): record why, without closing again. */
  socketFailed (code: number, reason: string): void {
    this.log.warn({ closeCode: code, reason }, 'bad frame; the transport closed the connection')
    this.session?.stop?.()
    if (this.state === State.Open) this.closingStarted(code, reason)
  }

  /** @internal The socket is gone. `fallback` is the reason when the gate did not start the close. */
  socketClosed (fallback: CloseReason): void {
    this.session?.stop?.()
    if (this.state === State.Closed) return
    // Gone without a close frame and without the gate closing it (lost, reset, or
    // terminated by the transport itself): one line saying so, repeats capped.
    if (fallback.code === ABNORMAL && this.reason === undefined) {
      const suppressed = lostLines.allow('lost')
      if (suppressed >= 0) this.log.info({ closeCode: ABNORMAL, reason: fallback.reason || 'no close frame: connection lost or terminated', suppressed }, 'connection lost')
    }
    this.state = State.Closed
    this.dropQueue()
    this.inbox?.clear()
    this.inbox = undefined
    this.reason ??= fallback
    this.host.closed(this, this.reason)
  }

  // ---- Inside ----------------------------------------------------------------------------

  /** @internal Inbound bytes, counted: `messages` of them carried a message (0 for a protocol's control packets). */
  protected countIn (wireBytes: number, messages: 0 | 1): void {
    const counters = this.host.counters
    this.msgsIn += messages
    counters.msgsIn += messages
    this.bytesIn += wireBytes
    counters.bytesIn += wireBytes
  }

  /** Closing from now on, for this reason (the close handshake is timed from here). */
  private closingStarted (code: number, reason: string): void {
    this.state = State.Closing
    this.reason = { code, reason }
    this.closingSince = Date.now()
  }

  /** Writes queued messages until the socket is full again (or all of them when `all`). */
  private flushQueue (all: boolean): void {
    const q = this.outq
    if (q === undefined) return
    const framing = this.wire.queueFraming
    const backlog = this.host.backlog
    while (this.outHead < q.length) {
      const msg = q[this.outHead]!
      q[this.outHead++] = undefined
      const bytes = msg.unpooledFrame(framing).length
      this.outBytes -= bytes
      if (msg.release(framing)) backlog.remove(bytes)
      if (!this.link.write(msg, true) && !all) {
        if (this.outHead > 1024 && this.outHead * 2 > q.length) {
          q.splice(0, this.outHead)
          this.outHead = 0
        }
        if (this.outBytes === 0) backlog.holders.delete(this)
        return
      }
    }
    backlog.holders.delete(this)
    this.outq = undefined
    this.outHead = 0
  }

  private dropQueue (): void {
    const q = this.outq
    if (q === undefined) return
    const framing = this.wire.queueFraming
    const backlog = this.host.backlog
    for (let i = this.outHead; i < q.length; i++) {
      const msg = q[i]!
      if (msg.release(framing)) backlog.remove(msg.unpooledFrame(framing).length)
    }
    backlog.holders.delete(this)
    this.outBytes = 0
    this.outq = undefined
    this.outHead = 0
  }
}
