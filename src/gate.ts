import type { GateLogger as Logger } from './logger.js'
import type { Static, TSchema } from '@sinclair/typebox'
import { Agent, type AgentHost, type Connection, type GateCounters } from './agent.js'
import { CloseCode, clampCloseReason, type CloseReason } from './close-codes.js'
import { JsonProcessor } from './codec/json.js'
import { OutboundMessage } from './codec/outbound.js'
import type { Processor } from './codec/processor.js'
import { ProtobufProcessor } from './codec/protobuf.js'
import type { Delivery, GateStats, KickResult, ProtocolInfo, SettingsResult, UserConnections, UsersPage } from './answers.js'
import type { AgentDirectory } from './directory/directory.js'
import { LocalDirectory } from './directory/local.js'
import { GateError } from './errors.js'
import { Dispatch, type GateObserver } from './dispatch.js'
import { Admission, Slot, type Refusal } from './limits/admission.js'
import { LogLimiter } from './limits/log-limiter.js'
import { LocalAgents, type KickTarget } from './local-agents.js'
import { MessageRegistry, type DefaultMessages, type Handler, type MessageDef, type MessageName, type MessageOptions } from './messages.js'
import { normalizeCoreOptions, type CoreOptions, type NormalizedCoreOptions } from './options.js'
import type { ProtocolError } from './protocol-error.js'
import { Sweeper } from './sweeper.js'
import { HttpGuard } from './transport/http-guard.js'
import { Peer } from './pipeline/peer.js'
import type { Credentials, ProtocolPeer } from './protocol/protocol.js'
import { History, type BindOptions, type Recovery } from './history/history.js' // [history]
import { normalizeHistoryOptions } from './history/options.js' // [history]
import { normalizeSessionOptions } from './session/options.js' // [session]
import { Sessions } from './session/sessions.js' // [session]
import type { SessionSettings } from './session/settings.js' // [session]
import type { Server as HttpServer } from 'node:http'

export type { GateObserver } from './dispatch.js'

export type ConnectHook<M extends object = DefaultMessages> = (agent: Agent<M>) => void | Promise<void>
/** Runs after the close; the agent still has the uid, rooms and data it had when it closed. */
export type DisconnectHook<M extends object = DefaultMessages> = (agent: Agent<M>, reason: CloseReason) => void | Promise<void>

/**
 * Checks credentials a protocol received at connect (MQTT CONNECT's password)
 * and binds the uid when they are valid (`agent.bind`). Return false (or throw)
 * to refuse them.
 */
export type Authenticator<M extends object = DefaultMessages> = (agent: Agent<M>, credentials: Credentials) => boolean | Promise<boolean>

/** Builds the directory from this node's agents, the gate's logger and options; the default is the single-node `LocalDirectory`. */
export type DirectoryFactory = (local: LocalAgents, host: { log: Logger, options: NormalizedCoreOptions }) => AgentDirectory

const MAX_UID_LENGTH = 256
const MAX_ROOM_LENGTH = 256

/**
 * The transport-neutral core: messages, handlers, hooks, the local index of
 * agents, and the cluster-wide operations (through the directory). It never
 * touches a socket; transports hand it `Connection`s via `accept`.
 */
export class Gate<M extends object = DefaultMessages> implements AgentHost {
  readonly options: NormalizedCoreOptions
  readonly nodeId: string
  readonly messages = new MessageRegistry()
  readonly processor: Processor
  readonly local: LocalAgents
  readonly directory: AgentDirectory
  /** [history] Per-uid history and resume (docs/sessions.md). */
  readonly history: History
  /** [session] Session settings and storage (docs/sessions.md). */
  readonly sessions: Sessions
  readonly counters: GateCounters = {
    msgsIn: 0, msgsOut: 0, bytesIn: 0, bytesOut: 0, handlerErrors: 0, refused: 0, throttled: 0, loginsThrottled: 0, closes: new Map()
  }

  /** Connections refused, by reason, since start. */
  readonly refusals = new Map<Refusal, number>()
  /** Outbound bytes waiting in every connection's queue (see `maxTotalBufferedBytes`). */
  readonly backlog = { bytes: 0 }
  /** Who may connect: caps and rates, per IP and gate-wide. */
  readonly admission: Admission
  readonly log: Logger
  observer: GateObserver | undefined = undefined
  private seq = 0
  private state: 'init' | 'ready' | 'closing' | 'closed' = 'init'
  private authenticator: Authenticator<any> | undefined
  private readonly connectHooks: Array<ConnectHook<any>> = []
  private readonly disconnectHooks: Array<DisconnectHook<any>> = []
  private readonly closingAgents = new Set<Agent>()
  private readonly hookRuns = new Set<Promise<unknown>>()
  private readonly sweeper: Sweeper
  private drained: (() => void) | undefined
  private loginRequired = false
  private httpGuard: HttpGuard | undefined
  private readonly sweeps: Array<(now: number) => void> = []
  /** Repeated log lines (bad input, refusals, handler errors) are capped per code. */
  readonly logLimiter = new LogLimiter()
  private readonly dispatcher = new Dispatch(this)

  constructor (options: CoreOptions, log: Logger, directory?: DirectoryFactory) {
    this.options = normalizeCoreOptions(options)
    this.nodeId = this.options.nodeId
    this.log = log
    const enc = this.options.encoding
    this.processor = enc === 'json'
      ? new JsonProcessor()
      : enc === 'protobuf'
        ? new ProtobufProcessor(this.options.protobuf!, this.options.littleEndian)
        : enc
    this.local = new LocalAgents(this.nodeId)
    this.directory = directory ? directory(this.local, { log, options: this.options }) : new LocalDirectory(this.local)
    this.admission = new Admission(this.options)
    this.sessions = new Sessions(normalizeSessionOptions(options.session), log.child({ component: 'session' })) // [session]
    this.history = new History(normalizeHistoryOptions(options.history), this.options, log.child({ component: 'history' })) // [history]
    const o = this.options
    this.sweeper = new Sweeper([o.idleTimeout, o.closeTimeout, o.loginTimeout, o.headersTimeout, o.connectTimeout], now => this.sweep(now))
  }

  /**
   * Counts the HTTP server's connections that are still sending headers toward
   * the caps, with the `headersTimeout` deadline, and bounds shutdown (see
   * `HttpGuard`). The plugin calls it with the Fastify server.
   */
  guardHttp (server: HttpServer): HttpGuard {
    return (this.httpGuard ??= new HttpGuard(this, server))
  }

  /** Adds work to the gate's one shared timer (e.g. the HTTP header deadline). */
  onSweep (fn: (now: number) => void): void {
    this.sweeps.push(fn)
  }

  get isReady (): boolean {
    return this.state === 'ready'
  }

  /** Open connections on this node, both transports. */
  get connectionCount (): number {
    return this.local.connections
  }

  /** Whether a new connection would go over `maxConnNum` (counting connections being set up). */
  get isFull (): boolean {
    return this.admission.used >= this.options.maxConnNum
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
  authenticate (fn: Authenticator<M>): this {
    this.authenticator = fn
    return this
  }

  /** Runs for every new connection, before its first message is handled. */
  onConnect (hook: ConnectHook<M>): this {
    this.connectHooks.push(hook)
    return this
  }

  /** Runs once per connection after it closed, with the close code and reason. */
  onDisconnect (hook: DisconnectHook<M>): this {
    this.disconnectHooks.push(hook)
    return this
  }

  // ---- lifecycle ----------------------------------------------------------

  /** Freezes the message table, starts the directory and the shared timer. */
  async ready (): Promise<void> {
    if (this.state !== 'init') return
    this.messages.freeze(this.options.ids)
    this.processor.init(this.messages)
    this.history.start(this.messages, this.processor, this.directory.historyStore?.(this.history.opts)) // [history]
    this.loginRequired = this.messages.loginConfigured
    const notice = this.options.closeNotice
    if (notice !== undefined && this.messages.get(notice) === undefined) {
      throw new GateError.INVALID_OPTION('closeNotice', `"${notice}" is not a registered message`)
    }
    await this.directory.start()
    this.sweeper.start()
    this.onSweep(now => this.history.sweep(now)) // [history]
    this.sessions.start(this.directory.sessionStore?.()) // [session]
    this.onSweep(now => this.sessions.sweep(now, this.local.all())) // [session]
    this.state = 'ready'
  }

  /**
   * Closes every connection with 1001 and waits until they are gone; connections
   * that do not finish their close handshake within `closeTimeout` are destroyed,
   * and whatever is left after `shutdownTimeout` too (HTTP requests included,
   * when the HTTP server is guarded).
   */
  async close (): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') return
    this.state = 'closing'
    this.httpGuard?.shutdown(this.options.shutdownTimeout)
    if (this.local.connections > 0) {
      const drained = new Promise<void>(resolve => { this.drained = resolve })
      for (const agent of [...this.local.all()]) agent.close(CloseCode.GOING_AWAY, 'server shutting down')
      // The sweeper destroys connections stuck in their close handshake after
      // closeTimeout; this bound only guards against a transport that never reports.
      let timer: NodeJS.Timeout | undefined
      const ms = Math.min(this.options.shutdownTimeout, this.options.closeTimeout * 2 + 1000)
      const bound = new Promise<void>(resolve => { timer = setTimeout(resolve, ms) })
      await Promise.race([drained, bound])
      clearTimeout(timer)
      for (const agent of [...this.local.all()]) {
        agent.conn.destroy()
        agent.transportClosed({ code: CloseCode.GOING_AWAY, reason: 'server shutting down' })
      }
    }
    this.sweeper.stop()
    await Promise.allSettled([...this.hookRuns])
    await this.directory.stop()
    await this.history.close() // [history]
    this.state = 'closed'
  }

  /**
   * Takes a place for a connection from `ip` that is being set up (an HTTP
   * upgrade, a connection still sending its headers), or says why not. The
   * place is handed to `accept`, or given back with `release`.
   */
  reserve (ip: string, unfinishedHttp = false): Slot | Refusal {
    const now = Date.now()
    const got = this.state !== 'ready'
      ? 'not-serving'
      : unfinishedHttp ? this.admission.admitUnfinished(ip) : this.admission.admit(ip, now)
    if (!(got instanceof Slot)) this.refused(got, ip)
    return got
  }

  /** Gives back a place taken with `reserve` that did not become a connection. */
  release (slot: Slot): void {
    this.admission.release(slot)
  }

  /**
   * Admits a connection: returns its agent, or why it was refused (the
   * transport then refuses it). A `slot` from `reserve` is the place it takes;
   * without one, the connection is admitted here (caps and rate of its IP).
   */
  accept (conn: Connection, slot?: Slot): Agent | Refusal {
    if (this.state !== 'ready') {
      if (slot !== undefined) this.admission.release(slot)
      this.refused('not-serving', conn.remoteAddress)
      return 'not-serving'
    }
    const place = slot ?? this.reserve(conn.remoteAddress)
    if (!(place instanceof Slot)) return place
    const agent = new Agent(`${this.nodeId}-${(++this.seq).toString(36)}`, conn, this, this.log)
    agent.slot = place
    this.local.add(agent)
    this.directory.added(agent)
    for (const hook of this.connectHooks) this.runHook(agent, 'connect', () => hook(agent))
    return agent
  }

  // ---- AgentHost: called by agents ------------------------------------------

  /** Encodes once for any number of connections; checks the name, the schema and `maxMsgLen`. */
  encode (name: string, body: unknown): OutboundMessage {
    const def = this.messages.get(name)
    if (def === undefined || !this.messages.isFrozen) throw new GateError.UNKNOWN_MESSAGE(name)
    if (def.check !== undefined && !def.check.Check(body)) {
      const first = def.check.Errors(body).First()
      throw new GateError.INVALID_BODY(name, first ? `${first.path || '/'} ${first.message}` : 'does not match the schema')
    }
    let payload: Buffer
    try {
      payload = this.processor.encode(def, body)
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith('FST_GATE_')) throw err
      throw new GateError.INVALID_BODY(name, (err as Error).message)
    }
    if (payload.length > this.options.maxMsgLen) throw new GateError.MESSAGE_TOO_LARGE(name, payload.length, this.options.maxMsgLen)
    return new OutboundMessage(name, payload, this.options.textFrames && this.processor.text, this.options)
  }

  receive (agent: Agent, payload: Buffer): void {
    this.dispatcher.receive(agent, payload)
  }

  /** Checks a decoded message against its schema and queues it for its handler; false when the connection was closed. */
  dispatch (agent: Agent, def: MessageDef, body: unknown): boolean {
    return this.dispatcher.dispatch(agent, def, body)
  }

  /** Closes `agent` for bad input: one warn line (capped per code), and the error's close code. */
  reject (agent: Agent, err: ProtocolError): void {
    this.dispatcher.reject(agent, err)
  }

  /** @internal The handle a protocol session gets on its connection. */
  peerOf (agent: Agent): ProtocolPeer {
    return new Peer(this, agent)
  }

  /** @internal Credentials from a protocol's connect: throttled per IP like login messages, then the authenticator. */
  async authenticateAgent (agent: Agent, credentials: Credentials): Promise<boolean> {
    if (this.authenticator === undefined) return false
    for (let wait = this.dispatcher.loginAttempt(agent); wait > 0; wait = this.dispatcher.loginAttempt(agent)) {
      await new Promise<void>(resolve => setTimeout(resolve, wait))
      if (!agent.isOpen) return false
    }
    try {
      return await this.authenticator(agent, credentials) !== false && agent.uidValue !== undefined
    } catch (err) {
      agent.log.warn({ err }, 'authenticator failed')
      return false
    }
  }

  async bind (agent: Agent, uid: string, opts?: BindOptions): Promise<Recovery | undefined> {
    if (typeof uid !== 'string' || uid.length === 0 || uid.length > MAX_UID_LENGTH) throw new GateError.INVALID_UID()
    if (!agent.isOpen) throw new GateError.NOT_CONNECTED(agent.id)
    if (agent.uidValue === uid) return undefined
    const policy = this.options.multiLogin
    if (policy === 'reject') {
      const here = this.local.agentsOf(uid)
      if ((here !== undefined && here.size > 0) || await this.directory.isOnline(uid)) throw new GateError.UID_IN_USE(uid)
    } else if (policy === 'replace') {
      await this.directory.kick({ uids: [uid], except: agent.id }, CloseCode.REPLACED, 'replaced by a new login')
    }
    const stored = await this.sessions.load(uid) // [session] restored before the bind, so it is published with it
    if (!agent.isOpen) throw new GateError.NOT_CONNECTED(agent.id)
    if (agent.uidValue !== undefined) this.unbind(agent)
    const first = this.local.bind(agent, uid)
    if (stored !== undefined) this.restoreSettings(agent, stored) // [session]
    if (agent.loginToken) {
      agent.loginToken = false
      this.admission.loginSucceeded(agent.remoteAddress)
    }
    agent.loggedIn = true
    this.directory.bound(agent, uid, first)
    // [history] positions and replay for a client that resumes
    if (opts?.resume !== undefined) return await this.history.resume(agent, uid, opts.resume)
    return undefined
  }

  unbind (agent: Agent): void {
    this.history.detach(agent) // [history]
    const gone = this.local.unbind(agent)
    if (gone !== undefined) this.directory.unbound(agent, gone.uid, gone.last)
    if (gone !== undefined) this.sessions.loggedOut(gone.uid) // [session] an explicit logout deletes the stored session
  }

  /** [session] A connection's settings, reporting their changes to `settingsChanged`. */
  settingsFor (agent: Agent): SessionSettings {
    return this.sessions.settings(() => { this.settingsChanged(agent) })
  }

  /** [session] Republishes the connection (its settings show in `user`) and saves the uid's session. */
  private settingsChanged (agent: Agent): void {
    const uid = agent.uidValue
    if (uid === undefined || !agent.isOpen) return
    this.directory.bound(agent, uid, false)
    this.sessions.save(uid, agent.settings)
  }

  /** [session] Applies stored settings at login, without saving them back. */
  private restoreSettings (agent: Agent, stored: Record<string, string>): void {
    try {
      agent.settings.update(stored, [], true)
    } catch (err) {
      agent.log.warn({ err }, 'stored session settings are over the bounds; not restored')
    }
  }

  /**
   * [session] Sets and removes settings of every connection of `uid`, on every node
   * (mqant's settings push). Throws `FST_GATE_INVALID_SETTING` before sending anything.
   */
  async updateSettings (uid: string, set: Record<string, string> = {}, remove: string[] = []): Promise<SettingsResult> {
    this.sessions.check(set, remove)
    return await this.directory.updateSettings(uid, set, remove)
  }

  join (agent: Agent, room: string): void {
    if (typeof room !== 'string' || room.length === 0 || room.length > MAX_ROOM_LENGTH) {
      throw new GateError.INVALID_OPTION('room', `must be a non-empty string of at most ${MAX_ROOM_LENGTH} characters`)
    }
    if (agent.isOpen && this.local.join(agent, room)) this.directory.joined(agent, room)
  }

  leave (agent: Agent, room: string): void {
    if (this.local.leave(agent, room)) this.directory.left(agent, room)
  }

  /**
   * Before a leaf connection over raw TCP is closed: it has no close codes, so
   * the `closeNotice` message, when configured, says why (`{ code, reason }`).
   * Not for a slow consumer (it does not read), nor for other protocols (MQTT
   * has its own rules on what may be sent before a CONNACK).
   */
  closeNotice (agent: Agent, code: number, reason: string): void {
    const name = this.options.closeNotice
    if (name === undefined || agent.transport !== 'tcp' || agent.protocol !== 'leaf') return
    try {
      agent.write(this.encode(name, { code, reason }))
    } catch (err) {
      const suppressed = this.logLimiter.allow('close-notice')
      if (suppressed >= 0) agent.log.warn({ err, msgName: name, suppressed }, 'close notice not sent')
    }
  }

  closing (agent: Agent): void {
    this.closingAgents.add(agent)
  }

  closed (agent: Agent, reason: CloseReason): void {
    this.closingAgents.delete(agent)
    agent.inbox?.clear()
    this.history.detach(agent) // [history]
    const uid = agent.uidValue
    const lastOfUid = uid !== undefined && this.local.agentsOf(uid)?.size === 1
    this.local.remove(agent)
    if (agent.slot !== undefined) this.admission.release(agent.slot)
    this.directory.removed(agent, uid, lastOfUid)
    this.counters.closes.set(reason.code, (this.counters.closes.get(reason.code) ?? 0) + 1)
    agent.log.debug({ code: reason.code, reason: reason.reason, uid }, 'connection closed')
    for (const hook of this.disconnectHooks) this.runHook(agent, 'disconnect', () => hook(agent, reason))
    if (this.drained !== undefined && this.local.connections === 0) this.drained()
  }

  // ---- operations: local lookups and cluster-wide pushes --------------------

  /** This node's agent of that id. */
  agent (id: string): Agent | undefined {
    return this.local.get(id)
  }

  /** This node's connections of that uid. */
  agentsOf (uid: string): ReadonlySet<Agent> {
    return this.local.agentsOf(uid) ?? new Set()
  }

  /** Sends to every connection of these uids, on every node. */
  async pushToUids<N extends MessageName<M>> (uids: readonly string[], name: N, body: M[N]): Promise<Delivery> {
    const msg = this.encode(name, body)
    const list = [...new Set(uids)]
    // [history] appended before it is sent; `stored` says to how many uids' streams
    if (!this.history.keeps(name)) return await this.directory.pushToUids(list, msg)
    const positions = await this.history.append(list, msg)
    return { ...(await this.directory.pushToUids(list, msg, positions)), stored: positions.size }
  }

  /** Sends to every member of the room, on every node. */
  async pushToRoom<N extends MessageName<M>> (room: string, name: N, body: M[N]): Promise<Delivery> {
    return await this.directory.pushToRoom(room, this.encode(name, body))
  }

  /** Sends to every open connection (or every logged-in one), on every node. */
  async broadcast<N extends MessageName<M>> (name: N, body: M[N], opts: { loggedInOnly?: boolean } = {}): Promise<Delivery> {
    return await this.directory.broadcast(this.encode(name, body), opts.loggedInOnly === true)
  }

  /** Closes these uids' connections and these agents with 4001 and the reason, on every node. */
  async kick (target: KickTarget, reason = 'kicked'): Promise<KickResult> {
    return await this.directory.kick(target, CloseCode.KICKED, clampCloseReason(reason))
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

  // ---- internals ------------------------------------------------------------

  private refused (why: Refusal, remoteAddress: string): void {
    this.counters.refused++
    this.refusals.set(why, (this.refusals.get(why) ?? 0) + 1)
    const suppressed = this.logLimiter.allow(`refused:${why}`)
    if (suppressed >= 0) {
      this.log.warn({ reason: why, remoteAddress, connections: this.local.connections, suppressed }, 'connection refused')
    }
  }

  private runHook (agent: Agent, kind: string, fn: () => void | Promise<void>): void {
    const fail = (err: unknown): void => { agent.log.error({ err }, `${kind} hook failed`) }
    try {
      const result = fn()
      if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
        const run: Promise<void> = (result as Promise<void>).catch(fail).finally(() => this.hookRuns.delete(run))
        this.hookRuns.add(run)
      }
    } catch (err) {
      fail(err)
    }
  }

  private sweep (now: number): void {
    const idle = this.options.idleTimeout
    const login = this.loginRequired ? this.options.loginTimeout : 0
    const handshake = this.options.connectTimeout
    for (const agent of this.local.all()) {
      if (!agent.isOpen) continue
      // Counted from the connect: bytes, pings and partial frames do not extend them.
      if (handshake > 0 && agent.handshakePending && now - agent.connectedAt > handshake) {
        agent.close(CloseCode.UNAUTHORIZED, 'connect timeout')
        continue
      }
      if (login > 0 && !agent.loggedIn && now - agent.connectedAt > login) {
        agent.close(CloseCode.UNAUTHORIZED, 'login timeout')
        continue
      }
      const ka = agent.keepAliveMs
      const limit = ka > 0 && (idle === 0 || ka < idle) ? ka : idle
      // A connection whose handlers are still working is not idle: its reading may be paused by us.
      if (limit > 0 && now - agent.lastSeen > limit && agent.inbox?.busy !== true) agent.close(CloseCode.IDLE_TIMEOUT, ka === limit ? 'keep-alive timeout' : 'idle timeout')
    }
    this.admission.sweep(now)
    for (const fn of this.sweeps) fn(now)
    for (const agent of this.closingAgents) {
      if (now - agent.closingSince > this.options.closeTimeout) agent.conn.destroy()
    }
  }
}
