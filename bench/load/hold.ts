/**
 * A load process of `npm run bench:hold` (bench/hold.ts): holds up to ~19,000
 * logged-in leaf TCP connections from `addresses` loopback source addresses
 * (`<addressPrefix>.1` and up, in turn), as lean as a
 * client can be (one socket, a byte buffer and a stage each; frames found by
 * their 2-byte length prefix, answers recognised by their first bytes, no JSON
 * parse). Commands:
 *
 * - `open`: connect, log in and join a room, `concurrency` at a time; a
 *   connection the gateway closes before it is logged in (a worker full) is
 *   tried again, at most `retries` times;
 * - `arm`: expect the next `S2C_Message` with `content` on every connection;
 * - `received`: how many got it, and when the first and last did
 *   (`performance.timeOrigin + performance.now()`, comparable between processes);
 * - `closeAll`.
 */
import { createSigner } from 'fast-jwt'
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { progress, serveCommands } from '../lib/ipc.js'

/** The frame a leaf TCP client sends: `| len: uint16 BE | {"<name>": body} |`. */
function frame (name: string, body: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify({ [name]: body }))
  const out = Buffer.allocUnsafe(2 + payload.length)
  out.writeUInt16BE(payload.length, 0)
  payload.copy(out, 2)
  return out
}

const LOGIN_OK = Buffer.from('{"S2C_UserLogin":{"ret":1')
const ROOMS = Buffer.from('{"S2C_UpdateWatchRoom"')
const MESSAGE = Buffer.from('{"S2C_Message"')

/** Where a connection is: waiting for its login answer, for its room answer, or held. */
const Stage = { Login: 0, Room: 1, Held: 2 } as const

/** One client connection: its socket, the bytes of a frame not yet complete, where it is. */
class Conn {
  readonly socket: net.Socket
  stage: number = Stage.Login
  rest: Buffer | undefined
  /** Resolves when logged in and in the room; rejects if the connection ends first. */
  settle: ((err?: Error) => void) | undefined

  constructor (socket: net.Socket) {
    this.socket = socket
  }
}

const conns: Conn[] = []
let expected: Buffer | undefined
let got = 0
let firstAt = 0
let lastAt = 0
let unexpected = 0

const now = (): number => performance.timeOrigin + performance.now()

function onFrame (c: Conn, payload: Buffer): void {
  if (c.stage === Stage.Held) {
    if (expected !== undefined && payload.subarray(0, MESSAGE.length).equals(MESSAGE) && payload.includes(expected)) {
      const at = now()
      if (got === 0) firstAt = at
      lastAt = at
      got++
    } else {
      unexpected++
    }
    return
  }
  if (c.stage === Stage.Login) {
    if (!payload.subarray(0, LOGIN_OK.length).equals(LOGIN_OK)) {
      c.settle?.(new Error(`login refused: ${payload.toString().slice(0, 80)}`))
      return
    }
    c.stage = Stage.Room
    return
  }
  if (payload.subarray(0, ROOMS.length).equals(ROOMS)) {
    c.stage = Stage.Held
    c.settle?.()
  }
}

function onData (c: Conn, chunk: Buffer): void {
  const buf = c.rest === undefined ? chunk : Buffer.concat([c.rest, chunk])
  let off = 0
  while (buf.length - off >= 2) {
    const len = buf.readUInt16BE(off)
    if (buf.length - off - 2 < len) break
    onFrame(c, buf.subarray(off + 2, off + 2 + len))
    off += 2 + len
  }
  c.rest = off < buf.length ? Buffer.from(buf.subarray(off)) : undefined
}

/** Connects, logs in and joins `room` in one write; resolves once both answers came. */
async function openOne (port: number, localAddress: string, login: Buffer, join: Buffer, timeoutMs: number): Promise<Conn> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress, noDelay: true })
  const c = new Conn(socket)
  socket.on('data', (chunk: Buffer) => { onData(c, chunk) })
  socket.on('error', () => {})
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('no login answer in time')) }, timeoutMs)
      c.settle = (err) => {
        clearTimeout(timer)
        c.settle = undefined
        if (err === undefined) resolve()
        else reject(err)
      }
      socket.once('close', () => { c.settle?.(new Error(c.stage === Stage.Login ? 'closed before the login answer' : 'closed before the room answer')) })
      socket.write(Buffer.concat([login, join]))
    })
  } catch (err) {
    socket.destroy()
    throw err
  }
  return c
}

export interface HoldOpenArgs {
  port: number
  /** Three bytes of a 127.x.y address, e.g. `127.0.10`: connection n comes from `<addressPrefix>.<1 + n % addresses>`. */
  addressPrefix: string
  addresses: number
  count: number
  /** The first connection's number (uids and addresses go on from there). */
  first: number
  uidPrefix: string
  room: string
  secret: string
  concurrency: number
  retries: number
  timeoutMs: number
}

export interface HoldOpenResult { opened: number, failed: number, retried: number, startedAt: number, endedAt: number, errors: Record<string, number> }

async function open (a: HoldOpenArgs): Promise<HoldOpenResult> {
  const sign = createSigner({ key: a.secret, algorithm: 'HS256' })
  const join = frame('C2S_UpdateWatchRoom', { rooms: [a.room] })
  const deadline = performance.now() + a.timeoutMs
  const errors = new Map<string, number>()
  let next = a.first
  const end = a.first + a.count
  const before = conns.length
  let failed = 0
  let retried = 0
  const startedAt = now()
  const ticker = setInterval(() => { progress(String(conns.length)) }, 1000)
  const worker = async (): Promise<void> => {
    while (next < end && performance.now() < deadline) {
      const n = next++
      const uid = `${a.uidPrefix}${n}`
      const localAddress = `${a.addressPrefix}.${1 + n % a.addresses}`
      const login = frame('C2S_UserLogin', { token: sign({ sub: uid }), login_plat: 1 })
      for (let attempt = 0; ; attempt++) {
        try {
          conns.push(await openOne(a.port, localAddress, login, join, 30_000))
          break
        } catch (err) {
          const msg = (err as Error).message
          errors.set(msg, (errors.get(msg) ?? 0) + 1)
          if (attempt >= a.retries || performance.now() > deadline) { failed++; break }
          retried++
          await sleep(20)
        }
      }
    }
  }
  await Promise.all(Array.from({ length: a.concurrency }, worker))
  clearInterval(ticker)
  progress(String(conns.length))
  return { opened: conns.length - before, failed, retried, startedAt, endedAt: now(), errors: Object.fromEntries(errors) }
}

function arm (a: { content: string }): { armed: number } {
  expected = Buffer.from(`"content":${JSON.stringify(a.content)}`)
  got = 0
  firstAt = 0
  lastAt = 0
  return { armed: conns.length }
}

export interface HoldReceived { got: number, of: number, firstAt: number, lastAt: number, unexpected: number, open: number }

function received (): HoldReceived {
  return { got, of: conns.length, firstAt, lastAt, unexpected, open: conns.filter(c => !c.socket.destroyed).length }
}

function closeAll (): { closed: number } {
  for (const c of conns) c.socket.destroy()
  const closed = conns.length
  conns.length = 0
  return { closed }
}

function memory (): { rss: number } {
  return { rss: process.memoryUsage().rss }
}

serveCommands({ open, arm, received, closeAll, memory }, { pid: process.pid })
