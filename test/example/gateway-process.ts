/**
 * The example gateway as a real process tree, started as `npm start` does
 * (`node --import tsx examples/chat/server.ts`), with its JSON log lines read.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import type { TestContext } from 'node:test'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { until } from '../helper.js'
import { nodeArgs } from '../node-script.js'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface Gateway {
  proc: ChildProcess
  /** Everything written to stdout and stderr so far. */
  output: () => string
  /** The JSON log lines so far. */
  logs: () => Array<Record<string, any>>
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>
}

/**
 * Starts the gateway with `env` (on top of the test's environment, LOG_LEVEL
 * info); with `detached`, in a process group of its own, as a terminal's
 * foreground job. Every process of it is killed after the test.
 */
export function startGateway (t: TestContext, env: Record<string, string>, opts: { detached?: boolean } = {}): Gateway {
  const proc = spawn(process.execPath, nodeArgs(join(ROOT, 'examples/chat/server.ts')), {
    cwd: ROOT,
    detached: opts.detached === true,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  proc.stderr!.on('data', (d: Buffer) => { out += d.toString() })
  const exited = once(proc, 'exit').then(([code, signal]) => (code ?? signal) as number | string)
  const gateway: Gateway = {
    proc,
    output: () => out,
    logs: () => out.split('\n').filter(l => l.startsWith('{')).map(l => { try { return JSON.parse(l) } catch { return {} } }),
    exited
  }
  t.after(() => {
    for (const pid of [...workerPids(gateway), proc.pid!]) {
      try { process.kill(pid, 'SIGKILL') } catch {}
    }
  })
  return gateway
}

/** Waits for a log line matching `match`, `count` of them; returns the last. */
export async function logged (g: Gateway, match: (line: Record<string, any>) => boolean, what: string, count = 1, ms = 60000): Promise<Record<string, any>> {
  await until(() => g.logs().filter(match).length >= count || g.proc.exitCode !== null, ms, what)
  const lines = g.logs().filter(match)
  if (lines.length < count) throw new Error(`the gateway exited (${String(g.proc.exitCode)}) before ${what}:\n${g.output()}`)
  return lines[lines.length - 1]
}

/** Every worker pid the top process reported ready (restarted ones included). */
export function workerPids (g: Gateway): number[] {
  return g.logs().filter(l => l.msg === 'worker ready').map(l => l.pid as number)
}

/** Whether process `pid` is gone. */
export function gone (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return false
  } catch {
    return true
  }
}

/** Rejects unless nothing listens on `port`. */
export async function refused (port: number): Promise<void> {
  const socket = net.connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => { socket.destroy(); reject(new Error(`port ${port} still accepts connections`)) })
    socket.once('error', (err: NodeJS.ErrnoException) => { if (err.code === 'ECONNREFUSED') resolve(); else reject(err) })
  })
}
