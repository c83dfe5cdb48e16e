/**
 * MQTT echo beside aedes and mosquitto: `npm run bench:mqtt [-- seconds clients]`.
 *
 * Each client publishes a heartbeat at QoS 0 and waits for the answer before
 * the next (closed loop), for a fixed time. fastify-gate answers
 * `C2S_UserHeartBeat` itself (the example app, limits off); aedes and
 * mosquitto are brokers, so each client subscribes to its own topic and the
 * broker's delivery back is the answer: one message in, one out, everywhere.
 * Reported per server: answers per second, round-trip p50/p99, and server CPU
 * per message (user + system time of the server process, from /proc).
 *
 * mosquitto is Debian's /usr/sbin/mosquitto, started here on a free port with a
 * config of its own (no persistence, no log); it is skipped when missing.
 * Servers and load share this machine's cores: figures compare servers run the
 * same way on the same machine, nothing more.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { freePort } from './lib/ports.js'

const seconds = Number(process.argv[2] ?? 10)
const clients = Number(process.argv[3] ?? 20)
const MOSQUITTO = '/usr/sbin/mosquitto'
const TICKS = 100 // USER_HZ on Linux

interface Server { name: string, proc: ChildProcess, port: number, topic: (i: number) => string, subscribe: boolean, cleanup?: () => void }

async function ready (port: number, ms = 20000): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>(resolve => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`nothing listening on ${port}`)
}

/** CPU seconds (user + system) the process has used. */
function cpu (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICKS
}

async function startGate (): Promise<Server> {
  const port = await freePort()
  const proc = spawn(process.execPath, ['--import', 'tsx', 'examples/chat/server.ts'], {
    env: { ...process.env, LOG_LEVEL: 'warn', PORT: '0', GATE_TCP_PORT: 'off', GATE_MQTT_PORT: String(port), GATE_MSG_RATE: '0', GATE_MAX_CONN_PER_IP: '0', GATE_CONN_RATE_PER_IP: '0', GATE_ADMIN_TOKEN: 'bench' },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  await ready(port)
  return { name: 'fastify-gate', proc, port, topic: () => 'C2S_UserHeartBeat', subscribe: false }
}

async function startAedes (): Promise<Server> {
  const port = await freePort()
  const proc = spawn(process.execPath, ['--import', 'tsx', 'bench/servers/aedes.ts'], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] })
  await ready(port)
  return { name: 'aedes', proc, port, topic: i => `echo/${i}`, subscribe: true }
}

async function startMosquitto (): Promise<Server | undefined> {
  if (!existsSync(MOSQUITTO)) {
    process.stderr.write(`*** ${MOSQUITTO} is missing: mosquitto left out (apt-get install mosquitto) ***\n`)
    return undefined
  }
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'gate-bench-mosquitto-'))
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n`)
  const proc = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] })
  await ready(port)
  return { name: 'mosquitto', proc, port, topic: i => `echo/${i}`, subscribe: true, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

async function run (server: Server): Promise<Record<string, number | string>> {
  const conns = await Promise.all(Array.from({ length: clients }, async (_, i) => {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.port}`, { reconnectPeriod: 0, clientId: `bench-${i}`, keepalive: 0 })
    if (server.subscribe) await c.subscribeAsync(server.topic(i), { qos: 0 })
    return c
  }))
  const payload = JSON.stringify({ ptime: 1 })
  const rtts: number[] = []
  let count = 0
  const state = { running: true }
  const start = process.hrtime.bigint()
  const cpu0 = cpu(server.proc.pid!)
  await Promise.all(conns.map(async (c, i) => {
    const topic = server.topic(i)
    while (state.running) {
      const t0 = process.hrtime.bigint()
      await new Promise<void>(resolve => {
        c.once('message', () => resolve())
        c.publish(topic, payload, { qos: 0 })
      })
      rtts.push(Number(process.hrtime.bigint() - t0) / 1e6)
      count++
    }
  }).concat([new Promise<void>(resolve => setTimeout(() => { state.running = false; resolve() }, seconds * 1000))]))
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9
  const cpuUsed = cpu(server.proc.pid!) - cpu0
  await Promise.all(conns.map(async c => await c.endAsync(true)))
  rtts.sort((a, b) => a - b)
  return {
    server: server.name,
    'msgs/s': Math.round(count / elapsed),
    'p50 ms': rtts[Math.floor(rtts.length * 0.5)]!.toFixed(2),
    'p99 ms': rtts[Math.floor(rtts.length * 0.99)]!.toFixed(2),
    'server CPU µs/msg': (cpuUsed / count * 1e6).toFixed(1)
  }
}

const rows: Array<Record<string, number | string>> = []
for (const start of [startGate, startAedes, startMosquitto]) {
  const server = await start()
  if (server === undefined) continue
  try {
    rows.push(await run(server))
  } finally {
    server.proc.kill('SIGTERM')
    await new Promise(resolve => server.proc.once('exit', resolve))
    server.cleanup?.()
  }
}
process.stdout.write(`MQTT echo, ${clients} clients, ${seconds} s each, QoS 0, closed loop\n`)
console.table(rows)
