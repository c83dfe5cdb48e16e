import type { Agent, Connection } from '../agent.js'
import { CloseCode, type CloseReason } from '../close-codes.js'
import { LEAF_MESSAGE, LEAF_WS_FRAME, type Framing, type OutboundMessage } from '../codec/outbound.js'
import { wsFrame } from '../framing/ws-frame.js'
import type { Slot } from '../limits/admission.js'
import { LogLimiter } from '../limits/log-limiter.js'
import type { Protocol, ProtocolSession } from '../protocol/protocol.js'
import type { GateRuntime } from '../runtime.js'
import type { Link, LinkEvents } from './link.js'

/**
 * The one connection pipeline, for every protocol and transport: admission
 * (`GateRuntime.accept`), then socket events from the link go to the protocol session,
 * whose messages go to the agent (counters, idle time, handler queue, rate);
 * the agent writes back through the link in the protocol's framing, with its
 * outbound queue and byte bounds. A transport only translates socket events;
 * a protocol only translates bytes.
 */
export function connect (gate: GateRuntime, link: Link, protocol: Protocol, slot?: Slot): Agent<any> | undefined {
  const conn = new PipelineConnection(link, protocol)
  const agent = gate.accept(conn, slot)
  if (typeof agent === 'string') {
    link.refuse(protocol.refusal?.(agent))
    return undefined
  }
  try {
    conn.open(agent, protocol.open(gate.peerOf(agent)))
    link.listen(conn)
  } catch (err) {
    // Whatever throws while setting up leaves no agent behind, and does not escape
    // into the transport's connection listener.
    agent.log.error({ err, protocol: protocol.name }, 'the connection could not be set up')
    link.destroy()
    agent.transportClosed({ code: CloseCode.INTERNAL_ERROR, reason: 'connection setup failed' })
    return undefined
  }
  return agent
}

/**
 * A link and its protocol session, as the agent sees them (`Connection`), and
 * the link's events, passed on to the session and the agent (`LinkEvents`).
 * One object per connection, with no closure of its own.
 */
class PipelineConnection implements Connection, LinkEvents {
  readonly transport
  readonly remoteAddress
  readonly protocol: string
  readonly countFraming: Framing
  readonly queueFraming: Framing
  private readonly link: Link
  private readonly probeBytes: Buffer | undefined
  private agent!: Agent<any>
  private session!: ProtocolSession
  private paused = false

  constructor (link: Link, protocol: Protocol) {
    this.link = link
    this.transport = link.transport
    this.remoteAddress = link.remoteAddress
    this.protocol = protocol.name
    this.countFraming = link.transport === 'tcp' ? protocol.stream : protocol.message
    this.queueFraming = link.transport === 'tcp' ? protocol.stream : wsFramingOf(protocol)
    this.probeBytes = protocol.probe
  }

  /** Once admitted: the agent, and the protocol session that reads for it. */
  open (agent: Agent<any>, session: ProtocolSession): void {
    this.agent = agent
    this.session = session
  }

  // ---- Connection: what the agent drives ----------------------------------------

  get bufferedAmount (): number {
    return this.link.bufferedAmount
  }

  get inboundBuffered (): number {
    return this.session?.buffered ?? 0
  }

  write (msg: OutboundMessage, queued: boolean): boolean {
    return this.link.write(msg, queued)
  }

  closing (code: number, reason: string): void {
    this.session?.closing?.(code, reason)
  }

  close (code: number, reason: string): void {
    this.session?.stop?.()
    this.link.close(code, reason)
  }

  destroy (): void {
    this.link.destroy()
  }

  pause (): void {
    this.paused = true
    this.link.pause()
    this.session?.pause?.()
  }

  probe (): boolean {
    return this.link.probe(this.probeBytes)
  }

  /**
   * The session handles what it kept first: that may pause the connection again
   * (the handler queue filled up, or the rate limit ran out), and then the socket
   * must stay paused, or every chunk it reads would pile up in the session.
   */
  resume (): void {
    this.paused = false
    this.session?.resume?.()
    if (!this.paused) this.link.resume()
  }

  // ---- LinkEvents: what the socket reports ------------------------------------------

  data (chunk: Buffer): void {
    this.agent.touch()
    this.session.data(chunk)
  }

  alive (): void {
    this.agent.touch()
  }

  drain (): void {
    this.agent.drained()
  }

  failed (code: number, reason: string): void {
    this.agent.log.warn({ closeCode: code, reason }, 'bad frame; the transport closed the connection')
    this.session.stop?.()
    this.agent.closedByTransport(code, reason)
  }

  closed (fallback: CloseReason): void {
    this.session.stop?.()
    // Gone without a close frame and without the gate closing it (lost, reset, or
    // terminated by the transport itself): one line saying so, repeats capped.
    if (fallback.code === ABNORMAL && this.agent.closeReason === undefined) {
      const suppressed = lostLines.allow('lost')
      if (suppressed >= 0) this.agent.log.info({ closeCode: ABNORMAL, reason: fallback.reason || 'no close frame: connection lost or terminated', suppressed }, 'connection lost')
    }
    this.agent.transportClosed(fallback)
  }
}

/** 1006: closed without a close frame (WebSocket), or a socket error (TCP). */
const ABNORMAL = 1006
/** Lines about lost connections, capped process-wide (a network outage loses them all at once). */
const lostLines = new LogLimiter()

const wsFramings = new WeakMap<Protocol, Framing>()

/**
 * The whole WebSocket frame of a protocol's message, one framing object per
 * protocol (the cache key of `OutboundMessage.frame`).
 */
export function wsFramingOf (protocol: Protocol): Framing {
  if (protocol.message === LEAF_MESSAGE) return LEAF_WS_FRAME
  let f = wsFramings.get(protocol)
  if (f === undefined) {
    f = { build: msg => wsFrame(msg.frame(protocol.message), protocol.textFrames && msg.text && !msg.raw) }
    wsFramings.set(protocol, f)
  }
  return f
}
