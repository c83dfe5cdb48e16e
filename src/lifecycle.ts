import type { Agent, GateCounters } from './agent.js'
import { CloseCode, type CloseReason } from './close-codes.js'
import type { Encoder } from './codec/encoder.js'
import type { Processor } from './codec/processor.js'
import type { ClientControl } from './control/client-control.js'
import type { Directory } from './directory/directory.js'
import type { Dispatch } from './dispatch.js'
import { Drain } from './drain.js'
import type { History } from './history/history.js' // [history]
import type { RoomHistory } from './history/room-history.js' // [room history]
import { Slot, type Admission, type Refusal } from './limits/admission.js'
import type { Backlog } from './limits/backlog.js'
import type { LogLimiter } from './limits/log-limiter.js'
import type { AgentIndex } from './agent-index.js'
import type { GateLogger } from './logger.js'
import type { Membership } from './membership.js'
import type { MessageRegistry } from './messages.js'
import type { NormalizedCoreOptions } from './options.js'
import type { Link, Wire } from './link.js'
import { PeerAgent, type PeerHost } from './pipeline/peer.js'

export type ConnectHook<A extends Agent<any> = Agent<any>> = (agent: A) => void | Promise<void>
/** Runs after the close; the agent still has the uid, rooms and data it had when it closed. */
export type DisconnectHook<A extends Agent<any> = Agent<any>> = (agent: A, reason: CloseReason) => void | Promise<void>

/** What the lifecycle works with. */
export interface LifecycleParts {
  readonly options: NormalizedCoreOptions
  readonly log: GateLogger
  readonly counters: GateCounters
  readonly admission: Admission
  readonly logLimiter: LogLimiter
  readonly local: AgentIndex
  readonly directory: Directory
  readonly dispatch: Dispatch
  readonly history: History
  readonly roomHistory: RoomHistory
  readonly membership: Membership
  readonly encoder: Encoder
  readonly messages: MessageRegistry
  readonly processor: Processor
  readonly control: ClientControl
  /** Outbound bytes waiting in the connections' queues (see `maxTotalBufferedBytes`). */
  readonly backlog: Backlog
}

type State = 'init' | 'ready' | 'closing' | 'closed'

/**
 * A connection from admission to its last hook: places (`reserve`, `accept`,
 * `release`), the connect and disconnect hooks, the close bookkeeping, the
 * timeouts checked by the gate's one shared timer (connect, login, keep-alive,
 * idle, close handshake), and shutdown. What it checks of a connection is kept
 * on the connection's agent (its deadlines, its admission place), not here.
 */
export class Lifecycle {
  /** Connections refused, by reason, since start. */
  readonly refusals = new Map<Refusal, number>()
  readonly connectHooks: ConnectHook[] = []
  readonly disconnectHooks: DisconnectHook[] = []
  private readonly p: LifecycleParts
  private state: State = 'init'
  private seq = 0
  private loginRequired = false
  private readonly hookRuns = new Set<Promise<unknown>>()
  private drained: (() => void) | undefined
  /** The connections being closed by a shutdown, over `drainTime`. */
  private draining: Drain | undefined
  /** What each agent gets of the gate. */
  private readonly host: PeerHost

  constructor (parts: LifecycleParts) {
    this.p = parts
    const { encoder } = parts
    this.host = {
      options: parts.options,
      counters: parts.counters,
      backlog: parts.backlog,
      messages: parts.messages,
      processor: parts.processor,
      dispatch: parts.dispatch,
      membership: parts.membership,
      control: parts.control,
      encode: (name, body) => encoder.encode(name, body),
      closed: (agent, reason) => { this.closed(agent, reason) }
    }
  }

  get isReady (): boolean {
    return this.state === 'ready'
  }

  /** Serving from now on; `loginRequired` turns the login timeout on. */
  serve (loginRequired: boolean): void {
    this.loginRequired = loginRequired
    this.state = 'ready'
  }

  /**
   * Takes a place for a connection from `ip` that is being set up (an HTTP
   * upgrade, a connection still sending its headers), or says why not. The
   * place is handed to `accept`, or given back with `release`.
   */
  reserve (ip: string, unfinishedHttp = false): Slot | Refusal {
    const admission = this.p.admission
    const got = this.state !== 'ready'
      ? 'not-serving'
      : unfinishedHttp ? admission.admitUnfinished(ip) : admission.admit(ip, Date.now())
    if (!(got instanceof Slot)) this.refused(got, ip)
    return got
  }

  release (slot: Slot): void {
    this.p.admission.release(slot)
  }

  /**
   * Admits a connection: returns its agent, or why it was refused (the
   * transport then refuses it). A `slot` from `reserve` is the place it takes;
   * without one, the connection is admitted here (caps and rate of its IP).
   */
  accept (link: Link, wire: Wire, slot?: Slot): PeerAgent | Refusal {
    if (this.state !== 'ready') {
      if (slot !== undefined) this.release(slot)
      this.refused('not-serving', link.remoteAddress)
      return 'not-serving'
    }
    const place = slot ?? this.reserve(link.remoteAddress)
    if (!(place instanceof Slot)) return place
    const { local, options, log } = this.p
    const host = this.host
    const id = `${options.nodeId}-${(++this.seq).toString(36)}`
    const agent = local.add(where => new PeerAgent(id, link, wire, host, log, where, place))
    this.p.directory.changed({ kind: 'connected', agent })
    for (const hook of this.connectHooks) this.runHook(agent, 'connect', () => hook(agent))
    return agent
  }

  /**
   * The connection is gone (its agent dropped its own queues): it leaves the
   * index and gives its place back, history stops following it, the directory
   * learns it, then the disconnect hooks run.
   */
  private closed (agent: Agent, reason: CloseReason): void {
    const { local, history, directory, counters } = this.p
    history.detach(agent) // [history]
    this.p.roomHistory.detach(agent) // [room history]
    const uid = agent.uid
    local.remove(agent)
    this.release(agent.slot)
    directory.changed({ kind: 'disconnected', agent, uid })
    counters.closes.set(reason.code, (counters.closes.get(reason.code) ?? 0) + 1)
    agent.log.debug({ code: reason.code, reason: reason.reason, uid }, 'connection closed')
    for (const hook of this.disconnectHooks) this.runHook(agent, 'disconnect', () => hook(agent, reason))
    if (this.drained !== undefined && local.connections === 0) this.drained()
  }

  /**
   * Stops accepting, then closes every connection with 1012, spread over
   * `drainTime` (see `Drain`, driven by `sweep`), and waits until they are
   * gone. Connections that do not finish their close handshake within
   * `closeTimeout` are destroyed by the sweep, and whatever is left after the
   * bound here too. Then waits for the hooks still running.
   */
  async shutdown (): Promise<void> {
    this.state = 'closing'
    const { local, options } = this.p
    if (local.connections > 0) {
      const drained = new Promise<void>(resolve => { this.drained = resolve })
      const drain = this.draining = new Drain([...local.all()], options.drainTime, Date.now())
      drain.sweep(Date.now())
      // The sweep destroys connections stuck in their close handshake after
      // closeTimeout; this bound, counted from the last close, only guards
      // against a transport that never reports.
      let timer: NodeJS.Timeout | undefined
      const ms = Math.min(options.shutdownTimeout, options.closeTimeout * 2 + 1000)
      const bound = drain.issued.then(async () => await new Promise<void>(resolve => { timer = setTimeout(resolve, ms) }))
      await Promise.race([drained, bound])
      clearTimeout(timer)
      for (const agent of [...local.all()]) {
        agent.link.destroy()
        agent.socketClosed({ code: CloseCode.SERVICE_RESTART, reason: 'service restart' })
      }
    }
    await Promise.allSettled([...this.hookRuns])
  }

  /** After shutdown, once every part has stopped. */
  stopped (): void {
    this.state = 'closed'
  }

  /** On the gate's shared timer: the drain, and the connect, login, keep-alive, idle and close-handshake timeouts. */
  sweep (now: number): void {
    const { options } = this.p
    // While draining, every connection closes within drainTime anyway: only the
    // drain and the close handshakes are checked, not the whole index every tick.
    if (this.draining !== undefined) {
      this.draining.sweep(now)
      for (const agent of this.p.local.all()) this.sweepClosing(agent, now, options.closeTimeout)
    } else {
      this.sweepTimeouts(now)
    }
  }

  /** A connection whose close handshake took longer than `closeTimeout` is destroyed. */
  private sweepClosing (agent: Agent, now: number, closeTimeout: number): void {
    if (agent.closingSince > 0 && now - agent.closingSince > closeTimeout) agent.link.destroy()
  }

  /** The connect, login, keep-alive and idle timeouts, over every connection. */
  private sweepTimeouts (now: number): void {
    const { options, local, dispatch } = this.p
    const idle = options.idleTimeout
    const login = this.loginRequired ? options.loginTimeout : 0
    const handshake = options.connectTimeout
    for (const agent of local.all()) {
      if (!agent.isOpen) {
        this.sweepClosing(agent, now, options.closeTimeout)
        continue
      }
      // Counted from the connect: bytes, pings and partial frames do not extend them.
      if (handshake > 0 && now - agent.connectedAt > handshake && agent.handshakePending) {
        agent.close(CloseCode.UNAUTHORIZED, 'connect timeout')
        continue
      }
      if (login > 0 && !agent.place.everBound && now - agent.connectedAt > login) {
        agent.close(CloseCode.UNAUTHORIZED, 'login timeout')
        continue
      }
      const ka = agent.keepAliveMs
      const limit = ka > 0 && (idle === 0 || ka < idle) ? ka : idle
      // A connection whose handlers are still working is not idle: its reading may be paused by us.
      if (limit > 0 && now - agent.lastSeen > limit && !dispatch.busy(agent)) agent.close(CloseCode.IDLE_TIMEOUT, ka === limit ? 'keep-alive timeout' : 'idle timeout')
    }
  }

  private refused (why: Refusal, remoteAddress: string): void {
    this.p.counters.refused++
    this.refusals.set(why, (this.refusals.get(why) ?? 0) + 1)
    const suppressed = this.p.logLimiter.allow(`refused:${why}`)
    if (suppressed >= 0) {
      this.p.log.warn({ reason: why, remoteAddress, connections: this.p.local.connections, suppressed }, 'connection refused')
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
}
