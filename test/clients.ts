/**
 * Test clients written only from docs/protocol.md (not from the server's code), so
 * they check the wire contract: JSON `{"Name":{...}}` or protobuf `| id:uint16 | body |`
 * payloads, carried one per WebSocket message or length-prefixed on TCP.
 */
import net from 'node:net'
import { once } from 'node:events'
import protobuf from 'protobufjs'
import WebSocket from 'ws'

export interface Received { name: string, body: any }
export interface Closed { code: number, reason: string }

export interface WireOptions {
  encoding?: 'json' | 'protobuf'
  /** protobuf: the root and the id table (name -> id). */
  root?: protobuf.Root
  ids?: Record<string, number>
  lenMsgLen?: 1 | 2 | 4
  littleEndian?: boolean
}

/** Encodes and decodes payloads the way docs/protocol.md section 1 says. */
export class Wire {
  readonly opts: Required<Pick<WireOptions, 'encoding' | 'lenMsgLen' | 'littleEndian'>> & WireOptions
  constructor (opts: WireOptions = {}) {
    this.opts = { encoding: 'json', lenMsgLen: 2, littleEndian: false, ...opts }
  }

  encode (name: string, body: unknown): Buffer {
    if (this.opts.encoding === 'json') return Buffer.from(JSON.stringify({ [name]: body }))
    const id = this.opts.ids![name]
    const type = this.opts.root!.lookupType(name)
    const bytes = type.encode(type.fromObject(body as object)).finish()
    const out = Buffer.alloc(2 + bytes.length)
    if (this.opts.littleEndian) out.writeUInt16LE(id); else out.writeUInt16BE(id)
    out.set(bytes, 2)
    return out
  }

  decode (payload: Buffer): Received {
    if (this.opts.encoding === 'json') {
      const doc = JSON.parse(payload.toString())
      const name = Object.keys(doc)[0]
      return { name, body: doc[name] }
    }
    const id = this.opts.littleEndian ? payload.readUInt16LE(0) : payload.readUInt16BE(0)
    const name = Object.entries(this.opts.ids!).find(([, v]) => v === id)![0]
    const type = this.opts.root!.lookupType(name)
    return { name, body: type.toObject(type.decode(payload.subarray(2)), { longs: Number, defaults: true, arrays: true }) }
  }

  /** `| len | payload |` */
  frame (payload: Buffer): Buffer {
    const n = this.opts.lenMsgLen
    const header = Buffer.alloc(n)
    if (n === 1) header[0] = payload.length
    else if (n === 2) this.opts.littleEndian ? header.writeUInt16LE(payload.length) : header.writeUInt16BE(payload.length)
    else this.opts.littleEndian ? header.writeUInt32LE(payload.length) : header.writeUInt32BE(payload.length)
    return Buffer.concat([header, payload])
  }
}

/** What both clients share: a queue of received messages and a close promise. */
abstract class BaseClient {
  readonly wire: Wire
  protected readonly inbox: Received[] = []
  private waiters: Array<{ resolve: (m: Received) => void, reject: (err: Error) => void, timer: NodeJS.Timeout }> = []
  private ended = false
  closed: Promise<Closed>
  private resolveClose!: (c: Closed) => void

  constructor (wire: Wire) {
    this.wire = wire
    this.closed = new Promise(resolve => { this.resolveClose = resolve })
  }

  protected deliver (payload: Buffer): void {
    const msg = this.wire.decode(payload)
    const waiter = this.waiters.shift()
    if (waiter) {
      clearTimeout(waiter.timer)
      waiter.resolve(msg)
    } else this.inbox.push(msg)
  }

  /**
   * The connection is closed: nothing more can arrive, so whoever waits for a
   * message is told now (a waiting timer would otherwise keep the test file's
   * process alive for its whole timeout after the test ended).
   */
  protected resolveClosed (c: Closed): void {
    this.ended = true
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer)
      waiter.reject(new Error(`the connection closed (${c.code}) before a message came`))
    }
    this.resolveClose(c)
  }

  /** The next message, or a rejection after `ms` or once the connection is closed. */
  next (ms = 5000): Promise<Received> {
    const queued = this.inbox.shift()
    if (queued) return Promise.resolve(queued)
    if (this.ended) return Promise.reject(new Error('the connection is closed: no message will come'))
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter(w => w !== waiter)
          reject(new Error(`no message within ${ms} ms`))
        }, ms)
      }
      this.waiters.push(waiter)
    })
  }

  /** Waits for the next message of that name, skipping others. */
  async nextOf (name: string, ms = 5000): Promise<Received> {
    for (;;) {
      const m = await this.next(ms)
      if (m.name === name) return m
    }
  }

  /** Messages received and not yet read. */
  get pending (): number { return this.inbox.length }

  abstract send (name: string, body: unknown): void
  abstract sendRaw (data: Buffer | string): void
  abstract close (): Promise<void>
}

export class WsClient extends BaseClient {
  readonly ws: WebSocket
  private constructor (ws: WebSocket, wire: Wire) {
    super(wire)
    this.ws = ws
    ws.on('message', (data: Buffer) => this.deliver(data))
    ws.on('close', (code, reason) => this.resolveClosed({ code, reason: reason.toString() }))
    ws.on('error', () => {})
  }

  /** `opts.localAddress` (e.g. 127.0.0.2) makes the client another IP to the server; `opts.headers` go with the upgrade. */
  static async connect (url: string, wire = new Wire(), opts?: { localAddress?: string, headers?: Record<string, string> }): Promise<WsClient> {
    const ws = new WebSocket(url, opts)
    const client = new WsClient(ws, wire)
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { statusCode: res.statusCode })))
      ws.once('error', reject)
    })
    return client
  }

  send (name: string, body: unknown): void { this.ws.send(this.wire.encode(name, body)) }
  sendRaw (data: Buffer | string): void { this.ws.send(data) }
  async close (): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return
    this.ws.close(1000)
    await this.closed
  }
}

export class TcpClient extends BaseClient {
  readonly socket: net.Socket
  private buf = Buffer.alloc(0)
  private constructor (socket: net.Socket, wire: Wire) {
    super(wire)
    this.socket = socket
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    // TCP has no close code: 'end' from the server is what a client sees.
    socket.on('close', () => this.resolveClosed({ code: -1, reason: '' }))
    socket.on('error', () => {})
  }

  /** `localAddress` (e.g. 127.0.0.2) makes the client another IP to the server. */
  static async connect (port: number, wire = new Wire(), localAddress?: string): Promise<TcpClient> {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress })
    const client = new TcpClient(socket, wire)
    await once(socket, 'connect')
    return client
  }

  private onData (chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk])
    const n = this.wire.opts.lenMsgLen
    const le = this.wire.opts.littleEndian
    while (this.buf.length >= n) {
      const len = n === 1 ? this.buf[0] : n === 2 ? (le ? this.buf.readUInt16LE(0) : this.buf.readUInt16BE(0)) : (le ? this.buf.readUInt32LE(0) : this.buf.readUInt32BE(0))
      if (this.buf.length < n + len) return
      const payload = this.buf.subarray(n, n + len)
      this.buf = this.buf.subarray(n + len)
      this.deliver(Buffer.from(payload))
    }
  }

  send (name: string, body: unknown): void { this.socket.write(this.wire.frame(this.wire.encode(name, body))) }
  sendRaw (data: Buffer | string): void { this.socket.write(data) }
  async close (): Promise<void> {
    if (this.socket.destroyed) return
    this.socket.end()
    await this.closed
  }
}
