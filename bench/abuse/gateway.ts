/**
 * The example gateway as `npm start` runs it (`node --import tsx
 * examples/chat/server.ts`, its defaults), on free ports, in a child process
 * whose output lines are counted; optionally beside a private Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '../lib/ports.js'
import { RedisServer } from '../../test/redis-helper.js'

export const ADMIN_TOKEN = 'replay-admin'
/** The address the admin API is read from: not the attacker's, not the bystander's. */
const OBSERVER = '127.0.0.250'

export interface Gateway {
  port: number
  tcpPort: number
  mqttPort: number
  proc: ChildProcess
  redis: RedisServer | undefined
  /** Lines and bytes the gateway wrote (stdout and stderr) since `resetLog`. */
  log: { lines: number, bytes: number, last: string[] }
  resetLog: () => void
  /** The gateway's resident set, bytes (from /proc). */
  rss: () => number
  /** The admin API's metrics (Prometheus text), by series. */
  metrics: () => Promise<Map<string, number>>
  /** GET an admin path; its status and JSON body. */
  admin: (path: string, timeoutMs?: number) => Promise<{ status: number, body: any }>
  stop: () => Promise<void>
}

export async function startGateway (opts: { redis?: boolean, env?: Record<string, string> } = {}): Promise<Gateway> {
  const redis = opts.redis === true ? await RedisServer.start() : undefined
  const [port, tcpPort, mqttPort] = [await freePort(), await freePort(), await freePort()]
  const proc = spawn(process.execPath, ['--import', 'tsx', 'examples/chat/server.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      GATE_TCP_PORT: String(tcpPort),
      GATE_MQTT_PORT: String(mqttPort),
      GATE_ADMIN_TOKEN: ADMIN_TOKEN,
      ...(redis !== undefined ? { REDIS_URL: redis.url } : {}),
      ...opts.env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const log = { lines: 0, bytes: 0, last: [] as string[] }
  const state = { ready: false }
  const count = (chunk: Buffer): void => {
    const text = chunk.toString()
    if (!state.ready && text.includes('chat gateway ready')) state.ready = true
    log.bytes += chunk.length
    const lines = text.split('\n').filter(l => l.length > 0)
    log.lines += lines.length
    log.last.push(...lines)
    if (log.last.length > 20) log.last.splice(0, log.last.length - 20)
  }
  proc.stdout.on('data', count)
  proc.stderr.on('data', count)
  for (let i = 0; i < 300 && !state.ready; i++) {
    if (proc.exitCode !== null) throw new Error(`the gateway exited: ${log.last.join('\n')}`)
    await sleep(100)
  }
  if (!state.ready) throw new Error(`the gateway did not start: ${log.last.join('\n')}`)

  const admin = async (path: string, timeoutMs = 5000): Promise<{ status: number, body: any }> => await new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: `/gate${path}`, localAddress: OBSERVER, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, timeout: timeoutMs }, (res) => {
      let text = ''
      res.on('data', (d: Buffer) => { text += String(d) })
      res.on('end', () => {
        let body: unknown = text
        try { body = JSON.parse(text) } catch {}
        resolve({ status: res.statusCode ?? 0, body })
      })
    })
    req.on('timeout', () => { req.destroy(new Error(`GET /gate${path}: no answer within ${timeoutMs} ms`)) })
    req.on('error', reject)
  })
  return {
    port,
    tcpPort,
    mqttPort,
    proc,
    redis,
    log,
    resetLog: () => { log.lines = 0; log.bytes = 0; log.last = [] },
    rss: () => {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid!}/status`, 'utf8'))
      return m === null ? 0 : Number(m[1]) * 1024
    },
    metrics: async () => {
      const out = new Map<string, number>()
      const { body } = await admin('/metrics')
      for (const line of String(body).split('\n')) {
        const m = /^([a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$/.exec(line)
        if (m !== null) out.set(m[1], Number(m[2]))
      }
      return out
    },
    admin,
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = once(proc, 'exit')
        proc.kill('SIGKILL')
        await exited
      }
      await redis?.close()
    }
  }
}
