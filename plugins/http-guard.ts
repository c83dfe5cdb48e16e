import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { Server as TlsServer } from 'node:tls'
import type { Slot } from '../src/limits/admission.js'
import type { GateRuntime } from '../src/runtime.js'

/** What the guard needs from the gate. */
export type GuardHost = Pick<GateRuntime, 'options' | 'reserve' | 'release' | 'onSweep'>

const enum Phase {
  /** Its first request's headers are arriving (`headersTimeout`). */
  Headers,
  /** A request's body is arriving (`requestBodyTimeout`). */
  Body,
  /** A request is being answered (the route's business). */
  Answering,
  /** Between requests on a keep-alive connection (`keepAliveTimeout`). */
  Idle
}

interface Watched {
  slot: Slot
  phase: Phase
  since: number
  req: IncomingMessage | undefined
}

/**
 * Guards the app's HTTP server, where WebSocket upgrades arrive. Every HTTP
 * connection holds a place of its own kind in the gate's admission for its
 * whole life, keep-alive included (at most `maxConnPerIp` per IP and
 * `maxConnNum` in all; see `Admission.admitUnfinished`), so one address cannot
 * hold the process's file descriptors with HTTP connections. Its deadlines:
 *
 * - `headersTimeout` to complete its first request's headers;
 * - `requestBodyTimeout` for each request's body, from its headers on (a body
 *   trickled a byte at a time);
 * - `keepAliveTimeout` idle between two requests.
 *
 * A connection past one is destroyed. An upgrade gives its place back: the
 * WebSocket then takes its own, by `request.ip` (which honours `trustProxy`).
 * The deadlines are checked by the gate's shared timer; the server's own
 * settings are left as they are, but for its `keepAliveTimeout`, lowered to
 * the gate's: Node announces it to clients (`Keep-Alive: timeout=72`, Fastify's
 * default), and a client that trusts it reuses a connection the gate has just
 * dropped (undici: "fetch failed"). On a TLS server the clock starts after the
 * handshake.
 */
export class HttpGuard {
  private readonly gate: GuardHost
  private readonly server: Server
  private readonly watched = new Map<Socket, Watched>()
  private deadline: NodeJS.Timeout | undefined

  constructor (gate: GuardHost, server: Server) {
    this.gate = gate
    this.server = server
    const { keepAliveTimeout } = gate.options
    if (keepAliveTimeout > 0 && (server.keepAliveTimeout === 0 || server.keepAliveTimeout > keepAliveTimeout)) server.keepAliveTimeout = keepAliveTimeout
    const event = server instanceof TlsServer ? 'secureConnection' : 'connection'
    server.on(event, this.accepted)
    // First in line: the phase (and for an upgrade the place) must change before routing, which is synchronous.
    server.prependListener('request', this.request)
    server.prependListener('upgrade', this.upgrade)
    gate.onSweep(now => { this.sweep(now) })
  }

  /** HTTP connections held (upgraded ones are WebSocket connections, not counted here). */
  get size (): number {
    return this.watched.size
  }

  /**
   * Shutdown: destroys at once the connections still sending headers or idle
   * between requests, and every HTTP connection left `ms` from now (an
   * in-flight request that would otherwise hold `server.close()` open).
   */
  shutdown (ms: number): void {
    for (const [socket, w] of [...this.watched]) if (w.phase === Phase.Headers || w.phase === Phase.Idle) socket.destroy()
    if (this.deadline !== undefined) return
    this.deadline = setTimeout(() => { this.server.closeAllConnections() }, ms)
    this.deadline.unref()
  }

  private readonly accepted = (socket: Socket): void => {
    const ip = socket.remoteAddress ?? ''
    let slot = this.gate.reserve(ip, true)
    // A connection idle between requests makes way: its client opens another when it needs one.
    if (typeof slot === 'string' && this.dropIdle(slot === 'ip-limit' ? ip : undefined)) slot = this.gate.reserve(ip, true)
    if (typeof slot === 'string') {
      socket.destroy()
      return
    }
    this.watched.set(socket, { slot, phase: Phase.Headers, since: Date.now(), req: undefined })
    socket.once('close', () => { this.forget(socket) })
  }

  private readonly request = (req: IncomingMessage, res: ServerResponse): void => {
    const w = this.watched.get(req.socket)
    if (w === undefined) return
    w.phase = Phase.Body
    w.since = Date.now()
    w.req = req
    res.once('finish', () => {
      if (w.req !== req) return
      w.phase = Phase.Idle
      w.since = Date.now()
      w.req = undefined
    })
  }

  private readonly upgrade = (req: IncomingMessage): void => {
    this.forget(req.socket)
  }

  /** Destroys the connection idle the longest (of `ip`, when given); false when there is none. */
  private dropIdle (ip: string | undefined): boolean {
    let oldest: [Socket, Watched] | undefined
    for (const entry of this.watched) {
      const w = entry[1]
      if (w.phase === Phase.Idle && (ip === undefined || w.slot.ip === ip) && (oldest === undefined || w.since < oldest[1].since)) oldest = entry
    }
    if (oldest === undefined) return false
    this.forget(oldest[0])
    oldest[0].destroy()
    return true
  }

  private forget (socket: Socket): void {
    const w = this.watched.get(socket)
    if (w === undefined) return
    this.watched.delete(socket)
    this.gate.release(w.slot)
  }

  private sweep (now: number): void {
    const { headersTimeout, requestBodyTimeout, keepAliveTimeout } = this.gate.options
    for (const [socket, w] of this.watched) {
      if (w.phase === Phase.Body && w.req!.complete) w.phase = Phase.Answering
      const limit = w.phase === Phase.Headers ? headersTimeout : w.phase === Phase.Body ? requestBodyTimeout : w.phase === Phase.Idle ? keepAliveTimeout : 0
      if (limit > 0 && now - w.since > limit) {
        this.forget(socket)
        socket.destroy()
      }
    }
  }
}
