import type { Static, TSchema } from '@sinclair/typebox'
import type { Agent, GateCounters } from './agent.js'
import { CloseCode, clampCloseReason } from './close-codes.js'
import { Encoder } from './codec/encoder.js'
import { JsonProcessor } from './codec/json.js'
import type { OutboundMessage } from './codec/outbound.js'
import type { Processor } from './codec/processor.js'
import { ProtobufProcessor } from './codec/protobuf.js'
import type { Delivery, GateStats, KickResult, ProtocolInfo, RoomMembers, RoomsPage, SettingsResult, UserConnections, UsersPage } from './answers.js'
import type { Directory, LocalNode } from './directory/directory.js'
import { LocalDirectory } from './directory/local.js'
import { GateError } from './errors.js'
import { isName, isUid } from './identity.js'
import { ClientControl } from './control/client-control.js'
import { Dispatch } from './dispatch.js'
import { Drain } from './drain.js'
import { Lifecycle, type ConnectHook, type DisconnectHook } from './lifecycle.js'
import { Admission, type Refusal } from './limits/admission.js'
import { Backlog } from './limits/backlog.js'
import { LoginThrottle } from './limits/login-throttle.js'
import { LogLimiter } from './limits/log-limiter.js'
import { AgentIndex } from './agent-index.js'
import type { GateLogger as Logger } from './logger.js'
import { Membership, type Authenticator } from './membership.js'
import { MessageRegistry, type DefaultMessages, type Handler, type MessageName, type MessageOptions } from './messages.js'
import { NodeShare } from './operations/node-share.js'
import type { ClusterFigures, KickTarget, RoomExcept } from './operations/operation.js'
import { Operations } from './operations/operations.js'
import { normalizeCoreOptions, type CoreOptions, type NormalizedCoreOptions } from './options.js'
import { PresenceEvents, type PresenceHook } from './presence-events.js'
import { Runtime, type GateRuntime } from './runtime.js'
import { Sweeper } from './sweeper.js'
import { History } from './history/history.js' // [history]
import { normalizeHistoryOptions } from './history/options.js' // [history]
import { RoomHistory } from './history/room-history.js' // [room history]
import { normalizeSessionOptions } from './session/options.js' // [session]
import { Sessions } from './session/sessions.js' // [session]

export type { GateObserver } from './dispatch.js'
export type { KickTarget, RoomExcept } from './operations/operation.js'
export type { GateRuntime } from './runtime.js'

/** Options of `gate.pushToRoom`. */
export interface RoomPushOptions {
  /** Skip this connection and/or every connection of this uid (except-the-sender). */
  except?: RoomExcept
}
export type { ConnectHook, DisconnectHook } from './lifecycle.js'
export type { Authenticator } from './membership.js'
export type { PresenceEvent, PresenceHook } from './presence-events.js'

/** Builds the directory from this node (its index, and what it does for other nodes), the gate's logger and options; the default is the single-node `LocalDirectory`. */
export type DirectoryFactory = (node: LocalNode, host: { log: Logger, options: NormalizedCoreOptions }) => Directory

/**
 * The gate as applications and the plugin see it: messages and handlers,
 * hooks, lookups, and the cluster-wide operations. Behind it, each job has a
 * part of its own: `Lifecycle` (admission, close bookkeeping, timeouts,
 * shutdown), `Dispatch` (decode, schema, queue, handler), `Membership` (login,
 * uids, rooms, settings), `Encoder`, `Operations` (this node's share, then the
 * directory's). It never touches a socket: the pipeline (src/pipeline) hands
 * it connections.
 *
 * Two faces. This class is the application's: messages and handlers, hooks,
 * lookups, pushes, kicks and the other operations, and the read-outs
 * (`options`, `counters`, `refusals`, `backlog`, `admission`,
 * `connectionCount`, `isFull`). The runtime's is `runtime` (`GateRuntime`,
 * src/runtime.ts): admission, the shared timer, the handler observer and the
 * figures reporter, for the plugin, the pipeline, metrics and the dashboard.
 */
export class Gate<M extends object = DefaultMessages> {
  readonly options: NormalizedCoreOptions
  readonly nodeId: string
  readonly messages = new MessageRegistry()
  readonly processor: Processor
  /** Runtime face: this node's connections, indexed by id, uid and room (applications look up with `agent`, `agentsOf`). */
  readonly local: AgentIndex
  readonly directory: Directory
  /** [history] Per-uid history and resume (docs/sessions.md). */
  readonly history: History
  /** [room history] Room history and resume per room (docs/sessions.md). */
  readonly roomHistory: RoomHistory
  /** [session] Session settings and storage (docs/sessions.md). */
  readonly sessions: Sessions
  readonly counters: GateCounters = {
    msgsIn: 0, msgsOut: 0, bytesIn: 0, bytesOut: 0, handlerErrors: 0, refused: 0, throttled: 0, addressThrottled: 0, loginsThrottled: 0, closes: new Map()
  }

  /** Outbound bytes waiting in the connections' queues, a shared frame once (see `maxTotalBufferedBytes`). */
  readonly backlog = new Backlog()
  /** Who may connect: caps and rates, per IP and gate-wide. */
  readonly admission: Admission
  readonly log: Logger
  /** Repeated log lines (bad input, refusals, handler errors) are capped per code. */
  readonly logLimiter = new LogLimiter()
  /**
   * The runtime's face: what the plugin, the pipeline and transports, metrics
   * and the dashboard use (admission, the shared timer, `observer`, `reporter`);
   * an application does not need it.
   */
  readonly runtime: GateRuntime
  /** @internal The failed-login throttle (login messages and connect credentials). */
  readonly logins: LoginThrottle
  /** @internal */ readonly dispatch: Dispatch
  /** @internal */ readonly lifecycle: Lifecycle
  /** @internal */ readonly membership: Membership
  /** @internal Client subscribes (`canJoin`) and leaf requests (docs/protocol.md section 10). */
  readonly control: ClientControl
  /** @internal The presence hooks (`onPresence`). */
  readonly presenceEvents: PresenceEvents
  private readonly encoder: Encoder
  private readonly operations: Operations
  private readonly sweeper: Sweeper
  private readonly sweeps: Array<(now: number) => void> = []
  /** @internal `probeMessage` with `{}`, encoded once at start (Dispatch writes it to a throttled leaf TCP connection). */
  probe: OutboundMessage | undefined
  private starting: Promise<void> | undefined
  private stopping: Promise<void> | undefined

  constructor (options: CoreOptions, log: Logger, directory?: DirectoryFactory) {
    const o = this.options = normalizeCoreOptions(options)
    this.nodeId = o.nodeId
    this.log = log
    this.processor = o.encoding === 'json'
      ? new JsonProcessor()
      : o.encoding === 'protobuf'
        ? new ProtobufProcessor(o.protobuf!, o.littleEndian)
        : o.encoding
    this.encoder = new Encoder(this.messages, this.processor, o)
    this.local = new AgentIndex(this.nodeId)
    this.admission = new Admission(o)
    this.logins = new LoginThrottle(this.admission, o.loginRatePerIp, () => { this.counters.loginsThrottled++ })
    this.dispatch = new Dispatch(this)
    this.sessions = new Sessions(normalizeSessionOptions(options.session), log.child({ part: 'session' })) // [session]
    this.history = new History(normalizeHistoryOptions(options.history), o, log.child({ part: 'history' })) // [history]
    this.roomHistory = new RoomHistory(this.history, o, log.child({ part: 'room-history' })) // [room history]
    const share = new NodeShare(this.local, this.history, this.roomHistory)
    this.presenceEvents = new PresenceEvents(log.child({ part: 'presence' }))
    const node: LocalNode = { nodeId: this.nodeId, agents: this.local, run: op => share.run(op), figures: () => this.runtime.reporter?.(), events: this.presenceEvents }
    this.directory = directory ? directory(node, { log, options: o }) : new LocalDirectory(node)
    this.operations = new Operations(node, this.directory, this.history, this.roomHistory)
    this.membership = new Membership({
      multiLogin: o.multiLogin,
      maxRooms: o.maxRooms,
      local: this.local,
      directory: this.directory,
      operations: this.operations,
      logins: this.logins,
      sessions: this.sessions,
      history: this.history,
      roomHistory: this.roomHistory,
      log
    })
    this.control = new ClientControl({
      enabled: o.clientControl,
      canJoin: o.canJoin,
      maxRooms: o.maxRooms,
      membership: this.membership,
      roomHistory: this.roomHistory,
      encode: (name, body) => this.encode(name, body),
      log
    })
    this.lifecycle = new Lifecycle({
      options: o,
      log,
      counters: this.counters,
      admission: this.admission,
      logLimiter: this.logLimiter,
      local: this.local,
      directory: this.directory,
      dispatch: this.dispatch,
      history: this.history,
      roomHistory: this.roomHistory,
      membership: this.membership,
      encoder: this.encoder,
      messages: this.messages,
      processor: this.processor,
      control: this.control,
      backlog: this.backlog
    })
    this.runtime = new Runtime({
      options: o,
      log,
      counters: this.counters,
      local: this.local,
      backlog: this.backlog,
      admission: this.admission,
      lifecycle: this.lifecycle,
      sweeps: this.sweeps
    })
    this.sweeper = new Sweeper([o.idleTimeout, o.closeTimeout, o.loginTimeout, o.headersTimeout, o.requestBodyTimeout, o.keepAliveTimeout, o.connectTimeout], now => {
      this.lifecycle.sweep(now)
      this.admission.sweep(now)
      for (const fn of this.sweeps) fn(now)
    })
  }

  get isReady (): boolean {
    return this.lifecycle.isReady
  }

  /** Open connections on this node, every transport and protocol. */
  get connectionCount (): number {
    return this.local.connections
  }

  /** Whether a new connection would go over `maxConnNum` (counting connections being set up). */
  get isFull (): boolean {
    return this.admission.used >= this.options.maxConnNum
  }

  /** Connections refused, by reason, since start. */
  get refusals (): ReadonlyMap<Refusal, number> {
    return this.lifecycle.refusals
  }

  // ---- registration -------------------------------------------------------

  /**
   * Registers a message, optionally with its handler. With a TypeBox `schema`, the
   * body is checked before the handler runs and the handler's `msg` is typed.
   */
  message<S extends TSchema> (name: MessageName<M>, opts: MessageOptions<S> = {}, handler?: Handler<Static<S>, M>): this {
    this.messages.register(name, opts, handler)
    return this
  }

  /** Sets the handler of a registered message. */
  handle<T = unknown> (name: MessageName<M>, handler: Handler<T, M>): this {
    this.messages.handle(name, handler as Handler<any>)
    return this
  }

  /**
   * Sets the check of credentials given at connect by a protocol that has them
   * (MQTT's CONNECT password). Without one, such credentials are refused.
   */
  authenticate (fn: Authenticator<Agent<M>>): this {
    this.membership.authenticator = fn as Authenticator
    return this
  }

  /** Runs for every new connection, before its first message is handled. */
  onConnect (hook: ConnectHook<Agent<M>>): this {
    this.lifecycle.connectHooks.push(hook as ConnectHook)
    return this
  }

  /** Runs once per connection after it closed, with the close code and reason. */
  onDisconnect (hook: DisconnectHook<Agent<M>>): this {
    this.lifecycle.disconnectHooks.push(hook as DisconnectHook)
    return this
  }

  /**
   * Runs on cluster-wide presence events: a uid's first connection (`online`)
   * and last (`offline`) across the cluster, a connection entering (`join`) or
   * leaving (`leave`) a room. Each event fires on one node; `died` is true when
   * a node's death caused it (docs/sessions.md, "Presence hooks").
   */
  onPresence (hook: PresenceHook): this {
    this.presenceEvents.add(hook)
    return this
  }

  // ---- lifecycle ----------------------------------------------------------

  /** Freezes the message table, starts the directory and the shared timer. */
  async ready (): Promise<void> {
    await (this.starting ??= this.start())
  }

  /**
   * Stops accepting, closes every connection with 1012 (service restart) spread
   * over `drainTime`, and waits until they are gone; connections that do not
   * finish their close handshake within `closeTimeout` are destroyed, and
   * whatever is left `shutdownTimeout` after the drain too (the plugin bounds
   * the HTTP server's requests alike: plugins/http-guard.ts). Then removes this
   * node's presence.
   */
  async close (): Promise<void> {
    await (this.stopping ??= this.stop())
  }

  private async start (): Promise<void> {
    this.control.install(this.messages, this.processor, this.options.ids)
    this.messages.freeze(this.options.ids)
    this.processor.init(this.messages)
    const notice = this.options.closeNotice
    if (notice !== undefined && this.messages.get(notice) === undefined) {
      throw new GateError.INVALID_OPTION('closeNotice', `"${notice}" is not a registered message`)
    }
    const probe = this.options.probeMessage
    if (probe !== undefined) {
      if (this.messages.get(probe) === undefined) throw new GateError.INVALID_OPTION('probeMessage', `"${probe}" is not a registered message`)
      try {
        this.probe = this.encoder.encode(probe, {})
      } catch (err) {
        throw new GateError.INVALID_OPTION('probeMessage', `"${probe}" with the body {}: ${(err as Error).message}`)
      }
    }
    const stores = this.directory.stores?.()
    this.history.start(this.messages, this.processor, stores?.history(this.history.opts)) // [history]
    this.roomHistory.start(this.messages, this.processor) // [room history]
    await this.directory.start()
    this.sweeper.start()
    this.sweeps.push(now => this.history.sweep(now)) // [history]
    this.sessions.start(stores?.session()) // [session]
    this.sweeps.push(now => this.sessions.sweep(now, this.local.all())) // [session]
    this.lifecycle.serve(this.messages.loginConfigured)
  }

  private async stop (): Promise<void> {
    this.sweeper.quicken(Drain.period(this.options.drainTime))
    await this.lifecycle.shutdown()
    this.sweeper.stop()
    await this.directory.stop()
    await this.history.close() // [history]
    this.lifecycle.stopped()
  }

  // ---- the application's face ----------------------------------------------

  /** Encodes once for any number of connections; checks the name, the schema and `maxMsgLen`. */
  encode (name: string, body: unknown): OutboundMessage {
    return this.encoder.encode(name, body)
  }

  // ---- lookups and cluster-wide operations ----------------------------------

  /** This node's agent of that id. */
  agent (id: string): Agent<M> | undefined {
    return this.local.get(id) as Agent<M> | undefined
  }

  /** This node's connections of that uid. */
  agentsOf (uid: string): ReadonlySet<Agent<M>> {
    return (this.local.agentsOf(uid) ?? new Set()) as ReadonlySet<Agent<M>>
  }

  /**
   * Sends to every connection of these uids, on every node. Throws
   * `FST_GATE_INVALID_UID` for a uid no connection could have (see src/identity.ts),
   * before sending anything.
   */
  async pushToUids<N extends MessageName<M>> (uids: readonly string[], name: N, body: M[N]): Promise<Delivery> {
    for (const uid of uids) if (!isUid(uid)) throw new GateError.INVALID_UID()
    return await this.operations.pushToUids(uids, this.encode(name, body))
  }

  /**
   * Sends to every member of the room, on every node. Throws `FST_GATE_INVALID_ROOM` for a name no room could have.
   * `except` skips a connection (`{ agent: agent.id }`, e.g. the sender's) and/or every connection of a uid (`{ uid }`), on every node.
   */
  async pushToRoom<N extends MessageName<M>> (room: string, name: N, body: M[N], opts: RoomPushOptions = {}): Promise<Delivery> {
    if (!isName(room)) throw new GateError.INVALID_ROOM()
    const except = opts.except
    if (except === undefined || (except.agent === undefined && except.uid === undefined)) return await this.operations.pushToRoom(room, this.encode(name, body))
    return await this.operations.pushToRoom(room, this.encode(name, body), except)
  }

  /** Sends to every open connection (or every logged-in one), on every node. */
  async broadcast<N extends MessageName<M>> (name: N, body: M[N], opts: { loggedInOnly?: boolean } = {}): Promise<Delivery> {
    return await this.operations.broadcast(this.encode(name, body), opts.loggedInOnly === true)
  }

  /** Closes these uids' connections and these agents with 4001 and the reason, on every node. */
  async kick (target: KickTarget, reason = 'kicked'): Promise<KickResult> {
    return await this.operations.kick(target, CloseCode.KICKED, clampCloseReason(reason))
  }

  /** @internal Closes connections on any node with 4002 (replaced): an MQTT client id taken over. */
  async replace (target: KickTarget, reason: string): Promise<KickResult> {
    return await this.operations.kick(target, CloseCode.REPLACED, clampCloseReason(reason))
  }

  /**
   * [session] Sets and removes settings of every connection of `uid`, on every node
   * (mqant's settings push). Throws `FST_GATE_INVALID_SETTING` before sending anything.
   */
  async updateSettings (uid: string, set: Record<string, string> = {}, remove: string[] = []): Promise<SettingsResult> {
    return await this.membership.updateSettings(uid, set, remove)
  }

  async stats (): Promise<GateStats> {
    return await this.directory.stats()
  }

  /** Online uids in a stable order, a page at a time; with `prefix`, only those that start with it. */
  async users (offset = 0, limit = 100, prefix = ''): Promise<UsersPage> {
    return await this.directory.users(offset, limit, prefix)
  }

  async user (uid: string): Promise<UserConnections | null> {
    return await this.directory.user(uid)
  }

  /** Rooms with members on any node, in a stable order, a page at a time, with their member counts. */
  async rooms (offset = 0, limit = 100): Promise<RoomsPage> {
    return await this.directory.rooms(offset, limit)
  }

  /**
   * A page of a room's member connections on every node, ordered by connection
   * id; `null` when the room has no member anywhere. Throws `FST_GATE_INVALID_ROOM`
   * for a name no room could have.
   */
  async room (room: string, offset = 0, limit = 100): Promise<RoomMembers | null> {
    if (!isName(room)) throw new GateError.INVALID_ROOM()
    return await this.directory.room(room, offset, limit)
  }

  /** Whether `uid` has a connection on any node (this node alone when the cluster cannot be asked). */
  async isOnline (uid: string): Promise<boolean> {
    return await this.membership.isOnline(uid)
  }

  /** Every live node's figures (see `reporter`), this node's first. */
  async figures (): Promise<ClusterFigures> {
    return await this.operations.figures()
  }

  /** The id table and framing, as `GET /gate/protocol` serves it. */
  protocol (): ProtocolInfo {
    const o = this.options
    return {
      encoding: this.processor.encoding,
      lenMsgLen: o.lenMsgLen,
      littleEndian: o.littleEndian,
      maxMsgLen: o.maxMsgLen,
      minMsgLen: o.minMsgLen,
      messages: this.messages.list().map(d => ({ id: d.id, name: d.name, needsLogin: d.needsLogin })).sort((a, b) => a.id - b.id),
      ...this.processor.describe?.()
    }
  }
}
