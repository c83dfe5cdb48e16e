import type { Agent } from '../agent.js'
import type { Framing } from '../codec/outbound.js'
import type { Processor } from '../codec/processor.js'
import type { RequestAnswer } from '../dispatch.js'
import type { Refusal } from '../limits/admission.js'
import type { MessageDef, MessageRegistry } from '../messages.js'
import type { NormalizedCoreOptions } from '../options.js'
import type { ProtocolError } from '../protocol-error.js'
import type { Transport } from '../transport/kind.js'
import type { ProtocolSession } from '../protocol-session.js'

export type { Transport } from '../transport/kind.js'
export type { ProtocolSession } from '../protocol-session.js'

/**
 * A wire protocol (mqant's custom agent): per connection it turns bytes into
 * (message, body) and back. The gate keeps everything else: admission, limits,
 * timeouts, the handler queue, uids, rooms, the admin API and the cluster.
 *
 *     socket -> transport adapter -> ProtocolSession.data -> peer.receive/deliver -> handler
 *     agent.send -> OutboundMessage.frame(protocol framing) -> socket
 */
export interface Protocol {
  /** Reported as `protocol` by the admin API and the metrics (`leaf`, `mqtt`, or your own). */
  readonly name: string
  /** Outbound bytes of one message on a byte stream (TCP). */
  readonly stream: Framing
  /** Outbound bytes of one message carried in one WebSocket message. */
  readonly message: Framing
  /** Whether `OutboundMessage.text` may turn WebSocket frames into text frames (leaf's JSON). */
  readonly textFrames: boolean
  /**
   * The WebSocket subprotocols it speaks (MQTT: `['mqtt']`). When given, an
   * upgrade on its path must offer one of them in `Sec-WebSocket-Protocol` (else
   * HTTP 400 `FST_GATE_SUBPROTOCOL`, before the upgrade), and the first of the
   * client's offers that is listed here is selected. Unset or empty (leaf): any
   * upgrade is accepted and ws echoes the client's first offer, if any.
   */
  readonly subprotocols?: readonly string[]
  /**
   * Bytes a client ignores, written over a byte stream (TCP) to a throttled
   * connection that has been sent nothing for a while: a client that is gone
   * answers them with a reset, and the gate then drops what it sent (MQTT:
   * PINGRESP). Unset (leaf): the gate's `probeMessage`, if any. WebSocket
   * connections get a ping instead.
   */
  readonly probe?: Buffer
  /** Called once per connection, after admission. */
  open (peer: ProtocolPeer): ProtocolSession
  /**
   * Bytes to write before a refused connection is ended (MQTT: CONNACK 3), where
   * the refusal happens after the transport connected. Undefined: just close.
   */
  refusal? (why: Refusal): Buffer | undefined
}

/** What a protocol session may do with its connection. */
export interface ProtocolPeer {
  readonly agent: Agent<any>
  readonly transport: Transport
  readonly options: NormalizedCoreOptions
  readonly messages: MessageRegistry
  /** The gate's codec (JSON, protobuf or the application's). */
  readonly processor: Processor
  /** One whole payload in the gate's encoding (leaf's envelope); `wireBytes` counts framing. */
  receive (payload: Buffer, wireBytes: number): void
  /** One decoded message: checked against its schema, then queued for its handler. False when refused. */
  deliver (def: MessageDef, body: unknown, wireBytes: number): boolean
  /** Counts inbound bytes that carry no message (control packets). */
  received (wireBytes: number): void
  /**
   * A control packet (bytes counted, no message): `run` answers it from the
   * connection's queue, in order with its messages and within its message rates
   * (`msgRate`, `msgRatePerIp`), so that a flood of control packets is
   * throttled like one of messages. False when the connection is closed.
   */
  control (wireBytes: number, run: () => void | Promise<void>): boolean
  /** Whether requests are on (the `clientControl` option): `request` takes them. */
  readonly requests: boolean
  /**
   * One decoded message sent as a request (docs/protocol.md section 10): checked
   * against its schema, queued, and once its handler finished, `answer` gets the
   * code (`''`: answered) and the answer (undefined: an acknowledgement). False
   * when refused, when requests are off, or when the connection is closed.
   */
  request (def: MessageDef, body: unknown, wireBytes: number, answer: RequestAnswer): boolean
  /** A client's subscribe (`canJoin`, `maxRooms`, the name): `''` when the connection is in the room, else the refusal's code. */
  subscribe (room: string): Promise<string>
  /** Writes control bytes, in order with the messages (through the same outbound queue and limits). */
  sendRaw (bytes: Buffer): boolean
  /** Closes for bad input: one capped log line, and the error's close code. */
  reject (err: ProtocolError): void
  /**
   * Hands credentials to the application's authenticator (see `Gate.authenticate`).
   * Resolves true when it accepted them (it binds the uid), false when not, or
   * when no authenticator is set. Failed attempts are throttled per IP like logins.
   */
  authenticate (credentials: Credentials): Promise<boolean>
  /** Marks the protocol's handshake done or pending (pending connections close after `handshakeTimeout`). */
  handshake (pending: boolean): void
  /** Closes the connection when nothing arrives for this long (0: only the gate's `idleTimeout`). */
  keepAlive (ms: number): void
}

/** Credentials a protocol received at connect (MQTT CONNECT's username and password). */
export interface Credentials {
  readonly protocol: string
  readonly clientId?: string
  readonly username?: string
  readonly password?: Buffer
}
