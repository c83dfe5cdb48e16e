import type { IncomingMessage, Server } from 'node:http'
import type { Socket } from 'node:net'
import { Server as TlsServer } from 'node:tls'
import type { Refusal, Slot } from '../limits/admission.js'

/** What the guard needs from the gate. */
export interface GuardHost {
  readonly options: { readonly headersTimeout: number }
  reserve (ip: string, unfinishedHttp: boolean): Slot | Refusal
  release (slot: Slot): void
  onSweep (fn: (now: number) => void): void
}

/**
 * Guards the app's HTTP server, where WebSocket upgrades arrive. A connection
 * that has not finished its first request's headers holds a place of its own
 * kind in the gate's admission (at most `maxConnPerIp` per IP and `maxConnNum`
 * in all; see `Admission.admitUnfinished`), and is destroyed after
 * `headersTimeout`. So half-open requests (headers
 * trickled a byte at a time) cannot take the process's file descriptors, and do
 * not hold up shutdown. Once the headers are in, the place is given back: an
 * upgrade then reserves its own, by `request.ip` (which honours `trustProxy`).
 *
 * Node's own `headersTimeout` (60 s by default, checked every 30 s) still
 * governs later requests on a keep-alive connection; the guard does not change
 * the server's settings. On a TLS server the clock starts after the handshake.
 */
export class HttpGuard {
  private readonly gate: GuardHost
  private readonly server: Server
  private readonly pending = new Map<Socket, { slot: Slot, since: number }>()
  private deadline: NodeJS.Timeout | undefined

  constructor (gate: GuardHost, server: Server) {
    this.gate = gate
    this.server = server
    const event = server instanceof TlsServer ? 'secureConnection' : 'connection'
    server.on(event, this.accepted)
    // First in line: the place must be free before routing (which is synchronous) reserves the upgrade's own.
    server.prependListener('request', this.headersDone)
    server.prependListener('upgrade', this.headersDone)
    gate.onSweep(now => { this.sweep(now) })
  }

  /** Connections still sending their first request's headers. */
  get size (): number {
    return this.pending.size
  }

  /**
   * Shutdown: destroys the connections still sending headers now, and every
   * HTTP connection left `ms` from now (an in-flight request that would
   * otherwise hold `server.close()` open).
   */
  shutdown (ms: number): void {
    for (const socket of [...this.pending.keys()]) socket.destroy()
    if (this.deadline !== undefined) return
    this.deadline = setTimeout(() => { this.server.closeAllConnections() }, ms)
    this.deadline.unref()
  }

  private readonly accepted = (socket: Socket): void => {
    const slot = this.gate.reserve(socket.remoteAddress ?? '', true)
    if (typeof slot === 'string') {
      socket.destroy()
      return
    }
    this.pending.set(socket, { slot, since: Date.now() })
    socket.once('close', () => { this.done(socket) })
  }

  private readonly headersDone = (req: IncomingMessage): void => {
    this.done(req.socket)
  }

  private done (socket: Socket): void {
    const entry = this.pending.get(socket)
    if (entry === undefined) return
    this.pending.delete(socket)
    this.gate.release(entry.slot)
  }

  private sweep (now: number): void {
    const timeout = this.gate.options.headersTimeout
    if (timeout === 0) return
    for (const [socket, { since }] of this.pending) {
      if (now - since > timeout) {
        this.done(socket)
        socket.destroy()
      }
    }
  }
}
