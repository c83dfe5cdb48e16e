import { performance } from 'node:perf_hooks'
import type { GateLogger as Logger } from './logger.js'
import type { Static, TSchema } from '@sinclair/typebox'
import { Agent, type AgentHost, type Connection, type GateCounters } from './agent.js'
import { CloseCode, clampCloseReason, type CloseReason } from './close-codes.js'
import { JsonProcessor } from './codec/json.js'
import { OutboundMessage } from './codec/outbound.js'
import type { Processor } from './codec/processor.js'
import { ProtobufProcessor } from './codec/protobuf.js'
import type { AgentDirectory, Delivery, GateStats, KickResult, UserConnections, UsersPage } from './directory/directory.js'
import { LocalDirectory } from './directory/local.js'
import { GateError } from './errors.js'
import { Inbox } from './inbox.js'
import { LocalAgents, type KickTarget } from './local-agents.js'
import { MessageRegistry, type Handler, type MessageDef, type MessageOptions } from './messages.js'
import { normalizeCoreOptions, type CoreOptions, type NormalizedCoreOptions } from './options.js'
import { ProtocolError, badBody } from './protocol-error.js'
import { Sweeper } from './sweeper.js'

export type ConnectHook = (agent: Agent) => void | Promise<void>
export type DisconnectHook = (agent: Agent, reason: CloseReason) => void | Promise<void>

/** Optional instrumentation (the metrics plugin sets it). */
export interface GateObserver {
  /** One handler call finished, after `seconds`; `failed` when it threw or rejected. */
  handled? (name: string, seconds: number, failed: boolean): void
}

/** Builds the directory; the default is the single-node `LocalDirectory`. */
export type DirectoryFactory = (local: LocalAgents, gate: Gate) => AgentDirectory

const MAX_UID_LENGTH = 256
const MAX_ROOM_LENGTH = 256

/**
 * The transport-neutral core: messages, handlers, hooks, the local index of
 * agents, and the cluster-wide operations (through the directory). It never
 * touches a socket; transports hand it `Connection`s via `accept`.
 */
export class Gate implements AgentHost {
  readonly options: NormalizedCoreOptions
  readonly nodeId: string
  readonly messages = new MessageRegistry()
  readonly processor: Processor
  readonly local: LocalAgents
  readonly directory: AgentDirectory
  readonly counters: GateCounters = { msgsIn: 0, msgsOut: 0, bytesIn: 0, bytesOut: 0, handlerErrors: 0, refused: 0, closes: new Map() }
  readonly log: Logger
  observer: GateObserver | undefined = undefined
  private seq = 0
  private state: 'init' | 'ready' | 'closing' | 'closed' = 'init'
  private readonly connectHooks: ConnectHook[] = []
  private readonly disconnectHooks: DisconnectHook[] = []
  private readonly closingAgents = new Set<Agent>()
  private readonly hookRuns = new Set<Promise<unknown>>()
  private readonly sweeper: Sweeper
  private drained: (() => void) | undefined

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
    this.directory = directory ? directory(this.local, this) : new LocalDirectory(this.local)
    this.sweeper = new Sweeper(this.options.idleTimeout, this.options.closeTimeout, now => this.sweep(now))
  }

  get pendingWriteNum (): number {
    return this.options.pendingWriteNum
  }

  get isReady (): boolean {
    return this.state === 'ready'
  }

  /** Open connections on this node, both transports. */
  get connectionCount (): number {
    return this.local.connections
  }

  /** Whether a new connection would go over `maxConnNum`. */
  get isFull (): boolean {
    return this.local.connections >= this.options.maxConnNum
  }

  // ---- registration -------------------------------------------------------

  /**
   * Registers a message, optionally with its handler. With a TypeBox `schema`, the
   * body is checked before the handler runs and the handler's `msg` is typed.
   */
  message<S extends TSchema> (name: string, opts: MessageOptions<S> = {}, handler?: Handler<Static<S>>): this {
    this.messages.register(name, opts, handler)
    return this
  }

  /** Sets the handler of a registered message. */
  handle<T = unknown> (name: string, handler: Handler<T>): this {
    this.messages.handle(name, handler as Handler<any>)
    return this
  }

  /** Runs for every new connection, before its first message is handled. */
  onConnect (hook: ConnectHook): this {
    this.connectHooks.push(hook)
    return this
  }

  /** Runs once per connection after it closed, with the close code and reason. */
  onDisconnect (hook: DisconnectHook): this {
    this.disconnectHooks.push(hook)
    return this
  }

  // ---- lifecycle ----------------------------------------------------------

  /** Freezes the message table, starts the directory and the shared timer. */
  async ready (): Promise<void> {
    if (this.state !== 'init') return
    this.messages.freeze(this.options.ids)
    this.processor.init(this.messages)
    await this.directory.start()
    this.sweeper.start()
    this.state = 'ready'
  }

  /**
   * Closes every connection with 1001 and waits until they are gone; connections
   * that do not finish their close handshake within `closeTimeout` are destroyed.
   */
  async close (): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') return
    this.state = 'closing'
    if (this.local.connections > 0) {
      const drained = new Promise<void>(resolve => { this.drained = resolve })
      for (const agent of [...this.local.all()]) agent.close(CloseCode.GOING_AWAY, 'server shutting down')
      // The sweeper destroys connections stuck in their close handshake after
      // closeTimeout; this bound only guards against a transport that never reports.
      let timer: NodeJS.Timeout | undefined
      const bound = new Promise<void>(resolve => { timer = setTimeout(resolve, this.options.closeTimeout * 2 + 1000) })
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
    this.state = 'closed'
  }

  /**
   * Admits a connection: returns its agent, or `undefined` when the gate is full
   * or not serving (the transport then refuses it).
   */
  accept (conn: Connection): Agent | undefined {
    if (this.state !== 'ready' || this.isFull) {
      this.counters.refused++
      return undefined
    }
    const agent = new Agent(`${this.nodeId}-${(++this.seq).toString(36)}`, conn, this, this.log)
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
    let def: MessageDef
    let body: unknown
    try {
      const decoded = this.processor.decode(payload)
      def = decoded.def
      body = decoded.body
    } catch (err) {
      this.reject(agent, err instanceof ProtocolError ? err : badBody(`the payload does not decode: ${(err as Error).message}`))
      return
    }
    if (def.check !== undefined && !def.check.Check(body)) {
      const first = def.check.Errors(body).First()
      this.reject(agent, badBody(`the body of "${def.name}" fails its schema${first ? `: ${first.path || '/'} ${first.message}` : ''}`))
      return
    }
    // The login check runs in the queue (see `run`), so that a message sent right
    // behind a login sees the login, whose handler may still be running now.
    (agent.inbox ??= this.createInbox(agent)).push(def, body)
  }

  async bind (agent: Agent, uid: string): Promise<void> {
    if (typeof uid !== 'string' || uid.length === 0 || uid.length > MAX_UID_LENGTH) throw new GateError.INVALID_UID()
    if (!agent.isOpen) throw new GateError.NOT_CONNECTED(agent.id)
    if (agent.uidValue === uid) return
    const policy = this.options.multiLogin
    if (policy === 'reject') {
      const here = this.local.agentsOf(uid)
      if ((here !== undefined && here.size > 0) || await this.directory.isOnline(uid)) throw new GateError.UID_IN_USE(uid)
    } else if (policy === 'replace') {
      await this.directory.kick({ uids: [uid], except: agent.id }, CloseCode.REPLACED, 'replaced by a new login')
    }
    if (!agent.isOpen) throw new GateError.NOT_CONNECTED(agent.id)
    if (agent.uidValue !== undefined) this.unbind(agent)
    const first = this.local.bind(agent, uid)
    this.directory.bound(agent, uid, first)
  }

  unbind (agent: Agent): void {
    const gone = this.local.unbind(agent)
    if (gone !== undefined) this.directory.unbound(agent, gone.uid, gone.last)
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

  closing (agent: Agent): void {
    this.closingAgents.add(agent)
  }

  closed (agent: Agent, reason: CloseReason): void {
    this.closingAgents.delete(agent)
    agent.inbox?.clear()
    const uid = agent.uidValue
    const lastOfUid = uid !== undefined && this.local.agentsOf(uid)?.size === 1
    this.local.remove(agent)
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
  async pushToUids (uids: readonly string[], name: string, body: unknown): Promise<Delivery> {
    return await this.directory.pushToUids([...new Set(uids)], this.encode(name, body))
  }

  /** Sends to every member of the room, on every node. */
  async pushToRoom (room: string, name: string, body: unknown): Promise<Delivery> {
    return await this.directory.pushToRoom(room, this.encode(name, body))
  }

  /** Sends to every open connection (or every logged-in one), on every node. */
  async broadcast (name: string, body: unknown, opts: { loggedInOnly?: boolean } = {}): Promise<Delivery> {
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
  protocol (): Record<string, unknown> {
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

  /** Closes `agent` for bad input: one warn line, and the error's close code. */
  reject (agent: Agent, err: ProtocolError): void {
    agent.log.warn({ code: err.code, closeCode: err.closeCode, reason: err.message }, 'bad input; closing connection')
    agent.close(err.closeCode, clampCloseReason(err.message))
  }

  private createInbox (agent: Agent): Inbox {
    return new Inbox(
      this.options.pendingReadNum,
      (def, body) => this.run(agent, def, body),
      (err, def) => {
        this.counters.handlerErrors++
        agent.log.error({ err, msgName: def.name }, 'message handler failed')
      },
      agent.conn
    )
  }

  private run (agent: Agent, def: MessageDef, body: unknown): void | Promise<void> {
    if (!agent.isOpen) return
    if (def.needsLogin && agent.uidValue === undefined) {
      this.reject(agent, new ProtocolError('GATE_LOGIN_REQUIRED', CloseCode.UNAUTHORIZED, `"${def.name}" needs login`))
      return
    }
    if (def.handler === undefined) {
      agent.log.debug({ msgName: def.name }, 'no handler for message; ignored')
      return
    }
    const observer = this.observer
    if (observer?.handled === undefined) return def.handler(body, agent)
    const start = performance.now()
    const done = (failed: boolean): void => observer.handled!(def.name, (performance.now() - start) / 1000, failed)
    let result: void | Promise<void>
    try {
      result = def.handler(body, agent)
    } catch (err) {
      done(true)
      throw err
    }
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      return (result as Promise<void>).then(() => done(false), (err: unknown) => { done(true); throw err })
    }
    done(false)
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
    if (idle > 0) {
      for (const agent of this.local.all()) {
        // A connection whose handlers are still working is not idle: its reading may be paused by us.
        if (agent.isOpen && now - agent.lastSeen > idle && agent.inbox?.busy !== true) agent.close(CloseCode.IDLE_TIMEOUT, 'idle timeout')
      }
    }
    for (const agent of this.closingAgents) {
      if (now - agent.closingSince > this.options.closeTimeout) agent.conn.destroy()
    }
  }
}
