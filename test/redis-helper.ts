/**
 * Private `redis-server` processes for the cluster tests: each on a free port of
 * 127.0.0.1, in a temp dir, with no persistence, so a restart comes back empty.
 * Never the shared instance on 6379.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { freePort } from './ports.js'

export class RedisServer {
  readonly port: number
  private readonly dir: string
  private proc: ChildProcess | undefined

  private constructor (port: number, dir: string) {
    this.port = port
    this.dir = dir
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get running (): boolean {
    return this.proc !== undefined
  }

  /** Starts a server on a free port (a few tries, in case another process took the port first). */
  static async start (): Promise<RedisServer> {
    let lastError: unknown
    for (let attempt = 0; attempt < 5; attempt++) {
      const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), 'gate-redis-')))
      try {
        await server.spawn()
        return server
      } catch (err) {
        lastError = err
        server.removeDir()
      }
    }
    throw lastError
  }

  /** Stops the server at once (SIGKILL: nothing is saved; there is nothing to save anyway). */
  async stop (): Promise<void> {
    const proc = this.proc
    if (proc === undefined) return
    this.proc = undefined
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = once(proc, 'exit')
      proc.kill('SIGKILL')
      await exited
    }
  }

  /** Starts it again on the same port, empty. */
  async restart (): Promise<void> {
    await this.stop()
    let lastError: unknown
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await this.spawn()
        return
      } catch (err) {
        lastError = err
        await new Promise(resolve => setTimeout(resolve, 100))
      }
    }
    throw lastError
  }

  async close (): Promise<void> {
    await this.stop()
    this.removeDir()
  }

  private removeDir (): void {
    rmSync(this.dir, { recursive: true, force: true })
  }

  private async spawn (): Promise<void> {
    const proc = spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir
    ], { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`redis-server did not start:\n${output}`)) }, 10000)
      proc.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      })
      proc.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited with ${code}:\n${output}`))
      })
    })
    proc.stdout.resume()
    proc.stderr.resume()
    this.proc = proc
  }
}

/** A private Redis for this test, closed after it. */
export async function startRedis (t: TestContext): Promise<RedisServer> {
  const server = await RedisServer.start()
  t.after(() => server.close())
  return server
}
