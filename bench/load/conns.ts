/**
 * The load generator's client connections, kept lean: pre-encoded payloads, no
 * parsing of what comes back beyond what the protocol needs (the TCP length
 * prefix; socket.io's packet type). Three kinds:
 *
 * - `ws`:  one JSON payload per WebSocket message (the gate and bare `ws`);
 * - `tcp`: `| len : uint16 BE | JSON payload |` (the gate and bare `net`);
 * - `sio`: socket.io v4 over a raw WebSocket (`42["name",body]` events);
 * - `mqtt`: MQTT 3.1.1 over TCP, logged in at CONNECT, a PUBLISH per message
 *   with the message name as topic (mqtt-conn.ts).
 */
import mqttPacket from 'mqtt-packet'
import net from 'node:net'
import WebSocket from 'ws'

export type Kind = 'ws' | 'tcp' | 'sio' | 'mqtt'

export interface Target {
  kind: Kind
  host: string
  port: number
  path: string
  /** `mqtt` only: the server is a plain broker, echoed through a subscription (see mqtt-conn.ts). */
  broker?: boolean
}

/** A payload encoded once for a kind, sent any number of times. */
export type Prepared = Buffer | string

export function prepare (kind: Kind, name: string, body: unknown): Prepared {
  if (kind === 'sio') return '42' + JSON.stringify([name, body])
  if (kind === 'mqtt') return mqttPacket.generate({ cmd: 'publish', topic: name, payload: Buffer.from(JSON.stringify(body)), qos: 0, dup: false, retain: false })
  const payload = Buffer.from(JSON.stringify({ [name]: body }))
  if (kind === 'ws') return payload
  const out = Buffer.allocUnsafe(2 + payload.length)
  out.writeUInt16BE(payload.length, 0)
  payload.copy(out, 2)
  return out
}

/** One client connection. `onMessage` sees every application message. */
export interface LoadConn {
  onMessage: (data: Buffer) => void
  /** The connection's own echo message, where it is not the shared heartbeat (MQTT to a plain broker: a topic per connection). */
  readonly heartbeat?: Prepared
  send (p: Prepared): void
  close (): void
  readonly closed: Promise<void>
}

/** Sends `p` and resolves with the next message, or rejects after `ms`. */
export async function request (conn: LoadConn, p: Prepared, ms: number): Promise<Buffer> {
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer within ' + String(ms) + ' ms')), ms)
    conn.onMessage = data => { clearTimeout(timer); conn.onMessage = () => {}; resolve(data) }
    conn.send(p)
  })
}

/** Opens a connection (for socket.io: through the namespace handshake); rejects after `timeoutMs`. */
export async function connect (target: Target, localAddress: string | undefined, timeoutMs: number): Promise<LoadConn> {
  const conn = target.kind === 'tcp' ? new TcpConn(target, localAddress) : new WsConn(target, localAddress)
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      conn.opened,
      new Promise((_resolve, reject) => { timer = setTimeout(() => reject(new Error('connect timeout')), timeoutMs) })
    ])
  } catch (err) {
    conn.close()
    throw err
  } finally {
    clearTimeout(timer)
  }
  return conn
}

const ignore = (): void => {}

class WsConn implements LoadConn {
  onMessage: (data: Buffer) => void = ignore
  readonly opened: Promise<void>
  readonly closed: Promise<void>
  private readonly ws: WebSocket

  constructor (target: Target, localAddress: string | undefined) {
    const sio = target.kind === 'sio'
    const url = `ws://${target.host}:${target.port}${target.path}${sio ? '?EIO=4&transport=websocket' : ''}`
    this.ws = new WebSocket(url, { perMessageDeflate: false, localAddress })
    this.closed = new Promise(resolve => this.ws.once('close', () => resolve()))
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('error', reject)
      this.ws.once('close', () => reject(new Error('closed while connecting')))
      if (!sio) {
        this.ws.once('open', () => resolve())
        this.ws.on('message', (data: Buffer) => this.onMessage(data))
        return
      }
      // engine.io: server "0{open}", client "40" (namespace), server "40{sid}"; "2" ping -> "3" pong.
      this.ws.on('message', (data: Buffer) => {
        const type = data[0]
        if (type === 0x34 && data[1] === 0x32) this.onMessage(data)
        else if (type === 0x32) this.ws.send('3')
        else if (type === 0x30) this.ws.send('40')
        else if (type === 0x34 && data[1] === 0x30) resolve()
      })
    })
    this.ws.on('error', ignore)
    this.opened.catch(ignore)
  }

  send (p: Prepared): void {
    this.ws.send(p)
  }

  close (): void {
    this.ws.terminate()
  }
}

class TcpConn implements LoadConn {
  onMessage: (data: Buffer) => void = ignore
  readonly opened: Promise<void>
  readonly closed: Promise<void>
  private readonly socket: net.Socket
  private rest: Buffer | undefined

  constructor (target: Target, localAddress: string | undefined) {
    this.socket = net.connect({ host: target.host, port: target.port, localAddress, noDelay: true })
    this.closed = new Promise(resolve => this.socket.once('close', () => resolve()))
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('connect', resolve)
      this.socket.once('error', reject)
      this.socket.once('close', () => reject(new Error('closed while connecting')))
    })
    this.opened.catch(ignore)
    this.socket.on('error', ignore)
    this.socket.on('data', (chunk: Buffer) => this.data(chunk))
  }

  private data (chunk: Buffer): void {
    const buf = this.rest === undefined ? chunk : Buffer.concat([this.rest, chunk])
    let off = 0
    while (buf.length - off >= 2) {
      const len = buf.readUInt16BE(off)
      if (buf.length - off - 2 < len) break
      this.onMessage(buf.subarray(off + 2, off + 2 + len))
      off += 2 + len
    }
    this.rest = off < buf.length ? buf.subarray(off) : undefined
  }

  send (p: Prepared): void {
    this.socket.write(p)
  }

  close (): void {
    this.socket.destroy()
  }
}

/** Successes, failures and failure messages of a `pool` run, readable while it runs. */
export interface PoolCounts { ok: number, failed: number, errors: Map<string, number> }

export const poolCounts = (): PoolCounts => ({ ok: 0, failed: 0, errors: new Map() })

/**
 * Runs `step(0)` .. `step(count - 1)`, `concurrency` at a time, while `go()`
 * holds; counts successes and failures (by error message) in `counts`.
 */
export async function pool (count: number, concurrency: number, counts: PoolCounts, go: () => boolean, step: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count && go()) {
      try {
        await step(next++)
        counts.ok++
      } catch (err) {
        counts.failed++
        const msg = (err as Error).message
        counts.errors.set(msg, (counts.errors.get(msg) ?? 0) + 1)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}
