import { randomBytes } from 'node:crypto'
import type { TlsOptions } from 'node:tls'
import type { Processor } from './codec/processor.js'
import type { ProtobufOptions } from './codec/protobuf.js'
import { bool, fail, int, tcpListener, wsPath } from './option-checks.js'
import { maxLenFor } from './framing/length-prefix.js'
import type { HistoryOptions } from './history/options.js'
import type { SessionOptions } from './session/options.js'
import type { Agent } from './agent.js'

export type MultiLoginPolicy = 'allow' | 'replace' | 'reject'

/**
 * Whether a client may subscribe to `room` (leaf's `Gate_Subscribe`, MQTT's
 * `room/<name>` filter): true lets it in; false, or a throw, refuses it
 * (`NOT_ALLOWED`; MQTT SUBACK 0x80). Handlers' own `agent.join` does not ask.
 */
export type CanJoin<A extends Agent<any> = Agent<any>> = (agent: A, room: string) => boolean | Promise<boolean>

/** The companion TCP server. */
export interface TcpOptions {
  port: number
  /** Default `127.0.0.1`. */
  host?: string
  /** Serve TLS instead of plain TCP. */
  tls?: TlsOptions
}

/** Core options: transports, framing, limits, encoding. Every one has a default; see `defaults`. */
export interface CoreOptions {
  /** [history] Caps of the per-uid history (messages registered with `history: true`); see docs/sessions.md. */
  history?: HistoryOptions
  /** [session] Bounds of session settings, and where they are stored; see docs/sessions.md. */
  session?: SessionOptions
  /** WebSocket route. */
  path?: string
  /** Start the companion TCP server; off unless given. */
  tcp?: TcpOptions | false
  /** Open connections allowed, WebSocket and TCP together. */
  maxConnNum?: number
  /**
   * Outbound bytes a connection may have waiting (in the gate's queue and the
   * socket's buffer) before it is closed as a slow consumer (4004). Default 1 MiB.
   */
  maxBufferedBytes?: number
  /**
   * Outbound bytes all connections together may have waiting. Past it, a
   * connection that already has a backlog is closed (4004) on its next send;
   * connections that keep up are unaffected. Default 256 MiB; 0 disables.
   */
  maxTotalBufferedBytes?: number
  /**
   * Rooms one connection may be in, on every protocol: `agent.join` past it
   * throws `FST_GATE_ROOM_LIMIT` (an MQTT `room/<name>` filter gets SUBACK 0x80).
   * Default 64.
   */
  maxRooms?: number
  /** Inbound messages a connection may have waiting for its handler before reading pauses. */
  pendingReadNum?: number
  /**
   * Pieces one inbound WebSocket message may arrive in: fragments (ws's
   * `maxFragments`), and reads of a frame not yet complete (ws's
   * `maxBufferedChunks`: this plus one per 512 bytes of `maxMsgLen`). Past it ws
   * closes the connection (1008). Each piece costs about 100 bytes of memory
   * whatever its size, so this bounds what a client trickling fragments holds.
   * Default 64. (Leaf TCP frames and MQTT packets are copied into one buffer
   * of their own length as they arrive, so they hold at most their size.)
   */
  maxMessageParts?: number
  /** Largest payload in bytes, inbound and outbound (1009 / `FST_GATE_MESSAGE_TOO_LARGE`). */
  maxMsgLen?: number
  /** Smallest TCP payload in bytes (1002). */
  minMsgLen?: number
  /** Bytes of the TCP length prefix: 1, 2 or 4. */
  lenMsgLen?: 1 | 2 | 4
  /** Little-endian TCP length prefix and protobuf id. */
  littleEndian?: boolean
  /** Close connections silent this long, in ms (4000); 0 disables. */
  idleTimeout?: number
  /**
   * Close connections that have not logged in (bound a uid) this long after
   * connecting, in ms (4003). Applies only when a message is marked `login`.
   * Bytes, pings and partial frames do not extend it. 0 disables.
   */
  loginTimeout?: number
  /**
   * A protocol with a handshake (MQTT's CONNECT) must complete it this many ms
   * after connecting, or the connection is closed (4003, "connect timeout").
   * Independent of `loginTimeout`. 0 disables.
   */
  connectTimeout?: number
  /** Open connections per client IP, all transports together; 0 disables. */
  maxConnPerIp?: number
  /** New connections per second per client IP (burst twice that); 0 disables. */
  connRatePerIp?: number
  /**
   * Messages per second per connection (token bucket, burst twice that). Past
   * it, reading from the connection pauses until tokens refill: the client is
   * throttled, not closed. 0 disables.
   */
  msgRate?: number
  /**
   * Messages per second for all connections of one client IP together (token
   * bucket, burst twice that), beside each connection's `msgRate`. Every
   * inbound packet counts (MQTT control packets too). Past it, reading from
   * that address's connections pauses. 0 disables.
   */
  msgRatePerIp?: number
  /**
   * Login attempts per second per client IP that may fail (burst twice that).
   * A successful login gives its token back, so only failures are throttled;
   * past it, login messages from that IP wait. 0 disables.
   */
  loginRatePerIp?: number
  /**
   * An HTTP connection must complete its first request's headers within this
   * many ms, or it is destroyed. Every HTTP connection counts in a pool of its
   * own (at most `maxConnPerIp` per IP, `maxConnNum` in all) for its whole
   * life. 0 disables the deadline (not the counting).
   */
  headersTimeout?: number
  /**
   * An HTTP request's body must arrive within this many ms of its headers, or
   * the connection is destroyed (a body trickled a byte at a time). 0 disables.
   */
  requestBodyTimeout?: number
  /**
   * An HTTP connection idle this many ms between two requests is destroyed. 0
   * leaves only the server's own `keepAliveTimeout` (Fastify's: 72 s).
   */
  keepAliveTimeout?: number
  /**
   * `app.close()` stops accepting, then closes this node's connections (1012,
   * service restart) spread evenly over this many ms, so that they do not all
   * reconnect to the other nodes in the same instant. 0 closes them all at once.
   */
  drainTime?: number
  /** `app.close()` destroys whatever is still open this many ms after the drain (`drainTime`) ended. */
  shutdownTimeout?: number
  /** How long a closing connection may take to finish its close handshake before it is destroyed, in ms. */
  closeTimeout?: number
  /** `json`, `protobuf`, or a custom processor. */
  encoding?: 'json' | 'protobuf' | Processor
  /** The protobuf schema; required when `encoding` is `protobuf`. */
  protobuf?: ProtobufOptions
  /** Explicit protobuf ids, name -> id. Default: registration order from 0. */
  ids?: Record<string, number>
  /** What `agent.bind(uid)` does when the uid is already online. */
  multiLogin?: MultiLoginPolicy
  /** Send JSON payloads to WebSocket clients as text frames instead of binary. */
  textFrames?: boolean
  /**
   * A registered message, sent with `{ code, reason }` just before the gate
   * closes a leaf connection over raw TCP, which has no close codes: a client
   * that reads it knows a kick (4001) from a dropped line. Default: none.
   */
  closeNotice?: string
  /**
   * A registered message, sent with the body `{}` to a throttled leaf
   * connection over raw TCP that has been sent nothing for a while, to learn
   * whether its client is still there: a client that is gone answers with a
   * reset, and the gate then drops what it had sent (WebSocket connections get
   * a ping, MQTT a PINGRESP, without this option). Its schema must accept `{}`.
   * Default: none.
   */
  probeMessage?: string
  /** This node's id; agent ids start with it. Default: 8 random hex digits. */
  nodeId?: string
  /**
   * Registers the client control messages (`Gate_Subscribe`, `Gate_Unsubscribe`,
   * `Gate_Request`, `Gate_Reply`) after the application's, so that SDK clients
   * can subscribe and send requests over leaf (docs/protocol.md section 10), and
   * MQTT clients can send requests on `<name>/<id>`. Default false.
   */
  clientControl?: boolean
  /** Authorizes each client subscribe (see `CanJoin`). Default: none, every subscribe that passes `maxRooms` is let in. */
  canJoin?: CanJoin
}

export type NormalizedCoreOptions = Required<Omit<CoreOptions, 'tcp' | 'protobuf' | 'ids' | 'encoding' | 'history' | 'session' | 'closeNotice' | 'probeMessage' | 'canJoin'>> & {
  closeNotice: string | undefined
  probeMessage: string | undefined
  canJoin: CanJoin | undefined
  tcp: (TcpOptions & { host: string }) | false
  protobuf: ProtobufOptions | undefined
  ids: Record<string, number> | undefined
  encoding: 'json' | 'protobuf' | Processor
}

/** Every default, in one place. */
export const defaults = {
  path: '/ws',
  tcp: false,
  maxConnNum: 10000,
  maxBufferedBytes: 1024 * 1024,
  maxTotalBufferedBytes: 256 * 1024 * 1024,
  pendingReadNum: 64,
  maxRooms: 64,
  maxMessageParts: 64,
  maxMsgLen: 4096,
  minMsgLen: 1,
  lenMsgLen: 2,
  littleEndian: false,
  idleTimeout: 60000,
  loginTimeout: 10000,
  connectTimeout: 10000,
  maxConnPerIp: 1000,
  connRatePerIp: 100,
  msgRate: 100,
  msgRatePerIp: 1000,
  loginRatePerIp: 10,
  headersTimeout: 10000,
  requestBodyTimeout: 10000,
  keepAliveTimeout: 5000,
  drainTime: 5000,
  shutdownTimeout: 10000,
  closeTimeout: 2000,
  encoding: 'json',
  multiLogin: 'allow',
  textFrames: false,
  clientControl: false
} as const

function isProcessor (value: unknown): value is Processor {
  const p = value as Processor
  return typeof p === 'object' && p !== null && typeof p.decode === 'function' && typeof p.encode === 'function' &&
    typeof p.init === 'function' && typeof p.encoding === 'string'
}

/** Validates and fills in the core options once, at register time. Throws `FST_GATE_INVALID_OPTION`. */
export function normalizeCoreOptions (opts: CoreOptions = {}): NormalizedCoreOptions {
  const o = { ...defaults, ...stripUndefined(opts) } as Record<string, unknown>
  if ('pendingWriteNum' in o) {
    fail('pendingWriteNum', 'was replaced by maxBufferedBytes: slow consumers are judged by the bytes they have waiting, not by a count of messages')
  }

  const path = wsPath('path', o.path)
  const lenMsgLen = o.lenMsgLen
  if (lenMsgLen !== 1 && lenMsgLen !== 2 && lenMsgLen !== 4) fail('lenMsgLen', `must be 1, 2 or 4, got ${JSON.stringify(lenMsgLen)}`)
  const lenMax = maxLenFor(lenMsgLen as 1 | 2 | 4)
  // The default maxMsgLen shrinks to what a 1-byte header can carry; an explicit one must fit.
  if (opts.maxMsgLen === undefined && (o.maxMsgLen as number) > lenMax) o.maxMsgLen = lenMax
  const maxMsgLen = int('maxMsgLen', o.maxMsgLen, 1, Math.min(lenMax, 0x7fffffff))
  const minMsgLen = int('minMsgLen', o.minMsgLen, 0, maxMsgLen)
  const encoding = o.encoding
  if (encoding !== 'json' && encoding !== 'protobuf' && !isProcessor(encoding)) {
    fail('encoding', 'must be "json", "protobuf" or a processor object with init, decode and encode')
  }
  if (encoding === 'protobuf') {
    if (opts.protobuf === undefined || opts.protobuf.root === undefined) fail('protobuf', 'encoding "protobuf" needs protobuf.root: a protobufjs Root or .proto path(s)')
    if (maxMsgLen < 2) fail('maxMsgLen', 'must be at least 2 with protobuf (the id takes 2 bytes)')
  }
  if (opts.ids !== undefined && (typeof opts.ids !== 'object' || opts.ids === null)) fail('ids', 'must be an object of message name -> id')
  const multiLogin = o.multiLogin
  if (multiLogin !== 'allow' && multiLogin !== 'replace' && multiLogin !== 'reject') {
    fail('multiLogin', `must be "allow", "replace" or "reject", got ${JSON.stringify(multiLogin)}`)
  }
  const nodeId = opts.nodeId ?? randomBytes(4).toString('hex')
  if (typeof nodeId !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(nodeId)) fail('nodeId', 'must be 1-64 characters of A-Z a-z 0-9 _ . : -')

  const tcp: NormalizedCoreOptions['tcp'] = opts.tcp ? tcpListener('tcp', opts.tcp) : false

  return {
    path,
    tcp,
    maxConnNum: int('maxConnNum', o.maxConnNum, 1),
    maxBufferedBytes: int('maxBufferedBytes', o.maxBufferedBytes, maxMsgLen + 4),
    maxTotalBufferedBytes: int('maxTotalBufferedBytes', o.maxTotalBufferedBytes, 0),
    pendingReadNum: int('pendingReadNum', o.pendingReadNum, 1),
    maxRooms: int('maxRooms', o.maxRooms, 1, 1_000_000),
    maxMessageParts: int('maxMessageParts', o.maxMessageParts, 1, 1 << 20),
    maxMsgLen,
    minMsgLen,
    lenMsgLen: lenMsgLen as 1 | 2 | 4,
    littleEndian: bool('littleEndian', o.littleEndian),
    idleTimeout: int('idleTimeout', o.idleTimeout, 0, 2 ** 31 - 1),
    closeTimeout: int('closeTimeout', o.closeTimeout, 1, 2 ** 31 - 1),
    loginTimeout: int('loginTimeout', o.loginTimeout, 0, 2 ** 31 - 1),
    connectTimeout: int('connectTimeout', o.connectTimeout, 0, 2 ** 31 - 1),
    maxConnPerIp: int('maxConnPerIp', o.maxConnPerIp, 0),
    connRatePerIp: int('connRatePerIp', o.connRatePerIp, 0),
    msgRate: int('msgRate', o.msgRate, 0),
    msgRatePerIp: int('msgRatePerIp', o.msgRatePerIp, 0),
    loginRatePerIp: int('loginRatePerIp', o.loginRatePerIp, 0),
    headersTimeout: int('headersTimeout', o.headersTimeout, 0, 2 ** 31 - 1),
    requestBodyTimeout: int('requestBodyTimeout', o.requestBodyTimeout, 0, 2 ** 31 - 1),
    keepAliveTimeout: int('keepAliveTimeout', o.keepAliveTimeout, 0, 2 ** 31 - 1),
    drainTime: int('drainTime', o.drainTime, 0, 2 ** 31 - 1),
    shutdownTimeout: int('shutdownTimeout', o.shutdownTimeout, 1, 2 ** 31 - 1),
    encoding: encoding as NormalizedCoreOptions['encoding'],
    protobuf: opts.protobuf,
    ids: opts.ids,
    multiLogin: multiLogin as MultiLoginPolicy,
    textFrames: bool('textFrames', o.textFrames),
    closeNotice: opts.closeNotice === undefined ? undefined : nonEmpty('closeNotice', opts.closeNotice),
    probeMessage: opts.probeMessage === undefined ? undefined : nonEmpty('probeMessage', opts.probeMessage),
    clientControl: bool('clientControl', o.clientControl),
    canJoin: canJoinOf(opts.canJoin),
    nodeId
  }
}

function canJoinOf (value: unknown): CanJoin | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function') fail('canJoin', 'must be a function (agent, room) => boolean | Promise<boolean>')
  return value as CanJoin
}

function nonEmpty (option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) fail(option, 'must be the name of a registered message')
  return value as string
}

function stripUndefined<T extends object> (obj: T): Partial<T> {
  const out: Partial<T> = {}
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) (out as Record<string, unknown>)[k] = v
  return out
}
