import type { GateLogger as Logger } from './logger.js'
import { CloseCode, type CloseReason } from './close-codes.js'
import type { OutboundMessage } from './codec/outbound.js'
import type { Inbox } from './inbox.js'
import type { DefaultMessages, MessageName } from './messages.js'

export type Transport = 'ws' | 'tcp'

/**
 * A transport adapter: the only part that touches a socket. The agent drives it;
 * it reports back through `Agent.receive` and `Agent.transportClosed`.
 */
export interface Connection {
  readonly transport: Transport
  readonly remoteAddress: string
  /** Queues one message; `done` runs once it has been handed to the OS. */
  write (msg: OutboundMessage, done: () => void): void
  /** Graceful close: a WebSocket close frame with code and reason; TCP `end()`. */
  close (code: number, reason: string): void
  /** Hard close, no handshake. */
  destroy (): void
  pause (): void
  resume (): void
}

/** What an agent needs from the gate that owns it. */
export interface AgentHost {
  readonly pendingWriteNum: number
  readonly counters: GateCounters
  encode (name: string, body: unknown): OutboundMessage
  receive (agent: Agent<any>, payload: Buffer): void
  bind (agent: Agent<any>, uid: string): Promise<void>
  unbind (agent: Agent<any>): void
  join (agent: Agent<any>, room: string): void
  leave (agent: Agent<any>, room: string): void
  closing (agent: Agent<any>): void
  closed (agent: Agent<any>, reason: CloseReason): void
}

/** Gate-wide totals since start (monotonic), read by the metrics plugin. */
export interface GateCounters {
  msgsIn: number
  msgsOut: number
  bytesIn: number
  bytesOut: number
  handlerErrors: number
  /** Connections refused because the gate was full. */
  refused: number
  /** Closes by close code. */
  closes: Map<number, number>
}

const enum State { Open, Closing, Closed }
const noRooms: ReadonlySet<string> = new Set()

/**
 * One client connection, the same object on WebSocket and TCP (mqant's session).
 * It knows nothing of the wire format: it sends `OutboundMessage`s through its
 * `Connection`, and hands inbound payloads to the gate.
 */
export class Agent<M extends object = DefaultMessages> {
  /** Unique in the cluster: `<nodeId>-<sequence>`. */
  readonly id: string
  readonly transport: Transport
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

  /** @internal */ uidValue: string | undefined = undefined
  /** @internal */ roomSet: Set<string> | undefined = undefined
  /** @internal */ readonly conn: Connection
  /** @internal Created on the first message. */ inbox: Inbox | undefined = undefined
  private readonly host: AgentHost
  private readonly parentLog: Logger
  private childLog: Logger | undefined
  private state = State.Open
  private pendingWrites = 0
  private reason: CloseReason | undefined

  constructor (id: string, conn: Connection, host: AgentHost, log: Logger) {
    this.id = id
    this.conn = conn
    this.transport = conn.transport
    this.remoteAddress = conn.remoteAddress
    this.host = host
    this.parentLog = log
    this.connectedAt = this.lastSeen = Date.now()
  }

  /** A child logger bound to this connection's id, made on first use. */
  get log (): Logger {
    return (this.childLog ??= this.parentLog.child({ agent: this.id, transport: this.transport }))
  }

  /** The uid bound at login, if any. */
  get uid (): string | undefined {
    return this.uidValue
  }

  get rooms (): ReadonlySet<string> {
    return this.roomSet ?? noRooms
  }

  get isOpen (): boolean {
    return this.state === State.Open
  }

  /** Messages written but not yet handed to the OS. */
  get pendingWriteCount (): number {
    return this.pendingWrites
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

  /** Sends an already encoded message (shared by pushes and broadcasts). */
  write (msg: OutboundMessage): boolean {
    if (this.state !== State.Open) return false
    if (this.pendingWrites >= this.host.pendingWriteNum) {
      this.close(CloseCode.SLOW_CONSUMER, 'slow consumer')
      return false
    }
    const bytes = this.transport === 'tcp' ? msg.framed.length : msg.payload.length
    const counters = this.host.counters
    this.pendingWrites++
    this.msgsOut++
    this.bytesOut += bytes
    counters.msgsOut++
    counters.bytesOut += bytes
    this.conn.write(msg, this.onWritten)
    return true
  }

  /**
   * Closes the connection: WebSocket clients get `code` and `reason` in the close
   * frame; TCP clients see the socket end. Later calls do nothing.
   */
  close (code: number = CloseCode.NORMAL, reason = ''): void {
    if (this.state !== State.Open) return
    this.state = State.Closing
    this.reason = { code, reason }
    this.closingSince = Date.now()
    this.host.closing(this)
    this.conn.close(code, reason)
  }

  /** Binds a uid (login). Honours the gate's multi-login policy; rejects with `FST_GATE_UID_IN_USE` under `reject`. */
  bind (uid: string): Promise<void> {
    return this.host.bind(this, uid)
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

  /** @internal Called by the transport for every inbound payload. */
  receive (payload: Buffer, wireBytes: number): void {
    if (this.state !== State.Open) return
    this.msgsIn++
    this.bytesIn += wireBytes
    this.host.counters.msgsIn++
    this.host.counters.bytesIn += wireBytes
    this.lastSeen = Date.now()
    this.host.receive(this, payload)
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

  /** @internal Called by the transport once the socket is gone. `fallback` is used when the gate did not start the close. */
  transportClosed (fallback: CloseReason): void {
    if (this.state === State.Closed) return
    this.state = State.Closed
    this.reason ??= fallback
    this.host.closed(this, this.reason)
  }

  private readonly onWritten = (): void => {
    this.pendingWrites--
  }
}
