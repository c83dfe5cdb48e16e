/**
 * mosquitto (Eclipse's MQTT broker, in C; Debian's /usr/sbin/mosquitto, or
 * `BENCH_MOSQUITTO`) as
 * benchmarked: this process starts it on a free port of 127.0.0.1 with a
 * config of its own (no persistence, no log) and answers the runner's `stats`
 * for it, from /proc: CPU is its run time from /proc/<pid>/schedstat
 * (nanoseconds; user and system together, reported as `cpuUser`), memory its
 * RSS. Pinned by the runner, this process's CPU affinity passes to mosquitto.
 * mosquitto dies with this process.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { serveCommands } from '../lib/ipc.js'
import { freePort } from '../lib/ports.js'
import type { ServerStats } from './control.js'

const MOSQUITTO = process.env.BENCH_MOSQUITTO ?? '/usr/sbin/mosquitto'
const PAGE = 4096

if (!existsSync(MOSQUITTO)) throw new Error(`${MOSQUITTO} is missing (apt-get install mosquitto)`)
const port = await freePort()
const dir = mkdtempSync(join(tmpdir(), 'gate-bench-mosquitto-'))
const conf = join(dir, 'mosquitto.conf')
writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\nmax_connections -1\n`)
const broker = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] })
process.on('exit', () => {
  broker.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})
broker.once('exit', code => {
  process.stderr.write(`mosquitto exited (code ${String(code)})\n`)
  process.exit(1)
})

async function listening (ms: number): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>(resolve => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) return
    await sleep(50)
  }
  throw new Error(`mosquitto not listening on ${port} within ${ms} ms`)
}
await listening(10_000)

const pid = broker.pid!
serveCommands({
  stats: (): ServerStats => {
    const runNs = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0])
    return {
      rss: Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE,
      heapUsed: 0,
      external: 0,
      cpuUser: runNs / 1000,
      cpuSystem: 0,
      connections: -1,
      fds: readdirSync(`/proc/${pid}/fd`).length,
      fdLimit: '?'
    }
  }
}, { port, mqttPort: port, broker: true })
