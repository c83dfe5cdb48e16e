import type { AnyMessages, MessageName } from '../src/message-map.js'
import { normalizeReconnect, retryDelay, type NormalizedReconnect, type ReconnectOptions } from './backoff.js'
import type { Codec } from './codec.js'
import { GateClientError, LoginRefused } from './errors.js'
import { json } from './json.js'
import { advance, storedPositions, storeValue, type PositionStore, type ResumeInfo, type ResumeOptions, type RoomResumeInfo } from './position.js'
import type { Payload, Transport, TransportConnection } from './transport.js'
import { CONTROL_NAMES } from '../src/control/names.js'

/**
 * The client's state. `attempt` counts retries in a row since the last
 * `connected` (0 for the first connect). `code` and `reason` are those of the
 * close that led there: the WebSocket close code, or 1006 for a dropped
 * connection and on TCP (which has no close code).
 */
export type ClientState =
  | { status: 'idle' }
  | { status: 'connecting', attempt: number }
  | { status: 'connected' }
  | { status: 'reconnecting', attempt: number, delay: number, code: number, reason: string }
  | { status: 'disconnected', code: number, reason: string }

/** What `login` gets: the connection being set up, before it counts as connected. */
export interface Session<M extends object = AnyMessages> {
  /** Sends now, ahead of the offline queue. */
  send: <N extends MessageName<M>>(name: N, body: M[N]) => void
  /** The next message of that name on this connection; rejects when it closes or after `timeout` ms (default: the client's `connectTimeout`). */
  next: <N extends MessageName<M>>(name: N, timeout?: number) => Promise<M[N]>
  /** True on every connect but the first. */
  readonly reconnect: boolean
  /**
   * With `resume` on, the client's last position (`''` before the first one), to
   * send in the login message (the example's `resume_pos`); `undefined` with
   * resume off, so that `{ resume_pos: session.position }` asks for a replay
   * only when it is on. It moves on as replayed messages arrive.
   */
  readonly position: string | undefined
}

/** A hook run on every (re)connect, after the transport opened and before `connected`. */
export type SessionHook<M extends object> = (session: Session<M>) => void | Promise<void>

/** What `login` may return: the login answer, whose `recovered` (and position field) the client reads when resume is on. */
export interface LoginResult { recovered?: boolean }

/** The `login` hook: a `SessionHook` that may return the login answer. */
export type LoginHook<M extends object> = (session: Session<M>) => void | LoginResult | Promise<void | LoginResult>

/** An application heartbeat, e.g. the example's `C2S_UserHeartBeat { ptime }`. */
export type HeartbeatOptions<M extends object> = {
  [N in MessageName<M>]: {
    name: N
    /** The body of each heartbeat. Default `{}`. */
    body?: () => M[N]
    /** ms between heartbeats while the transport is open. Default 20000 (under the gate's default idle timeout, 60 s). */
    interval?: number
    /** ms without any message from the server after which the connection is dropped and retried. Default 2.5 × interval; 0 turns it off. */
    timeout?: number
  }
}[MessageName<M>]

export interface ClientOptions<M extends object = AnyMessages> {
  transport: Transport
  /** Default `json()`. */
  codec?: Codec
  /**
   * Runs on every (re)connect before the client counts as connected: log in,
   * rejoin rooms, restore state. Throw `LoginRefused` to stop for good; any
   * other error drops this connection and retries. With resume on, send
   * `session.position` in the login message and return the login answer.
   */
  login?: LoginHook<M>
  /**
   * Resume (docs/protocol.md section 8): keep the last position seen, in the
   * `field` of every message and of the login answer, and hand it to `login`
   * on every (re)connect. `true`: the defaults. Default: off.
   */
  resume?: ResumeOptions | boolean
  /** Default: none. */
  heartbeat?: HeartbeatOptions<M> | false
  /** `false`: never reconnect. */
  reconnect?: ReconnectOptions | false
  /**
   * What `send` does while not connected: queue up to `queue` messages, sent in
   * order once connected (default `{ queue: 100 }`; past it, `send` throws
   * `GATE_CLIENT_QUEUE_FULL`), or `'error'`: throw `GATE_CLIENT_OFFLINE`.
   */
  offline?: { queue: number } | 'error'
  /** ms for the transport to open and the hooks to finish. Default 10000. */
  connectTimeout?: number
  /**
   * The message the server sends with `{ code, reason }` just before it closes
   * a connection that has no close codes (raw TCP: the gate's `closeNotice`
   * option; `S2C_Close` in the example app). Its code then counts as the close
   * code, so a kicked TCP client stops as a WebSocket one does. Default: none.
   */
  closeNotice?: string
}

type Listener = (body: any, name: string) => void

interface Waiter { name: string, resolve: (body: any) => void, reject: (err: Error) => void, timer: ReturnType<typeof setTimeout> }

/** A subscribe, unsubscribe or request waiting for its `Gate_Reply`; `conn`: the connection it was sent on (none while queued). */
interface Call {
  kind: 'subscribe' | 'unsubscribe' | 'request'
  room?: string
  name?: string
  conn: TransportConnection | undefined
  /** `code` is `''` on success; a request's answer comes with the next message; `reply`: the `Gate_Reply` body. */
  settle: (code: string, answer: unknown, reply?: Record<string, unknown>) => void
  reject: (err: Error) => void
  timer?: ReturnType<typeof setTimeout>
}

/** Options of `request`. */
export interface RequestOptions {
  /** ms to wait for the answer. Default: the client's `connectTimeout`. */
  timeout?: number
}

/** Swallows the answer of a request nobody waits for any more (it timed out). */
const NOBODY: Call = { kind: 'request', conn: undefined, settle: () => {}, reject: () => {} }

/** Close codes the client uses for closes it decides itself. */
const NORMAL = 1000
const LOCAL_TIMEOUT = 4000

/**
 * A gate client: transport- and codec-neutral. `connect()` starts it;
 * it reconnects with backoff until `close()`, a stop code, a refused login or
 * `maxAttempts`.
 */
export class GateClient<M extends object = AnyMessages> {
  private readonly transport: Transport
  private readonly codec: Codec
  private readonly opts: ClientOptions<M>
  private readonly retry: NormalizedReconnect | false
  private readonly queueMax: number
  private readonly connectTimeout: number
  private readonly listeners = new Map<string, Set<Listener>>()
  private readonly stateListeners = new Set<(s: ClientState) => void>()
  private readonly errorListeners = new Set<(e: Error) => void>()
  private readonly resumeListeners = new Set<(r: ResumeInfo) => void>()
  /** The position field, or undefined with resume off. */
  private readonly field: string | undefined
  /** The room position field, with resume on. */
  private readonly roomField: string | undefined
  /** With resume on, each subscribed room's last position seen (and those read from the store, until unsubscribed). */
  private readonly roomPositions = new Map<string, string>()
  private readonly roomResumeListeners = new Set<(r: RoomResumeInfo) => void>()
  private readonly store: PositionStore | undefined
  private storeRead = false
  /** The value last read from or given to the store; undefined until it was read. */
  private saved: string | undefined
  private _position = ''
  private waiters: Waiter[] = []
  private queue: Payload[] = []
  private current: TransportConnection | undefined
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined
  private deadTimer: ReturnType<typeof setTimeout> | undefined
  private attempt = 0
  private connectedOnce = false
  private stopped = false
  private _state: ClientState = { status: 'idle' }
  /** The close notice received on the current connection, if any. */
  private notice: { code: number, reason: string } | undefined
  private firstConnect: { resolve: () => void, reject: (e: Error) => void } | undefined
  /** Rooms subscribed (or being subscribed): subscribed again on every reconnect. */
  private readonly rooms = new Set<string>()
  /** `subscribe` calls waiting for their room to be accepted, by room. */
  private readonly roomWaiters = new Map<string, Array<{ resolve: (info: RoomResumeInfo | undefined) => void, reject: (e: Error) => void }>>()
  /** Calls waiting for their `Gate_Reply`, by id. */
  private readonly calls = new Map<number, Call>()
  private lastId = 0
  /** The request whose answer is the next message (a `Gate_Reply` with `answer` came). */
  private answerFor: Call | undefined
  /** The connection that has logged in (its subscribes may be sent). */
  private loggedIn: TransportConnection | undefined

  constructor (opts: ClientOptions<M>) {
    this.opts = opts
    this.transport = opts.transport
    this.codec = opts.codec ?? json()
    this.retry = opts.reconnect === false ? false : normalizeReconnect(opts.reconnect)
    this.queueMax = opts.offline === 'error' ? 0 : (opts.offline?.queue ?? 100)
    this.connectTimeout = opts.connectTimeout ?? 10000
    const resume = opts.resume === true ? {} : opts.resume === false ? undefined : opts.resume
    this.field = resume === undefined ? undefined : (resume.field ?? 'gate_pos')
    this.roomField = resume === undefined ? undefined : (resume.roomField ?? 'gate_room')
    this.store = resume?.store
  }

  /** With resume on, the last position seen (`''` before the first one). */
  get position (): string { return this._position }

  get state (): ClientState { return this._state }

  /** Messages waiting in the offline queue. */
  get queued (): number { return this.queue.length }

  /** Starts connecting; resolves once connected the first time, rejects with `GATE_CLIENT_CLOSED` if the client stops before that. */
  async connect (): Promise<void> {
    if (this._state.status === 'connected') return
    if (this.stopped) throw this.closedError()
    const p = new Promise<void>((resolve, reject) => {
      const prev = this.firstConnect
      this.firstConnect = {
        resolve: () => { prev?.resolve(); resolve() },
        reject: (e) => { prev?.reject(e); reject(e) }
      }
    })
    if (this._state.status === 'idle') this.open()
    return await p
  }

  /** Closes for good: no reconnect; the offline queue is dropped. */
  close (code = NORMAL, reason = 'closed by the client'): void {
    if (this.stopped) return
    this.stop(code, reason)
  }

  /**
   * Sends a message: now when connected, else into the offline queue (or throws
   * `GATE_CLIENT_OFFLINE` with `offline: 'error'`). Throws `GATE_CLIENT_CLOSED`
   * once the client has stopped, and the codec's error for a bad body.
   */
  send<N extends MessageName<M>> (name: N, body: M[N]): void {
    if (this.stopped) throw this.closedError()
    const payload = this.encode(name, body)
    if (this._state.status === 'connected' && this.current !== undefined) {
      this.current.send(payload)
      return
    }
    if (this.queueMax === 0) throw new GateClientError('GATE_CLIENT_OFFLINE', `not connected (${this._state.status}): "${name}" not sent`)
    if (this.queue.length >= this.queueMax) throw new GateClientError('GATE_CLIENT_QUEUE_FULL', `the offline queue holds ${this.queueMax} messages: "${name}" not queued`)
    this.queue.push(payload)
  }

  /** Calls `listener` with the body of every message of that name. Returns a function that removes it. */
  on<N extends MessageName<M>> (name: N, listener: (body: M[N], name: N) => void): () => void {
    let set = this.listeners.get(name)
    if (set === undefined) this.listeners.set(name, set = new Set())
    set.add(listener as Listener)
    return () => { set.delete(listener as Listener) }
  }

  /** Every message, whatever its name. */
  onAny (listener: (body: unknown, name: MessageName<M>) => void): () => void {
    return this.on('*' as MessageName<M>, listener as never)
  }

  /** The next message of that name; rejects with `GATE_CLIENT_TIMEOUT` after `timeout` ms, or `GATE_CLIENT_CLOSED` when the client stops. */
  async next<N extends MessageName<M>> (name: N, timeout = this.connectTimeout): Promise<M[N]> {
    if (this.stopped) throw this.closedError()
    return await this.wait(name, timeout)
  }

  /** Calls `listener` on every state change (see `ClientState`). */
  onState (listener: (state: ClientState) => void): () => void {
    this.stateListeners.add(listener)
    return () => { this.stateListeners.delete(listener) }
  }

  /** With resume on, called after every login, before `connected`: was everything missed replayed, and the position now. */
  onResume (listener: (info: ResumeInfo) => void): () => void {
    this.resumeListeners.add(listener)
    return () => { this.resumeListeners.delete(listener) }
  }

  /**
   * With resume on, called after every subscribe the server accepted (the
   * re-subscribes after each reconnect too), once the room's missed messages
   * were delivered: was everything missed replayed, and the room's position now.
   */
  onRoomResume (listener: (info: RoomResumeInfo) => void): () => void {
    this.roomResumeListeners.add(listener)
    return () => { this.roomResumeListeners.delete(listener) }
  }

  /** With resume on, the last position seen of a subscribed room (`''` before the first; `undefined` when not subscribed or resume is off). */
  roomPosition (room: string): string | undefined {
    if (this.roomField === undefined || !this.rooms.has(room)) return undefined
    return this.roomPositions.get(room) ?? ''
  }

  /** Errors that do not stop the client: an undecodable payload, a listener that threw, a failed login attempt that will be retried. */
  onError (listener: (err: Error) => void): () => void {
    this.errorListeners.add(listener)
    return () => { this.errorListeners.delete(listener) }
  }

  /** The rooms this client is subscribed to, or asked to be: subscribed again after every reconnect. */
  get subscriptions (): ReadonlySet<string> { return this.rooms }

  /**
   * Subscribes to a room with the server's permission (docs/protocol.md section
   * 10; the gate needs `clientControl`): resolves once the server accepted it
   * (now, or after the next connect), rejects with `GATE_CLIENT_REFUSED`
   * (`serverCode`: `NOT_ALLOWED`, `ROOM_LIMIT`, `INVALID_ROOM`, `LOGIN_REQUIRED`)
   * or `GATE_CLIENT_CLOSED` when the client stops. The room is subscribed again
   * on every reconnect, after `login` and before `connected`.
   *
   * With resume on, every subscribe sends the room's last position (`since`,
   * docs/protocol.md section 10): the messages of the room missed meanwhile
   * arrive first, once, in order, and it resolves with what the server found
   * (`recovered`, the position); `undefined` with resume off.
   */
  async subscribe (room: string): Promise<RoomResumeInfo | undefined> {
    if (this.stopped) throw this.closedError()
    if (typeof room !== 'string' || room === '') throw new GateClientError('GATE_CLIENT_BAD_MESSAGE', 'a room must be a non-empty string')
    this.rooms.add(room)
    return await new Promise<RoomResumeInfo | undefined>((resolve, reject) => {
      const list = this.roomWaiters.get(room)
      if (list === undefined) this.roomWaiters.set(room, [{ resolve, reject }])
      else list.push({ resolve, reject })
      // A connection lost before the answer: the room is subscribed again at the next connect.
      if (this.current !== undefined && this.loggedIn === this.current) this.sendSubscribe(this.current, room).catch(() => {})
    })
  }

  /**
   * Leaves a room: no more re-subscribes. Connected, resolves on the server's
   * answer; otherwise at once (there is nothing to leave).
   */
  async unsubscribe (room: string): Promise<void> {
    if (this.stopped) throw this.closedError()
    this.rooms.delete(room)
    this.roomPositions.delete(room)
    this.save()
    const conn = this.current
    if (conn === undefined || this.loggedIn !== conn) {
      this.settleRoom(room, new GateClientError('GATE_CLIENT_REFUSED', `unsubscribed from "${room}" before the server answered`, { serverCode: 'UNSUBSCRIBED', room }))
      return
    }
    await new Promise<void>((resolve, reject) => {
      const id = this.nextId()
      // A connection lost before the answer left the room as well.
      this.calls.set(id, { kind: 'unsubscribe', room, conn, settle: () => { resolve() }, reject: () => { resolve() } })
      conn.send(this.encode(CONTROL_NAMES.unsubscribe, { id, room }))
    })
  }

  /**
   * Sends `name` as a request and resolves with the handler's answer (the body
   * of the message the server registered as its `answer`; `undefined` for an
   * acknowledgement). Rejects with `GATE_CLIENT_TIMEOUT` after `timeout` ms,
   * `GATE_CLIENT_REFUSED` (`serverCode`: `UNKNOWN`, `FAILED`, or the handler's
   * own code), or `GATE_CLIENT_CLOSED` when the connection it went out on
   * closes first (the handler may or may not have run). While not connected it
   * waits in the offline queue like `send`.
   */
  async request<N extends MessageName<M>> (name: N, body: M[N], opts: RequestOptions = {}): Promise<any> {
    if (this.stopped) throw this.closedError()
    const id = this.nextId()
    const payloads = [this.encode(CONTROL_NAMES.request, { id }), this.encode(name, body)]
    const timeout = opts.timeout ?? this.connectTimeout
    return await new Promise((resolve, reject) => {
      const call: Call = {
        kind: 'request',
        name,
        conn: undefined,
        settle: (code, answer) => {
          clearTimeout(call.timer)
          if (code === '') resolve(answer)
          else reject(new GateClientError('GATE_CLIENT_REFUSED', `"${name}" refused: ${code}`, { serverCode: code }))
        },
        reject: (err) => { clearTimeout(call.timer); reject(err) }
      }
      call.timer = setTimeout(() => {
        if (this.calls.get(id) === call) this.calls.delete(id)
        if (this.answerFor === call) this.answerFor = NOBODY
        reject(new GateClientError('GATE_CLIENT_TIMEOUT', `no answer to "${name}" within ${timeout} ms`))
      }, timeout)
      this.calls.set(id, call)
      if (this._state.status === 'connected' && this.current !== undefined) {
        call.conn = this.current
        for (const p of payloads) this.current.send(p)
        return
      }
      try {
        if (this.queueMax === 0) throw new GateClientError('GATE_CLIENT_OFFLINE', `not connected (${this._state.status}): "${name}" not sent`)
        if (this.queue.length + 2 > this.queueMax) throw new GateClientError('GATE_CLIENT_QUEUE_FULL', `the offline queue holds ${this.queueMax} messages: "${name}" not queued`)
      } catch (err) {
        this.calls.delete(id)
        call.reject(err as Error)
        return
      }
      this.queue.push(...payloads)
    })
  }

  // ---- internals -------------------------------------------------------------

  private nextId (): number {
    this.lastId = this.lastId >= 0xffffffff ? 1 : this.lastId + 1
    return this.lastId
  }

  /** Sends one subscribe on `conn`; resolves with the server's code (the waiters of the room are settled by then), rejects when `conn` closes first. */
  private sendSubscribe (conn: TransportConnection, room: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const id = this.nextId()
      const since = this.roomField === undefined ? undefined : (this.roomPositions.get(room) ?? '')
      this.calls.set(id, {
        kind: 'subscribe',
        room,
        conn,
        settle: (code, _answer, reply) => {
          if (code === '') {
            this.settleRoom(room, undefined, since === undefined ? undefined : this.roomResumed(room, since, reply))
          } else {
            this.rooms.delete(room)
            this.roomPositions.delete(room)
            this.save()
            const err = new GateClientError('GATE_CLIENT_REFUSED', `subscribe to "${room}" refused: ${code}`, { serverCode: code, room })
            if (this.roomWaiters.has(room)) this.settleRoom(room, err)
            else this.report(err)
          }
          resolve(code)
        },
        reject
      })
      conn.send(this.encode(CONTROL_NAMES.subscribe, since === undefined ? { id, room } : { id, room, since }))
    })
  }

  /** Resolves (or rejects with `err`) the `subscribe` calls waiting for `room`. */
  private settleRoom (room: string, err?: Error, info?: RoomResumeInfo): void {
    const list = this.roomWaiters.get(room)
    if (list === undefined) return
    this.roomWaiters.delete(room)
    for (const w of list) {
      if (err === undefined) w.resolve(info)
      else w.reject(err)
    }
  }

  /** A subscribe with `since` was accepted: the room's position moves to the reply's, and the listeners hear of it. */
  private roomResumed (room: string, from: string, reply: Record<string, unknown> | undefined): RoomResumeInfo {
    this.moveRoom(room, reply?.pos)
    const info: RoomResumeInfo = { room, recovered: reply?.recovered === true, from, position: this.roomPositions.get(room) ?? '' }
    for (const l of [...this.roomResumeListeners]) {
      try {
        l(info)
      } catch (err) {
        this.report(new GateClientError('GATE_CLIENT_LISTENER', `a room resume listener threw: ${(err as Error).message}`, { cause: err }))
      }
    }
    return info
  }

  /** A `Gate_Reply`: settles its call; with `answer`, the next message is the request's answer. */
  private replied (body: unknown): void {
    const { id, code, answer } = (body ?? {}) as { id?: unknown, code?: unknown, answer?: unknown }
    const call = typeof id === 'number' ? this.calls.get(id) : undefined
    if (call !== undefined) this.calls.delete(id as number)
    if (answer === true) {
      this.answerFor = call ?? NOBODY
      return
    }
    call?.settle(typeof code === 'string' ? code : 'FAILED', undefined, body as Record<string, unknown>)
  }

  /** Rejects the calls sent on `conn` (it closed), or every call (`conn` undefined: the client stopped). */
  private failCalls (conn: TransportConnection | undefined, err: Error): void {
    this.answerFor = undefined
    for (const [id, call] of [...this.calls]) {
      if (conn !== undefined && call.conn !== conn) continue
      this.calls.delete(id)
      call.reject(err)
    }
    if (conn === undefined) for (const room of [...this.roomWaiters.keys()]) this.settleRoom(room, err)
  }

  private encode (name: string, body: unknown): Payload {
    try {
      return this.codec.encode(name, body)
    } catch (err) {
      if (err instanceof GateClientError) throw err
      throw new GateClientError('GATE_CLIENT_BAD_MESSAGE', `"${name}" does not encode: ${(err as Error).message}`, { cause: err })
    }
  }

  private setState (state: ClientState): void {
    this._state = state
    for (const l of [...this.stateListeners]) {
      try {
        l(state)
      } catch (err) {
        this.report(new GateClientError('GATE_CLIENT_LISTENER', `a state listener threw: ${(err as Error).message}`, { cause: err }))
      }
    }
  }

  private report (err: Error): void {
    for (const l of [...this.errorListeners]) {
      try { l(err) } catch {}
    }
  }

  private closedError (): GateClientError {
    const s = this._state
    const detail = s.status === 'disconnected' ? `: ${s.code} ${s.reason}` : ''
    return new GateClientError('GATE_CLIENT_CLOSED', `the client has stopped${detail}`, { closeCode: s.status === 'disconnected' ? s.code : undefined })
  }

  private wait (name: string, timeout: number): Promise<any> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        name,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter(w => w !== waiter)
          reject(new GateClientError('GATE_CLIENT_TIMEOUT', `no "${name}" within ${timeout} ms`))
        }, timeout)
      }
      this.waiters.push(waiter)
    })
  }

  private rejectWaiters (err: Error): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) {
      clearTimeout(w.timer)
      w.reject(err)
    }
  }

  /** One connection attempt: open, hooks, then connected. */
  private open (): void {
    this.retryTimer = undefined
    this.notice = undefined
    this.setState({ status: 'connecting', attempt: this.attempt })
    const reconnect = this.connectedOnce
    let opened = false
    // Set once `open` returns; a transport calls its handlers later, never from `open` itself.
    const ref: { conn?: TransportConnection } = {}
    const isCurrent = (): boolean => ref.conn !== undefined && this.current === ref.conn
    const openTimer = setTimeout(() => {
      if (isCurrent() && this._state.status === 'connecting') this.drop(LOCAL_TIMEOUT, `not connected within ${this.connectTimeout} ms`)
    }, this.connectTimeout)
    ref.conn = this.transport.open({
      onOpen: () => {
        if (!isCurrent()) return
        opened = true
        this.startHeartbeat()
        void this.setUp(ref.conn!, reconnect, openTimer)
      },
      onPayload: (payload) => {
        if (!isCurrent()) return
        this.received(payload)
      },
      onClose: (code, reason) => {
        clearTimeout(openTimer)
        if (!isCurrent()) return
        const notice = this.notice
        this.notice = undefined
        if (notice !== undefined) this.lost(notice.code, notice.reason)
        else this.lost(code, reason || (opened ? 'connection closed' : 'could not connect'))
      }
    })
    this.current = ref.conn
  }

  private async setUp (conn: TransportConnection, reconnect: boolean, openTimer: ReturnType<typeof setTimeout>): Promise<void> {
    const positionNow = (): string | undefined => this.field === undefined ? undefined : this._position
    const session: Session<M> = {
      send: (name, body) => { if (this.current === conn) conn.send(this.encode(name, body)) },
      next: async (name, timeout = this.connectTimeout) => await this.wait(name, timeout),
      reconnect,
      get position () { return positionNow() }
    }
    let resumed: ResumeInfo | undefined
    try {
      await this.readStore()
      const from = this._position
      const result = await this.opts.login?.(session)
      if (this.field !== undefined && this.current === conn) {
        const answer = (typeof result === 'object' && result !== null ? result : {}) as Record<string, unknown>
        this.track(answer[this.field])
        resumed = { recovered: answer.recovered === true, from, position: this._position }
      }
      // The rooms again, before the application hears of the (re)connect; a refused one is reported (onError) and dropped.
      if (this.current === conn) {
        this.loggedIn = conn
        await Promise.all([...this.rooms].map(async room => await this.sendSubscribe(conn, room)))
      }
    } catch (err) {
      clearTimeout(openTimer)
      if (this.current !== conn) return
      if (err instanceof LoginRefused) {
        this.stop(err.closeCode, err.message)
        return
      }
      this.report(err as Error)
      this.drop(LOCAL_TIMEOUT, `login failed: ${(err as Error).message}`)
      return
    }
    clearTimeout(openTimer)
    if (this.current !== conn) return
    this.attempt = 0
    this.connectedOnce = true
    if (resumed !== undefined) {
      this.emitResumed(resumed)
      if (this.current !== conn) return // a listener closed the client
    }
    this.setState({ status: 'connected' })
    const queued = this.queue
    this.queue = []
    for (const call of this.calls.values()) if (call.kind === 'request' && call.conn === undefined) call.conn = conn
    for (const payload of queued) conn.send(payload)
    const first = this.firstConnect
    this.firstConnect = undefined
    first?.resolve()
  }

  private received (payload: Payload): void {
    this.armDeadTimer()
    let msg
    try {
      msg = this.codec.decode(payload)
    } catch (err) {
      this.report(new GateClientError('GATE_CLIENT_BAD_PAYLOAD', `a payload from the server does not decode: ${(err as Error).message}`, { cause: err }))
      return
    }
    if (this.field !== undefined) {
      const body = msg.body as Record<string, unknown> | null
      const room = body?.[this.roomField!]
      // A room message's position is its room's (section 10), else the uid's (section 8).
      if (typeof room === 'string' && room !== '') {
        this.moveRoom(room, body?.[this.field])
      } else {
        this.track(body?.[this.field])
      }
    }
    if (msg.name === CONTROL_NAMES.reply) {
      this.replied(msg.body)
      return
    }
    const answerFor = this.answerFor
    if (answerFor !== undefined) {
      // The answer of a request goes to it, not to the listeners.
      this.answerFor = undefined
      answerFor.settle('', msg.body)
      return
    }
    if (msg.name === this.opts.closeNotice) {
      const body = msg.body as { code?: unknown, reason?: unknown } | null
      if (typeof body?.code === 'number') this.notice = { code: body.code, reason: typeof body.reason === 'string' ? body.reason : '' }
    }
    const waiter = this.waiters.find(w => w.name === msg.name)
    if (waiter !== undefined) {
      this.waiters = this.waiters.filter(w => w !== waiter)
      clearTimeout(waiter.timer)
      waiter.resolve(msg.body)
    }
    for (const set of [this.listeners.get(msg.name), this.listeners.get('*')]) {
      if (set === undefined) continue
      for (const l of [...set]) {
        try {
          l(msg.body, msg.name)
        } catch (err) {
          this.report(new GateClientError('GATE_CLIENT_LISTENER', `a listener of "${msg.name}" threw: ${(err as Error).message}`, { cause: err }))
        }
      }
    }
  }

  /** Reads the position store once, before the first login: the uid position and the rooms' (`storedPositions`). */
  private async readStore (): Promise<void> {
    if (this.store === undefined || this.storeRead) return
    this.storeRead = true
    try {
      const stored = storedPositions(await this.store.get())
      this._position = advance(this._position, stored.pos)
      for (const [room, pos] of stored.rooms) this.roomPositions.set(room, advance(this.roomPositions.get(room) ?? '', pos))
    } catch (err) {
      this.report(new GateClientError('GATE_CLIENT_POSITION_STORE', `the position store's get failed: ${(err as Error).message}`, { cause: err }))
    }
    this.saved = storeValue(this._position, this.roomPositions)
  }

  /** Keeps `pos` when it moves the position on (see `advance`), and saves it to the store. */
  private track (pos: unknown): void {
    const next = advance(this._position, pos)
    if (next === this._position) return
    this._position = next
    this.save()
  }

  /** Keeps `pos` as the room's position when it moves it on and the room is subscribed, and saves it to the store. */
  private moveRoom (room: string, pos: unknown): void {
    if (!this.rooms.has(room)) return
    const current = this.roomPositions.get(room) ?? ''
    const next = advance(current, pos)
    if (next === current) return
    this.roomPositions.set(room, next)
    this.save()
  }

  /** Gives the store the positions (`storeValue`) when they changed since it was read or last given them. */
  private save (): void {
    if (this.store === undefined || this.saved === undefined) return
    const value = storeValue(this._position, this.roomPositions)
    if (value === this.saved) return
    this.saved = value
    const failed = (err: unknown): void => { this.report(new GateClientError('GATE_CLIENT_POSITION_STORE', `the position store's set failed: ${(err as Error).message}`, { cause: err })) }
    try {
      const r = this.store.set(value)
      if (r instanceof Promise) r.catch(failed)
    } catch (err) {
      failed(err)
    }
  }

  private emitResumed (info: ResumeInfo): void {
    for (const l of [...this.resumeListeners]) {
      try {
        l(info)
      } catch (err) {
        this.report(new GateClientError('GATE_CLIENT_LISTENER', `a resume listener threw: ${(err as Error).message}`, { cause: err }))
      }
    }
  }

  private startHeartbeat (): void {
    const hb = this.opts.heartbeat
    if (hb === undefined || hb === false) return
    const interval = hb.interval ?? 20000
    this.heartbeatTimer = setInterval(() => {
      try {
        this.current?.send(this.encode(hb.name, hb.body?.() ?? {}))
      } catch (err) {
        this.report(err as Error)
      }
    }, interval)
    this.armDeadTimer()
  }

  /** Drops the connection when the server has been silent for the heartbeat's `timeout`. */
  private armDeadTimer (): void {
    const hb = this.opts.heartbeat
    if (hb === undefined || hb === false) return
    const timeout = hb.timeout ?? 2.5 * (hb.interval ?? 20000)
    if (timeout <= 0) return
    clearTimeout(this.deadTimer)
    this.deadTimer = setTimeout(() => this.drop(LOCAL_TIMEOUT, `nothing received for ${timeout} ms`), timeout)
  }

  private stopTimers (): void {
    clearInterval(this.heartbeatTimer)
    clearTimeout(this.deadTimer)
    this.heartbeatTimer = undefined
    this.deadTimer = undefined
  }

  /** Closes the current connection on the client's own decision and goes on as if it had been lost. */
  private drop (code: number, reason: string): void {
    const conn = this.current
    if (conn === undefined) return
    this.current = undefined
    conn.close(code === LOCAL_TIMEOUT ? NORMAL : code, reason)
    this.lost(code, reason, conn)
  }

  /** The current connection is gone: retry, or stop for good. */
  private lost (code: number, reason: string, conn = this.current): void {
    this.current = undefined
    this.loggedIn = undefined
    this.stopTimers()
    const closed = new GateClientError('GATE_CLIENT_CLOSED', `the connection closed: ${code} ${reason}`, { closeCode: code })
    this.rejectWaiters(closed)
    if (conn !== undefined) this.failCalls(conn, closed)
    const r = this.retry
    if (this.stopped) return
    if (r === false || r.stopCodes.includes(code) || this.attempt >= r.maxAttempts) {
      this.stop(code, reason)
      return
    }
    this.attempt++
    const delay = retryDelay(this.attempt, code, r)
    this.setState({ status: 'reconnecting', attempt: this.attempt, delay, code, reason })
    this.retryTimer = setTimeout(() => this.open(), delay)
  }

  private stop (code: number, reason: string): void {
    this.stopped = true
    clearTimeout(this.retryTimer)
    this.stopTimers()
    const conn = this.current
    this.current = undefined
    conn?.close(NORMAL, reason)
    this.queue = []
    this.setState({ status: 'disconnected', code, reason })
    const err = this.closedError()
    this.rejectWaiters(err)
    this.failCalls(undefined, err)
    const first = this.firstConnect
    this.firstConnect = undefined
    first?.reject(err)
  }
}

/** Creates a client (not yet connected: call `connect()`). */
export function createClient<M extends object = AnyMessages> (opts: ClientOptions<M>): GateClient<M> {
  return new GateClient<M>(opts)
}
