/**
 * The baselines' application logic, written plainly: the same chat messages as
 * the example app (heartbeat echo, JWT login, rooms) with the same JSON work
 * (parse, check the envelope and the body's shape, answer), and the same admin
 * push routes, on `node:http`. Transports plug in through `BareConn`.
 */
import { createVerifier } from 'fast-jwt'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { SECRET } from './control.js'

export interface BareConn {
  uid?: string
  rooms?: Set<string>
  send (payload: Buffer): void
  /** Closes for bad input, with a WebSocket close code where there is one. */
  close (code: number): void
}

const verify = createVerifier({ key: SECRET, algorithms: ['HS256'], cache: true })

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
const isRoom = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256

function encode (name: string, body: unknown): Buffer {
  return Buffer.from(JSON.stringify({ [name]: body }))
}

/** Who is online, by uid and room, and the answers to each message. */
export class BareChat {
  readonly conns = new Set<BareConn>()
  private readonly byUid = new Map<string, Set<BareConn>>()
  private readonly byRoom = new Map<string, Set<BareConn>>()

  add (conn: BareConn): void {
    this.conns.add(conn)
  }

  remove (conn: BareConn): void {
    this.conns.delete(conn)
    if (conn.uid !== undefined) this.unindex(this.byUid, conn.uid, conn)
    for (const room of conn.rooms ?? []) this.unindex(this.byRoom, room, conn)
  }

  /** One inbound payload: parse, check, answer. */
  receive (conn: BareConn, payload: Buffer): void {
    let doc: unknown
    try {
      doc = JSON.parse(payload.toString())
    } catch {
      return conn.close(1002)
    }
    if (!isObject(doc)) return conn.close(1002)
    const keys = Object.keys(doc)
    if (keys.length !== 1) return conn.close(1002)
    const body = doc[keys[0]]
    if (!isObject(body)) return conn.close(1007)
    switch (keys[0]) {
      case 'C2S_UserHeartBeat':
        if (body.ptime !== undefined && typeof body.ptime !== 'number') return conn.close(1007)
        return conn.send(encode('C2S_UserHeartBeat', { ptime: Math.floor(Date.now() / 1000) }))
      case 'C2S_UserLogin':
        if (typeof body.token !== 'string' || body.token.length === 0 || body.token.length > 4096) return conn.close(1007)
        if (body.login_plat !== undefined && !Number.isInteger(body.login_plat)) return conn.close(1007)
        return this.login(conn, body.token)
      case 'C2S_UpdateWatchRoom':
        if (!Array.isArray(body.rooms) || body.rooms.length > 64 || !body.rooms.every(isRoom)) return conn.close(1007)
        if (conn.uid === undefined) return conn.close(4003)
        return this.watch(conn, body.rooms)
      default:
        return conn.close(1002)
    }
  }

  private login (conn: BareConn, token: string): void {
    let uid: string
    try {
      uid = (verify(token) as { sub: string }).sub
    } catch {
      conn.send(encode('S2C_UserLogin', { ret: 0, msg: 'invalid token', uid: '' }))
      return conn.close(4003)
    }
    if (conn.uid !== undefined) this.unindex(this.byUid, conn.uid, conn)
    conn.uid = uid
    this.index(this.byUid, uid, conn)
    conn.send(encode('S2C_UserLogin', { ret: 1, msg: 'ok', uid }))
  }

  private watch (conn: BareConn, rooms: string[]): void {
    const wanted = new Set(rooms)
    for (const room of conn.rooms ?? []) if (!wanted.has(room)) this.unindex(this.byRoom, room, conn)
    for (const room of wanted) this.index(this.byRoom, room, conn)
    conn.rooms = wanted
    conn.send(encode('S2C_UpdateWatchRoom', { rooms }))
  }

  pushToUids (uids: string[], name: string, body: unknown): number {
    const payload = encode(name, body)
    let n = 0
    for (const uid of new Set(uids)) for (const conn of this.byUid.get(uid) ?? []) { conn.send(payload); n++ }
    return n
  }

  pushToRoom (room: string, name: string, body: unknown): number {
    const payload = encode(name, body)
    let n = 0
    for (const conn of this.byRoom.get(room) ?? []) { conn.send(payload); n++ }
    return n
  }

  broadcast (name: string, body: unknown): number {
    const payload = encode(name, body)
    for (const conn of this.conns) conn.send(payload)
    return this.conns.size
  }

  private index (map: Map<string, Set<BareConn>>, key: string, conn: BareConn): void {
    let set = map.get(key)
    if (set === undefined) map.set(key, set = new Set())
    set.add(conn)
  }

  private unindex (map: Map<string, Set<BareConn>>, key: string, conn: BareConn): void {
    const set = map.get(key)
    set?.delete(conn)
    if (set?.size === 0) map.delete(key)
  }
}

/** The pushes a baseline offers on its admin routes. */
export interface PushOps {
  pushToUids (uids: string[], name: string, body: unknown): number
  pushToRoom (room: string, name: string, body: unknown): number
  broadcast (name: string, body: unknown): number
}

/**
 * `POST /gate/push`, `/gate/rooms/:room/push` and `/gate/broadcast` on plain
 * `node:http`, answering `{ delivered }` like the gate's admin API.
 */
export function adminRoutes (ops: PushOps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      let delivered: number
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { uids?: string[], name: string, body: unknown }
        const room = /^\/gate\/rooms\/([^/]+)\/push$/.exec(req.url ?? '')
        if (req.method !== 'POST') throw new Error('POST only')
        if (req.url === '/gate/push' && Array.isArray(body.uids)) delivered = ops.pushToUids(body.uids, body.name, body.body)
        else if (room !== null) delivered = ops.pushToRoom(decodeURIComponent(room[1]), body.name, body.body)
        else if (req.url === '/gate/broadcast') delivered = ops.broadcast(body.name, body.body)
        else throw new Error('not found')
      } catch (err) {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ message: (err as Error).message }))
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ delivered }))
    })
  }
}
