/** A private redis-server for a bench (a free port on 127.0.0.1, no persistence, a temp dir); never 6379. */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './ports.js'

export interface BenchRedis {
  url: string
  pid: number
  stop: () => void
}

export async function startRedis (): Promise<BenchRedis> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'gate-bench-redis-'))
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  proc.stdout.on('data', (d: Buffer) => { out += d.toString() })
  const deadline = Date.now() + 10_000
  while (!out.includes('Ready to accept connections')) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`redis-server did not start: ${out}`)
    await sleep(20)
  }
  return { url: `redis://127.0.0.1:${port}`, pid: proc.pid!, stop: () => { proc.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }) } }
}
