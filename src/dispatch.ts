import { performance } from 'node:perf_hooks'
import type { Agent, GateCounters } from './agent.js'
import { clampCloseReason } from './close-codes.js'
import type { OutboundMessage } from './codec/outbound.js'
import type { Processor } from './codec/processor.js'
import { Inbox, type InboxHost } from './inbox.js'
import type { LoginThrottle } from './limits/login-throttle.js'
import type { LogLimiter } from './limits/log-limiter.js'
import { TokenBucket, type Budget } from './limits/token-bucket.js'
import { schemaError, type MessageDef } from './messages.js'
import type { NormalizedCoreOptions } from './options.js'
import { ProtocolError, badBody, protocolError } from './protocol-error.js'

/** The queue entry of a protocol's control packet (`Dispatch.control`): its body is the function that answers it. */
const CONTROL: MessageDef = {
  name: '(control packet)',
  id: -1,
  schema: undefined,
  check: undefined,
  login: false,
  history: false,
  explicitId: undefined,
  explicitNeedsLogin: undefined,
  needsLogin: false,
  handler: undefined
}

/** Optional instrumentation (the metrics plugin sets it). */
export interface GateObserver {
  /** One handler call finished, after `seconds`; `failed` when it threw or rejected. */
  handled? (name: string, seconds: number, failed: boolean): void
}

/** What dispatch reads from the gate. */
export interface DispatchHost {
  readonly options: NormalizedCoreOptions
  readonly processor: Processor
  readonly counters: GateCounters
  readonly logins: LoginThrottle
  readonly admission: { messageBudget (ip: string): Budget | undefined }
  readonly logLimiter: LogLimiter
  readonly observer: GateObserver | undefined
  /** `probeMessage`, encoded: for a connection whose protocol and transport have no probe of their own. */
  readonly probe: OutboundMessage | undefined
}

/**
 * How often a throttled connection that has been sent nothing is probed (see
 * `Dispatch.throttled`). Each probe costs a few bytes; the input a gone client
 * left in the kernel's buffers runs for at most about two of these.
 */
export const PROBE_INTERVAL = 500

/** When a throttled connection was last probed, and its `bytesOut` then. */
interface Probed {
  at: number
  bytesOut: number
}

/**
 * The inbound half of the pipeline, after a protocol found a message: decode
 * (leaf payloads), check the schema, queue per connection (order, backpressure,
 * `msgRate`), login policy and throttle, then the handler, timed for the
 * observer. Bad input closes the connection with its code. Each connection's
 * queue is kept here, from its first message until it closes (`forget`).
 */
export class Dispatch implements InboxHost<Agent> {
  private readonly host: DispatchHost
  private readonly inboxes = new Map<Agent, Inbox<Agent>>()
  private readonly probed = new Map<Agent, Probed>()

  constructor (host: DispatchHost) {
    this.host = host
  }

  /** Whether the connection's handlers are working (its reading may then be paused by us). */
  busy (agent: Agent): boolean {
    return this.inboxes.get(agent)?.busy === true
  }

  /** The connection is gone: its waiting messages are dropped. */
  forget (agent: Agent): void {
    this.inboxes.get(agent)?.clear()
    this.inboxes.delete(agent)
    this.probed.delete(agent)
  }

  /** One whole payload in the gate's encoding: decoded, then as `dispatch`. */
  receive (agent: Agent, payload: Buffer): void {
    let def: MessageDef
    let body: unknown
    try {
      const decoded = this.host.processor.decode(payload)
      def = decoded.def
      body = decoded.body
    } catch (err) {
      this.reject(agent, err instanceof ProtocolError ? err : badBody(`the payload does not decode: ${(err as Error).message}`))
      return
    }
    this.dispatch(agent, def, body)
  }

  /** Checks a decoded message against its schema and queues it for its handler; false when the connection was closed. */
  dispatch (agent: Agent, def: MessageDef, body: unknown): boolean {
    if (def.check !== undefined && !def.check.Check(body)) {
      const why = schemaError(def.check, body)
      this.reject(agent, badBody(`the body of "${def.name}" fails its schema${why === undefined ? '' : `: ${why}`}`))
      return false
    }
    // The login check runs in the queue (see `exec`), so that a message sent right
    // behind a login sees the login, whose handler may still be running now.
    return this.queue(agent, def, body)
  }

  /**
   * A protocol's control packet (MQTT PINGREQ, SUBSCRIBE...): queued like a
   * message, so that it runs in order with them and takes its tokens of
   * `msgRate` and `msgRatePerIp`; `run` answers it. False when the connection
   * was closed.
   */
  control (agent: Agent, run: () => void): boolean {
    return this.queue(agent, CONTROL, run)
  }

  private queue (agent: Agent, def: MessageDef, body: unknown): boolean {
    let inbox = this.inboxes.get(agent)
    if (inbox === undefined) {
      if (!agent.isOpen) return false
      inbox = this.createInbox(agent)
      this.inboxes.set(agent, inbox)
    }
    inbox.push(def, body)
    return true
  }

  /** Closes `agent` for bad input: one warn line (capped per code), and the error's close code. */
  reject (agent: Agent<any>, err: ProtocolError): void {
    const suppressed = this.host.logLimiter.allow(err.code)
    if (suppressed >= 0) {
      agent.log.warn({ code: err.code, closeCode: err.closeCode, reason: err.message, suppressed }, 'bad input; closing connection')
    }
    agent.close(err.closeCode, clampCloseReason(err.message))
  }

  private createInbox (agent: Agent): Inbox<Agent> {
    const rate = this.host.options.msgRate
    return new Inbox(this.host.options.pendingReadNum, this, agent, agent.conn,
      rate > 0 ? new TokenBucket(rate, rate * 2, Date.now()) : undefined,
      this.host.admission.messageBudget(agent.remoteAddress))
  }

  /** (InboxHost, not public: Dispatch is not exported from the package) The connection passed `msgRate`, or its address `msgRatePerIp`. */
  throttled (agent: Agent, byAddress: boolean): void {
    if (byAddress) this.host.counters.addressThrottled++
    else this.host.counters.throttled++
    this.probe(agent)
  }

  /**
   * A client that is gone must stop costing, but what it wrote before it went
   * waits in the kernel's buffers ahead of its FIN, which the gate would see
   * only after running all of it (at its rate: 112,000 messages took minutes).
   * A closed socket answers any bytes written to it with a reset, and the next
   * write then fails, which closes the connection and drops its queue. So a
   * throttled connection that has been sent nothing for `PROBE_INTERVAL` is
   * sent something its client ignores: a WebSocket ping, an MQTT PINGRESP, or
   * the `probeMessage` (leaf over TCP). One that is sent answers needs none.
   */
  private probe (agent: Agent): void {
    const now = Date.now()
    const last = this.probed.get(agent)
    if (last === undefined) {
      this.probed.set(agent, { at: now, bytesOut: agent.bytesOut })
      return
    }
    if (now - last.at < PROBE_INTERVAL) return
    if (agent.bytesOut === last.bytesOut && agent.isOpen && agent.conn.probe?.() !== true) {
      const msg = this.host.probe
      if (msg !== undefined) agent.write(msg)
    }
    last.at = now
    last.bytesOut = agent.bytesOut
  }

  /**
   * (InboxHost, not public: Dispatch is not exported from the package) A handler
   * threw. A coded error (FST_GATE_*, e.g. a send over maxMsgLen) is one line
   * without a stack; anything else is logged with its stack. Both are capped per
   * code, so one client cannot flood the log.
   */
  failed (agent: Agent, err: unknown, def: MessageDef): void {
    this.host.counters.handlerErrors++
    const code = (err as { code?: unknown } | null)?.code
    const coded = typeof code === 'string' && code.startsWith('FST_GATE_')
    const suppressed = this.host.logLimiter.allow(coded ? code : `handler:${def.name}`)
    if (suppressed < 0) return
    if (coded) agent.log.warn({ code, msgName: def.name, reason: (err as Error).message, suppressed }, 'message handler failed')
    else agent.log.error({ err, msgName: def.name, suppressed }, 'message handler failed')
  }

  /** (InboxHost, not public: Dispatch is not exported from the package) Runs one message from the connection's queue: login policy, then its handler. */
  exec (agent: Agent, def: MessageDef, body: unknown): void | Promise<void> {
    if (!agent.isOpen) return
    if (def === CONTROL) {
      (body as () => void)()
      return
    }
    if (def.needsLogin && agent.uid === undefined) {
      this.reject(agent, protocolError('GATE_LOGIN_REQUIRED', `"${def.name}" needs login`))
      return
    }
    if (def.login) {
      const wait = this.host.logins.attempt(agent)
      if (wait > 0) return new Promise<void>(resolve => setTimeout(resolve, wait)).then(() => this.exec(agent, def, body))
    }
    if (def.handler === undefined) {
      agent.log.debug({ msgName: def.name }, 'no handler for message; ignored')
      return
    }
    const observer = this.host.observer
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
}
