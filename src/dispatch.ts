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
  roomHistory: false,
  explicitId: undefined,
  explicitNeedsLogin: undefined,
  answer: undefined,
  needsLogin: false,
  handler: undefined
}

/** The queue entry of a request (`Dispatch.request`): its body is a `Request`. */
const REQUEST: MessageDef = { ...CONTROL, name: '(request)' }

/**
 * Sends a request's answer back the way the request came (leaf: `Gate_Reply`
 * then the answer; MQTT: a PUBLISH on `<name>/<id>`). `code` is `''` when the
 * handler answered (`msg`, or undefined for an acknowledgement), else why not.
 */
export type RequestAnswer = (agent: Agent, code: string, msg: OutboundMessage | undefined) => void

interface Request { def: MessageDef, body: unknown, answer: RequestAnswer }

/** How leaf requests are paired (src/control): a `Gate_Request { id }` names the connection's next message a request. */
export interface RequestPairing {
  /** The `Gate_Request` message, or undefined while leaf requests are off. */
  readonly requestDef: MessageDef | undefined
  /** A `Gate_Request` arrived: the connection's next message is that request. */
  expect (agent: Agent, body: unknown): void
  /** The answer of the request the connection's next message is, if one was announced. */
  take (agent: Agent): RequestAnswer | undefined
}

const noop = (): void => {}

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
  /** The runtime's face, where the metrics plugin and the dashboard set their `observer`. */
  readonly runtime: { readonly observer: GateObserver | undefined }
  /** leaf request pairing (client control messages). */
  readonly control: RequestPairing
  encode (name: string, body: unknown): OutboundMessage
  /** `probeMessage`, encoded: for a connection whose protocol and transport have no probe of their own. */
  readonly probe: OutboundMessage | undefined
}

/**
 * How often a throttled connection that has been sent nothing is probed (see
 * `Dispatch.throttled`). Each probe costs a few bytes; the input a gone client
 * left in the kernel's buffers runs for at most about two of these.
 */
export const PROBE_INTERVAL = 500

/**
 * The inbound half of the pipeline, after a protocol found a message: decode
 * (leaf payloads), check the schema, queue per connection (order, backpressure,
 * `msgRate`), login policy and throttle, then the handler, timed for the
 * observer. Bad input closes the connection with its code. Each connection's
 * queue is made here on its first message and kept on its agent (no lookup
 * per message) until it closes (`forget`).
 */
export class Dispatch implements InboxHost<Agent> {
  private readonly host: DispatchHost

  constructor (host: DispatchHost) {
    this.host = host
  }

  /** Whether the connection's handlers are working (its reading may then be paused by us). */
  busy (agent: Agent): boolean {
    return agent.inbox?.busy === true
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
    const control = this.host.control
    if (control.requestDef !== undefined) {
      // Paired here, in arrival order; the Gate_Request itself takes its place (and token) in the queue.
      if (def === control.requestDef) {
        control.expect(agent, body)
        return this.queue(agent, CONTROL, noop)
      }
      const answer = control.take(agent)
      if (answer !== undefined) return this.queue(agent, REQUEST, { def, body, answer } satisfies Request)
    }
    return this.queue(agent, def, body)
  }

  /**
   * A message sent as a request (a protocol's own, e.g. MQTT's `<name>/<id>`): its
   * schema checked, then queued like any
   * message; once its handler finished, `answer` gets the result. False when
   * the connection was closed.
   */
  request (agent: Agent, def: MessageDef, body: unknown, answer: RequestAnswer): boolean {
    if (def.check !== undefined && !def.check.Check(body)) {
      const why = schemaError(def.check, body)
      this.reject(agent, badBody(`the body of "${def.name}" fails its schema${why === undefined ? '' : `: ${why}`}`))
      return false
    }
    return this.queue(agent, REQUEST, { def, body, answer } satisfies Request)
  }

  /**
   * A protocol's control packet (MQTT PINGREQ, SUBSCRIBE...): queued like a
   * message, so that it runs in order with them and takes its tokens of
   * `msgRate` and `msgRatePerIp`; `run` answers it. False when the connection
   * was closed.
   */
  control (agent: Agent, run: () => void | Promise<void>): boolean {
    return this.queue(agent, CONTROL, run)
  }

  private queue (agent: Agent, def: MessageDef, body: unknown): boolean {
    let inbox = inboxOf(agent)
    if (inbox === undefined) {
      if (!agent.isOpen) return false
      inbox = agent.inbox = this.createInbox(agent)
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
    return new Inbox(this.host.options.pendingReadNum, this, agent, agent,
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
    if (agent.probedAt >= 0) {
      if (now - agent.probedAt < PROBE_INTERVAL) return
      if (agent.bytesOut === agent.probedBytesOut && agent.isOpen && !agent.probe()) {
        const msg = this.host.probe
        if (msg !== undefined) agent.write(msg)
      }
    }
    agent.probedAt = now
    agent.probedBytesOut = agent.bytesOut
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
    if (def === CONTROL) return (body as () => void | Promise<void>)()
    if (def === REQUEST) {
      const r = body as Request
      return this.handle(agent, r.def, r.body, r)
    }
    return this.handle(agent, def, body, undefined)
  }

  private handle (agent: Agent, def: MessageDef, body: unknown, request: Request | undefined): void | Promise<void> {
    if (def.needsLogin && agent.uid === undefined) {
      this.reject(agent, protocolError('GATE_LOGIN_REQUIRED', `"${def.name}" needs login`))
      return
    }
    if (def.login) {
      const wait = this.host.logins.attempt(agent)
      if (wait > 0) return new Promise<void>(resolve => setTimeout(resolve, wait)).then(() => this.exec(agent, request === undefined ? def : REQUEST, request ?? body))
    }
    if (def.handler === undefined) {
      if (request !== undefined) request.answer(agent, 'UNKNOWN', undefined)
      else agent.log.debug({ msgName: def.name }, 'no handler for message; ignored')
      return
    }
    // The plain path: nothing to send back.
    if (request === undefined && def.answer === undefined) return this.call(agent, def, body) as void | Promise<void>
    let result: unknown
    try {
      result = this.call(agent, def, body)
    } catch (err) {
      return this.refused(agent, err, request)
    }
    if (result !== undefined && typeof (result as Promise<unknown>).then === 'function') {
      return (result as Promise<unknown>).then(value => { this.answered(agent, def, value, request) }, (err: unknown) => this.refused(agent, err, request))
    }
    this.answered(agent, def, result, request)
  }

  /** The handler's return value: sent as the message's `answer`, to the request or as a plain message. */
  private answered (agent: Agent, def: MessageDef, value: unknown, request: Request | undefined): void {
    if (def.answer === undefined || value === undefined) {
      request?.answer(agent, '', undefined)
      return
    }
    let msg: OutboundMessage
    try {
      msg = this.host.encode(def.answer, value)
    } catch (err) {
      this.refused(agent, err, request)
      return
    }
    if (request !== undefined) request.answer(agent, '', msg)
    else agent.write(msg)
  }

  /**
   * A handler threw: a request is answered with the error's `code` (a string) or
   * `FAILED`. An application's own coded error (not `FST_GATE_*`) is a refusal,
   * not logged; any other error is rethrown, so the inbox logs it (`failed`).
   */
  private refused (agent: Agent, err: unknown, request: Request | undefined): void {
    const code = (err as { code?: unknown } | null)?.code
    const coded = typeof code === 'string' && code.length > 0
    if (request !== undefined && agent.isOpen) request.answer(agent, coded ? code : 'FAILED', undefined)
    if (request !== undefined && coded && !code.startsWith('FST_GATE_')) return
    throw err
  }

  /** Calls the handler, timed for the observer when there is one. */
  private call (agent: Agent, def: MessageDef, body: unknown): unknown {
    const observer = this.host.runtime.observer
    if (observer?.handled === undefined) return def.handler!(body, agent)
    const start = performance.now()
    let result: unknown
    try {
      result = def.handler!(body, agent)
    } catch (err) {
      observer.handled(def.name, (performance.now() - start) / 1000, true)
      throw err
    }
    if (result !== undefined && typeof (result as Promise<unknown>).then === 'function') {
      return timed(result as Promise<unknown>, observer, def.name, start)
    }
    // The synchronous path (most handlers) makes no closure.
    observer.handled(def.name, (performance.now() - start) / 1000, false)
    return result
  }
}

/** The connection's inbox, which only dispatch makes (the agent holds it opaquely, see `Agent.inbox`). */
function inboxOf (agent: Agent): Inbox<Agent> | undefined {
  return agent.inbox as Inbox<Agent> | undefined
}

/** A handler's promise, reported to the observer once it settles. */
function timed (result: Promise<unknown>, observer: GateObserver, name: string, start: number): Promise<unknown> {
  return result.then(value => {
    observer.handled!(name, (performance.now() - start) / 1000, false)
    return value
  }, (err: unknown) => {
    observer.handled!(name, (performance.now() - start) / 1000, true)
    throw err
  })
}
