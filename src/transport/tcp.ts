import net from 'node:net'
import tls from 'node:tls'
import type { AddressInfo } from 'node:net'
import type { Agent } from '../agent.js'
import { CloseCode } from '../close-codes.js'
import type { Framing, OutboundMessage } from '../codec/outbound.js'
import type { GateRuntime } from '../runtime.js'
import type { TcpOptions } from '../options.js'
import { connect } from '../pipeline/connect.js'
import { eventsOf, onDrain, reportTo, type Link, type LinkEvents } from '../link.js'
import { leafProtocol } from '../protocol/leaf.js'
import type { Protocol } from '../protocol/protocol.js'

/** A TCP (or TLS) socket as a link: frames of its protocol out, `end()` to close. */
class TcpLink implements Link {
  readonly transport = 'tcp' as const
  readonly remoteAddress: string
  private readonly socket: net.Socket
  private readonly framing: Framing

  constructor (socket: net.Socket, framing: Framing) {
    this.socket = socket
    this.framing = framing
    this.remoteAddress = socket.remoteAddress ?? ''
  }

  get bufferedAmount (): number {
    return this.socket.writableLength
  }

  write (msg: OutboundMessage, queued: boolean): boolean {
    // Behind other bytes, the frame waits in the socket's buffer: give it memory of its own.
    return this.socket.write(queued || this.socket.writableLength > 0 ? msg.unpooledFrame(this.framing) : msg.frame(this.framing))
  }

  /** TCP has no close codes: the code is only logged and passed to the disconnect hook. */
  close (): void {
    this.socket.end()
  }

  destroy (): void {
    this.socket.destroy()
  }

  pause (): void {
    this.socket.pause()
  }

  /** (The pipeline keeps the socket paused when the session paused again while resuming.) */
  resume (): void {
    this.socket.resume()
  }

  probe (bytes: Buffer | undefined): boolean {
    if (bytes === undefined || !this.socket.writable) return false
    this.socket.write(bytes)
    return true
  }

  listen (events: LinkEvents): void {
    const socket = this.socket
    socket.setNoDelay(true)
    reportTo(socket, events)
    socket.on('data', onData)
    socket.on('drain', onDrain)
    socket.on('close', onClose)
  }

  refuse (bytes: Buffer | undefined): void {
    if (bytes === undefined) this.socket.destroy()
    else this.socket.end(bytes)
  }
}

// Listeners shared by every connection (see `reportTo`).
function onData (this: net.Socket, chunk: Buffer): void {
  eventsOf(this).socketData(chunk)
}

function onClose (this: net.Socket, hadError: boolean): void {
  eventsOf(this).socketClosed(hadError
    ? { code: 1006, reason: 'connection error' }
    : { code: CloseCode.NORMAL, reason: 'client closed' })
}

/** Hands a fresh TCP socket to the gate, or ends it at once when it is refused (full, per-IP cap or rate). */
export function attachTcpSocket (gate: GateRuntime, socket: net.Socket, protocol: Protocol = leafProtocol): Agent<any> | undefined {
  socket.on('error', onSocketError)
  return connect(gate, new TcpLink(socket, protocol.stream), protocol)
}

function onSocketError (this: net.Socket): void {
  // 'close' follows with hadError = true; nothing else to do.
}

/** A TCP (or TLS) listener for one protocol. Connections themselves belong to the gate. */
export class TcpListener {
  private readonly server: net.Server
  private readonly opts: TcpOptions & { host: string }

  constructor (gate: GateRuntime, opts: TcpOptions & { host: string }, protocol: Protocol = leafProtocol) {
    this.opts = opts
    const onConnection = (socket: net.Socket): void => { attachTcpSocket(gate, socket, protocol) }
    if (opts.tls !== undefined) {
      const server = tls.createServer(opts.tls, onConnection)
      server.on('tlsClientError', (err, socket) => {
        gate.log.debug({ err, remoteAddress: socket.remoteAddress }, 'tls handshake failed')
      })
      this.server = server
    } else {
      this.server = net.createServer(onConnection)
    }
  }

  async listen (): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    return this.server.address() as AddressInfo
  }

  /** The bound address, once listening. */
  address (): AddressInfo | null {
    return this.server.address() as AddressInfo | null
  }

  /** Stops accepting; resolves once every accepted socket is gone. */
  async close (): Promise<void> {
    if (!this.server.listening) return
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }
}
