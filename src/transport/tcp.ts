import net from 'node:net'
import tls from 'node:tls'
import type { AddressInfo } from 'node:net'
import type { Agent, Connection } from '../agent.js'
import { CloseCode } from '../close-codes.js'
import type { OutboundMessage } from '../codec/outbound.js'
import { FrameDecoder } from '../framing/length-prefix.js'
import type { Gate } from '../gate.js'
import type { TcpOptions } from '../options.js'

/** A TCP socket as a gate `Connection`: length-prefixed frames out, `end()` to close. */
class TcpConnection implements Connection {
  readonly transport = 'tcp' as const
  readonly remoteAddress: string
  readonly socket: net.Socket
  decoder: FrameDecoder | undefined
  private paused = false

  constructor (socket: net.Socket) {
    this.socket = socket
    this.remoteAddress = socket.remoteAddress ?? ''
  }

  get bufferedAmount (): number {
    return this.socket.writableLength
  }

  write (msg: OutboundMessage, queued: boolean): boolean {
    // Behind other bytes, the frame waits in the socket's buffer: give it memory of its own.
    return this.socket.write(queued || this.socket.writableLength > 0 ? msg.unpooled(true) : msg.framed)
  }

  /** TCP has no close codes: the code is only logged and passed to the disconnect hook. */
  close (): void {
    this.decoder?.stop()
    this.socket.end()
  }

  destroy (): void {
    this.socket.destroy()
  }

  pause (): void {
    this.paused = true
    this.socket.pause()
    this.decoder?.pause()
  }

  /**
   * Decodes what was kept first: that may pause the connection again (the
   * handler queue filled up, or the rate limit ran out), and then the socket
   * must stay paused, or every chunk it reads would pile up in the decoder.
   */
  resume (): void {
    this.paused = false
    this.decoder?.resume()
    if (!this.paused) this.socket.resume()
  }
}

/** Hands a fresh TCP socket to the gate, or destroys it at once when it is refused (full, per-IP cap or rate). */
export function attachTcpSocket (gate: Gate, socket: net.Socket): Agent | undefined {
  socket.on('error', onSocketError)
  const conn = new TcpConnection(socket)
  const agent = gate.accept(conn)
  if (typeof agent === 'string') {
    socket.destroy()
    return undefined
  }
  socket.setNoDelay(true)
  const header = gate.options.lenMsgLen
  const decoder = conn.decoder = new FrameDecoder(
    gate.options,
    payload => agent.receive(payload, payload.length + header),
    err => gate.reject(agent, err)
  )
  socket.on('data', (chunk: Buffer) => {
    agent.touch()
    decoder.push(chunk)
  })
  socket.on('drain', () => agent.drained())
  socket.on('close', (hadError: boolean) => {
    decoder.stop()
    agent.transportClosed(hadError
      ? { code: 1006, reason: 'connection error' }
      : { code: CloseCode.NORMAL, reason: 'client closed' })
  })
  return agent
}

function onSocketError (this: net.Socket): void {
  // 'close' follows with hadError = true; nothing else to do.
}

/** The companion TCP (or TLS) listener. Connections themselves belong to the gate. */
export class TcpListener {
  private readonly server: net.Server
  private readonly opts: TcpOptions & { host: string }

  constructor (gate: Gate, opts: TcpOptions & { host: string }) {
    this.opts = opts
    const onConnection = (socket: net.Socket): void => { attachTcpSocket(gate, socket) }
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
