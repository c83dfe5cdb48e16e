import type { GateLogger as Logger } from './logger.js'
import { CloseCode, type CloseReason } from './close-codes.js'
import type { Framing, OutboundMessage } from './codec/outbound.js'
import type { DefaultMessages, MessageName } from './message-map.js'
import type { Transport } from './transport/kind.js'
import type { Backlog } from './limits/backlog.js'
import type { BindOptions, Recovery } from './history/recovery.js' // [history]
import { SessionSettings, settingsDefaults } from './session/settings.js' // [session]

export type { Transport } from './transport/kind.js'

/**
 * A transport adapter: the only part that touches a socket. The agent drives it;
 * the pipeline reports back to the agent (`countIn`, `drained`, `transportClosed`).
 */
export interface Connection {
  readonly transport: Transport
  /** The protocol's name (`leaf`, `mqtt`, or an application's own). */
  readonly protocol: string
  readonly remoteAddress: string
  /** The framing whose bytes are counted as sent (the protocol's message, without the WebSocket header). */
  readonly countFraming: Framing
  /** The framing actually written, whose unpooled copy waits in the outbound queue. */
  readonly queueFraming: Framing
  /**
   * Writes one message to the socket now. Returns false when the socket's own
   * buffer is past its high-water mark: the agent then queues further messages
   * itself until the transport calls `Agent.drained`. `queued` says the message
   * waited in that queue (write `OutboundMessage.unpooledFrame` then).
   */
  write (msg: OutboundMessage, queued: boolean): boolean
  /** Bytes the socket (and the WebSocket library) hold that the OS has not taken yet. */
  readonly bufferedAmount: number
  /** Inbound bytes the protocol holds of messages not yet complete. */
  readonly inboundBuffered?: number
  /** The agent is about to close it with this code and reason: the protocol's last word (see `ProtocolSession.closing`). */
  closing? (code: number, reason: string): void
  /** Graceful close: a WebSocket close frame with code and reason; TCP `end()`. */
  close (code: number, reason: string): void
  /** Hard close, no handshake. */
  destroy (): void
  pause (): void
  resume (): void
  /** Writes something the client ignores, to learn whether it is still there (see `Link.probe`); false when there is nothing to write. */
  probe? (): boolean
}

/** The outbound limits an agent applies, and the process-wide backlog it adds to. */
export interface OutboundLimits {
  readonly maxBufferedBytes: number
  /** 0: no process-wide bound. */
  readonly maxTotalBufferedBytes: number
}

/** What an agent needs from the gate that owns it. */
export interface AgentHost {
  readonly options: OutboundLimits
  readonly counters: GateCounters
  /** Bytes waiting in the agents' outbound queues, process-wide (a shared frame once). */
  readonly backlog: Backlog
  encode (name: string, body: unknown): OutboundMessage
  bind (agent: Agent<any>, uid: string, opts?: BindOptions): Promise<Recovery | undefined>
  unbind (agent: Agent<any>): void
  join (agent: Agent<any>, room: string): void
  leave (agent: Agent<any>, room: string): void
  closing (agent: Agent<any>): void
  closed (agent: Agent<any>, reason: CloseReason): void
  /** [session] Makes a connection's settings (bounded, reporting changes). */
  settingsFor? (agent: Agent<any>): SessionSettings
}

/**
 * Who a connection is (its uid) and where it is (its rooms) on this node. This
 * node's index (`LocalAgents`) makes it and is its only writer, so the index and
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

/** @internal A connection's handler queue as the agent holds it (dispatch knows it as an `Inbox`). */
export interface HeldInbox {
  readonly busy: boolean
}

const enum State { Open, Closing, Closed }
const noRooms: ReadonlySet<string> = new Set()

/**
 * One client connection, the same object on WebSocket and TCP (mqant's session).
 * It knows nothing of the wire format: it sends `OutboundMessage`s through its
 * `Connection`. Inbound messages go from the pipeline to the gate's dispatch;
 * the agent only counts them. It is a `BacklogHolder` by shape (`queuedBytes`,
 * `shed`): not declared with `implements`, because those members are internal
 * and the published declarations (`stripInternal`) leave them out.
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

  /** @internal The socket side (the pipeline's connection); only the agent and the gate's lifecycle drive it. */
  readonly conn: Connection
  /** @internal Kept by this node's index. */
  readonly place: Place
  /**
   * @internal This connection's handler queue (src/inbox.ts), made by the gate's
   * dispatch on the first message and dropped at the close; kept here so that
   * no message looks it up. Opaque to the agent.
   */
  inbox: HeldInbox | undefined = undefined
  private readonly host: AgentHost
  private readonly parentLog: Logger
  private childLog: Logger | undefined
  private state = State.Open
  private reason: CloseReason | undefined
  /** [session] Made on first use. */
  private settingsValue: SessionSettings | undefined = undefined
  /** Messages waiting for the socket to drain, from `outHead` on; undefined while the socket keeps up. */
  private outq: Array<OutboundMessage | undefined> | undefined = undefined
  private outHead = 0
  /** Bytes of the frames in `outq`. */
  private outBytes = 0

  constructor (id: string, conn: Connection, host: AgentHost, log: Logger, place: Place) {
    this.id = id
    this.conn = conn
    this.place = place
    this.transport = conn.transport
    this.protocol = conn.protocol
    this.remoteAddress = conn.remoteAddress
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
    return this.outBytes + this.conn.bufferedAmount
  }

  /** Inbound bytes held of messages not yet complete (leaf over TCP, MQTT; ws keeps WebSocket fragments itself). */
  get inboundBytes (): number {
    return this.conn.inboundBuffered ?? 0
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
    return (this.settingsValue ??= this.host.settingsFor?.(this) ?? new SessionSettings(settingsDefaults, () => {}))
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
      const framing = this.conn.queueFraming
      const bytes = msg.unpooledFrame(framing).length
      const { maxBufferedBytes, maxTotalBufferedBytes } = this.host.options
      const backlog = this.host.backlog
      if (this.outBytes + this.conn.bufferedAmount + bytes > maxBufferedBytes) {
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
      if (this.conn.bufferedAmount > this.host.options.maxBufferedBytes) {
        this.close(CloseCode.SLOW_CONSUMER, 'slow consumer')
        return false
      }
      if (!this.conn.write(msg, false)) this.outq = []
    }
    const bytes = msg.frame(this.conn.countFraming).length
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
      this.conn.closing?.(code, reason)
    }
    this.state = State.Closing
    this.reason = { code, reason }
    this.closingSince = Date.now()
    this.host.closing(this)
    this.conn.close(code, reason)
  }

  /**
   * Binds a uid (login). Honours the gate's multi-login policy; rejects with `FST_GATE_UID_IN_USE` under `reject`.
   * With `{ resume }` ([history], docs/sessions.md), the connection gets positions, the messages it missed are
   * replayed before this resolves, and the result says whether the recovery was complete.
   */
  bind (uid: string): Promise<void>
  bind (uid: string, opts: BindOptions): Promise<Recovery | undefined>
  async bind (uid: string, opts?: BindOptions): Promise<Recovery | undefined | void> {
    return await this.host.bind(this, uid, opts)
  }

  unbind (): void {
    this.host.unbind(this)
  }

  join (room: string): void {
    this.host.join(this, room)
  }

  leave (room: string): void {
    this.host.leave(this, room)
  }

  /**
   * @internal Inbound bytes, counted: `messages` of them carried a message (0 for
   * a protocol's control packets). The idle timer was refreshed when they
   * arrived (`touch`).
   */
  countIn (wireBytes: number, messages: 0 | 1): void {
    const counters = this.host.counters
    this.msgsIn += messages
    counters.msgsIn += messages
    this.bytesIn += wireBytes
    counters.bytesIn += wireBytes
  }

  /** @internal Called by the transport when some bytes arrived (keeps the idle timer fresh). */
  touch (): void {
    this.lastSeen = Date.now()
  }

  /**
   * @internal The transport already started the close itself (e.g. ws refused a
   * too-big frame with 1009): record why, without closing again.
   */
  closedByTransport (code: number, reason: string): void {
    if (this.state !== State.Open) return
    this.state = State.Closing
    this.reason = { code, reason }
    this.closingSince = Date.now()
    this.host.closing(this)
  }

  /** @internal Called by the transport when the socket's buffer has drained: writes what waits, in order. */
  drained (): void {
    if (this.state === State.Open) this.flushQueue(false)
  }

  /** @internal Called by the transport once the socket is gone. `fallback` is used when the gate did not start the close. */
  transportClosed (fallback: CloseReason): void {
    if (this.state === State.Closed) return
    this.state = State.Closed
    this.dropQueue()
    this.reason ??= fallback
    this.host.closed(this, this.reason)
  }

  /** Writes queued messages until the socket is full again (or all of them when `all`). */
  private flushQueue (all: boolean): void {
    const q = this.outq
    if (q === undefined) return
    const framing = this.conn.queueFraming
    const backlog = this.host.backlog
    while (this.outHead < q.length) {
      const msg = q[this.outHead]!
      q[this.outHead++] = undefined
      const bytes = msg.unpooledFrame(framing).length
      this.outBytes -= bytes
      if (msg.release(framing)) backlog.remove(bytes)
      if (!this.conn.write(msg, true) && !all) {
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
    const framing = this.conn.queueFraming
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
