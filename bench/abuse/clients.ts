/**
 * Clients for the replay: leaf over WebSocket and TCP, raw MQTT, and the
 * bystander on 127.0.0.2 whose heartbeat round trips are the figure that
 * matters (what the attack costs others).
 */
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { WebSocket } from 'ws'
import { DEFAULT_TOKEN_SECRET } from '../../examples/chat/config.js'
import { tokenSigner } from '../../examples/chat/tokens.js'
import type { Gateway } from './gateway.js'

export const ATTACKER = '127.0.0.1'
export const BYSTANDER = '127.0.0.2'
export const sign = tokenSigner(DEFAULT_TOKEN_SECRET, 3600)

/** One leaf TCP frame: `| len : uint16 BE | JSON |`. */
export function frame (name: string, body: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify({ [name]: body }))
  const out = Buffer.alloc(2 + payload.length)
  out.writeUInt16BE(payload.length)
  payload.copy(out, 2)
  return out
}

const within = async <T>(ms: number, what: string, p: Promise<T>): Promise<T> =>
  await Promise.race([p, sleep(ms).then(() => { throw new Error(`no ${what} within ${ms} ms`) })])

/** A WebSocket from `from`, open (not logged in). */
export async function wsOpen (g: Gateway, from: string, timeoutMs = 5000): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${g.port}/ws`, { localAddress: from })
  ws.on('error', () => {})
  await within(timeoutMs, 'WebSocket open', new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => { reject(new Error(`HTTP ${res.statusCode ?? '?'}`)) })
  }))
  return ws
}

/** Logs `ws` in as `uid`; resolves with the login answer's body. */
export async function wsLogin (ws: WebSocket, uid: string, extra: Record<string, unknown> = {}, timeoutMs = 5000): Promise<any> {
  const answer = within(timeoutMs, 'login answer', new Promise<any>((resolve) => {
    const on = (d: Buffer): void => {
      const msg = JSON.parse(String(d))
      if (msg.S2C_UserLogin !== undefined) {
        ws.off('message', on)
        resolve(msg.S2C_UserLogin)
      }
    }
    ws.on('message', on)
  }))
  ws.send(JSON.stringify({ C2S_UserLogin: { token: sign(uid), login_plat: 1, ...extra } }))
  return await answer
}

export async function wsUser (g: Gateway, uid: string, from: string): Promise<WebSocket> {
  const ws = await wsOpen(g, from)
  const a = await wsLogin(ws, uid)
  if (a.ret !== 1) throw new Error(`login of ${uid} refused: ${JSON.stringify(a)}`)
  return ws
}

/** A TCP socket from `from` to `port`, connected. */
export async function tcpOpen (port: number, from: string): Promise<net.Socket> {
  const s = net.connect({ port, host: '127.0.0.1', localAddress: from })
  s.on('error', () => {})
  await within(5000, 'TCP connect', new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('close', reject) }))
  return s
}

/** A leaf TCP client logged in as `uid` (its answers read and dropped). */
export async function tcpUser (g: Gateway, uid: string, from: string): Promise<net.Socket> {
  const s = await tcpOpen(g.tcpPort, from)
  const answered = within(5000, 'TCP login answer', new Promise<void>((resolve, reject) => {
    s.once('data', (d: Buffer) => { String(d).includes('"ret":1') ? resolve() : reject(new Error(String(d))) })
  }))
  s.write(frame('C2S_UserLogin', { token: sign(uid), login_plat: 1 }))
  await answered
  s.resume()
  return s
}

/** Round trips, in ms, sorted; p50, p99, max. */
export interface Trips { n: number, sent: number, p50: number, p99: number, max: number }

/**
 * The bystander: a logged-in WebSocket on 127.0.0.2 sending a heartbeat every
 * 20 ms (one at a time) and timing each answer, until `stop()`.
 */
export async function bystander (g: Gateway): Promise<{ stop: () => Promise<Trips>, ws: WebSocket }> {
  const ws = await wsUser(g, 'bystander', BYSTANDER)
  const rtts: number[] = []
  let sent = 0
  const state = { running: true }
  const loop = (async () => {
    while (state.running && ws.readyState === WebSocket.OPEN) {
      const t = performance.now()
      sent++
      const answered = await Promise.race([
        new Promise<boolean>(resolve => {
          const on = (d: Buffer): void => {
            if (!String(d).includes('C2S_UserHeartBeat')) return
            ws.off('message', on)
            resolve(true)
          }
          ws.on('message', on)
          ws.send(JSON.stringify({ C2S_UserHeartBeat: { ptime: 1 } }))
        }),
        sleep(10000).then(() => false)
      ])
      if (answered) rtts.push(performance.now() - t)
      await sleep(20)
    }
  })()
  return {
    ws,
    stop: async () => {
      state.running = false
      await loop
      ws.terminate()
      return trips(rtts, sent)
    }
  }
}

export function trips (rtts: number[], sent = rtts.length): Trips {
  const s = [...rtts].sort((a, b) => a - b)
  const at = (q: number): number => s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(s.length * q))]
  return { n: s.length, sent, p50: at(0.5), p99: at(0.99), max: s.length === 0 ? NaN : s[s.length - 1] }
}

export const ms = (n: number): string => Number.isNaN(n) ? '-' : `${n.toFixed(n < 10 ? 2 : 0)} ms`
export const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`
export const show = (t: Trips): string => `bystander p50 ${ms(t.p50)}, p99 ${ms(t.p99)}, max ${ms(t.max)} (${t.n} of ${t.sent} answered)`
