/**
 * The benchmark's processes talk over Node's IPC channel: the runner sends
 * `{ id, cmd, args }`, a child answers `{ id, ok, value | error }`, and may send
 * `{ progress }` lines at any time. Servers and load generators are separate
 * processes, so each one's CPU and memory can be measured on its own.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { entryFile, useTsx } from './build.js'

export type Handler = (args: any) => unknown
interface Request { id: number, cmd: string, args: unknown }
interface Reply { id: number, ok: boolean, value?: unknown, error?: string }
interface Progress { progress: string }
interface Ready { ready: unknown }

const tsx = import.meta.resolve('tsx')

export interface SpawnOptions {
  env?: Record<string, string>
  /** Extra node flags (e.g. `--cpu-prof`). */
  nodeFlags?: string[]
  /** Start through `sh -c 'ulimit -n <fdLimit>'` (the limit is kept only if the system allows it). */
  fdLimit?: number
  /** Run the entry compiled from another checkout (see build.ts). */
  root?: string
  /** Pin the process to these CPUs (`taskset -c`). */
  cpu?: string
  onProgress?: (line: string) => void
}

/** A child process running a bench entry point (see build.ts). */
export class Child {
  readonly name: string
  readonly proc: ChildProcess
  /** What the child sent with `ready()`: its ports and API. */
  info: any
  private seq = 0
  private readonly pending = new Map<number, { resolve: (v: any) => void, reject: (e: Error) => void }>()
  private exited: Promise<number | null>

  private constructor (name: string, proc: ChildProcess, onProgress?: (line: string) => void) {
    this.name = name
    this.proc = proc
    this.exited = new Promise(resolve => proc.once('exit', code => {
      for (const p of this.pending.values()) p.reject(new Error(`${name} exited (code ${String(code)})`))
      this.pending.clear()
      resolve(code)
    }))
    proc.on('message', (m: Reply | Progress | Ready) => {
      if ('progress' in m) onProgress?.(m.progress)
      else if ('id' in m) {
        const p = this.pending.get(m.id)
        this.pending.delete(m.id)
        if (m.ok) p?.resolve(m.value)
        else p?.reject(new Error(`${name}: ${m.error ?? 'failed'}`))
      }
    })
  }

  /** Forks `entry` (relative to bench/) and waits for its `ready()` message, at most `timeoutMs`. */
  static async start (name: string, entry: string, opts: SpawnOptions = {}, timeoutMs = 30_000): Promise<Child> {
    const args = [...(useTsx ? ['--import', tsx] : []), '--expose-gc', ...(opts.nodeFlags ?? []), entryFile(entry, opts.root)]
    const env = { ...process.env, ...opts.env }
    const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc']
    const pin = opts.cpu === undefined ? [] : ['taskset', '-c', opts.cpu]
    const proc = opts.fdLimit === undefined && pin.length === 0
      ? fork(args.at(-1)!, [], { execArgv: args.slice(0, -1), env, stdio })
      : spawn('sh', ['-c', `${opts.fdLimit === undefined ? '' : `ulimit -n ${opts.fdLimit} 2>/dev/null; `}exec "$@"`, 'sh', ...pin, process.execPath, ...args], { env, stdio })
    const child = new Child(name, proc, opts.onProgress)
    child.info = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} not ready within ${timeoutMs} ms`)), timeoutMs)
      proc.on('message', (m: Ready) => { if ('ready' in m) { clearTimeout(timer); resolve(m.ready) } })
      proc.once('exit', code => { clearTimeout(timer); reject(new Error(`${name} exited during start (code ${String(code)})`)) })
    })
    return child
  }

  /** Sends a command and waits for its answer, at most `timeoutMs`. */
  async call<T = any> (cmd: string, args: unknown = {}, timeoutMs = 120_000): Promise<T> {
    const id = ++this.seq
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new Error(`${this.name}: "${cmd}" took over ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, {
        resolve: v => { clearTimeout(timer); resolve(v) },
        reject: e => { clearTimeout(timer); reject(e) }
      })
      this.proc.send({ id, cmd, args } satisfies Request)
    })
  }

  /** Asks the child to exit; kills it after `graceMs`. */
  async stop (graceMs = 5000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs)
    if (this.proc.connected) this.proc.send({ id: 0, cmd: 'exit', args: {} } satisfies Request)
    else this.proc.kill('SIGTERM')
    await this.exited
    clearTimeout(timer)
  }
}

// ---- child side --------------------------------------------------------------

/** In a child: answers the runner's commands with `handlers`; `exit` and a lost parent end the process. */
export function serveCommands (handlers: Record<string, Handler>, ready: unknown): void {
  if (process.send === undefined) throw new Error('run this file through the bench runner (npm run bench)')
  process.on('disconnect', () => process.exit(0))
  process.on('message', (m: Request) => {
    if (m.cmd === 'exit') process.exit(0)
    const handler = handlers[m.cmd]
    Promise.resolve()
      .then(() => {
        if (handler === undefined) throw new Error(`unknown command "${m.cmd}"`)
        return handler(m.args)
      })
      .then(
        value => process.send!({ id: m.id, ok: true, value } satisfies Reply),
        (err: unknown) => process.send!({ id: m.id, ok: false, error: (err as Error).stack ?? String(err) } satisfies Reply)
      )
  })
  process.send({ ready } satisfies Ready)
}

/** In a child: one progress line for the runner to print. */
export function progress (line: string): void {
  process.send?.({ progress: line } satisfies Progress)
}
