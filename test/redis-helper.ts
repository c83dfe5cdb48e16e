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
import { after, type TestContext } from 'node:test'
import { Redis, type Cluster } from 'ioredis'
import type { RedisOption } from '../src/cluster/options.js'
import { freePort } from './ports.js'
import { RedisClusterServer, noRedisCluster } from './redis-cluster-helper.js'

/**
 * What a cluster test needs of its Redis, whether a single server or a Redis
 * Cluster: the gate's `redis` option, the environment of a node process, and
 * raw access for assertions.
 */
export interface RedisBackend {
  kind: 'redis' | 'cluster'
  /** The plugin's `redis` option: a URL, or a Redis Cluster's seeds. */
  option: RedisOption
  /** For a gate process: REDIS_URL or REDIS_CLUSTER_NODES. */
  env: Record<string, string>
  /** Every key matching `pattern` (on a Redis Cluster: over every master), sorted. */
  keys: (pattern: string) => Promise<string[]>
  /** Runs one command on every server (on a Redis Cluster: every master); their answers. */
  each: (...args: string[]) => Promise<unknown[]>
  /** A raw client (`Redis`, or `Cluster`), disconnected after the test. */
  raw: (t: TestContext) => Redis | Cluster
}

export class RedisServer {
  readonly port: number
  private readonly dir: string
  private proc: ChildProcess | undefined
  private readonly clients = new Set<Redis>()

  private constructor (port: number, dir: string) {
    this.port = port
    this.dir = dir
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  readonly kind = 'redis'

  get option (): string {
    return this.url
  }

  get env (): Record<string, string> {
    return { REDIS_URL: this.url }
  }

  async keys (pattern: string): Promise<string[]> {
    return ((await this.each('KEYS', pattern))[0] as string[]).sort()
  }

  /** A client of this server, disconnected after the test, or when the server closes if that comes first. */
  raw (t: TestContext): Redis {
    const conn = new Redis(this.url)
    conn.on('error', () => {})
    this.clients.add(conn)
    // Not twice: a second disconnect waits 2 s for a 'close' that came already.
    t.after(() => { if (conn.status !== 'end') conn.disconnect() })
    return conn
  }

  async each (...args: string[]): Promise<unknown[]> {
    const conn = new Redis(this.url, { lazyConnect: true })
    conn.on('error', () => {})
    try {
      await conn.connect()
      return [await conn.call(args[0], ...args.slice(1))]
    } finally {
      conn.disconnect()
    }
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

  /** Freezes the server (SIGSTOP): its connections stay open and nothing is answered until `thaw`. */
  freeze (): void {
    this.proc?.kill('SIGSTOP')
  }

  thaw (): void {
    this.proc?.kill('SIGCONT')
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
    for (const conn of this.clients) conn.disconnect()
    this.clients.clear()
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

/**
 * A private Redis for this test, closed after it. A test's `after` hooks run
 * first registered, first run, so this one usually runs before those of the
 * clients the test made: `raw` clients are disconnected by `close` first, as an
 * ioredis client disconnected after its server died waits 2 s
 * (`disconnectTimeout`) for a socket that has already closed.
 */
export async function startRedis (t: TestContext): Promise<RedisServer> {
  const server = await RedisServer.start()
  t.after(() => server.close())
  return server
}

/** The Redis Cluster backend over a running `RedisClusterServer`. */
export class ClusterBackend implements RedisBackend {
  readonly kind = 'cluster'
  readonly server: RedisClusterServer

  constructor (server: RedisClusterServer) {
    this.server = server
  }

  get option (): RedisOption {
    return { clusterNodes: this.server.seeds }
  }

  get env (): Record<string, string> {
    return { REDIS_CLUSTER_NODES: this.server.seeds.join(',') }
  }

  async keys (pattern: string): Promise<string[]> {
    return (await this.each('KEYS', pattern)).flatMap(found => found as string[]).sort()
  }

  raw (t: TestContext): Cluster {
    const conn = this.server.client()
    t.after(() => conn.disconnect())
    return conn
  }

  async each (...args: string[]): Promise<unknown[]> {
    return [...(await this.server.onMasters(...args)).values()]
  }
}

export type BackendKind = RedisBackend['kind']

/**
 * Runs a test file's cluster tests on both backends: `kinds` to loop over,
 * `skip(kind)` (a loud reason when redis-server or redis-cli is missing), and
 * `use(t, kind)`: a private single Redis for the test, or the file's one Redis
 * Cluster (started at first use, emptied before each test, stopped after the
 * file), so a file pays for one Redis Cluster start.
 */
export function redisBackends (): { kinds: readonly BackendKind[], skip: (kind: BackendKind) => string | false, use: (t: TestContext, kind: BackendKind) => Promise<RedisBackend> } {
  let shared: Promise<RedisClusterServer> | undefined
  after(async () => { if (shared !== undefined) await (await shared).close() })
  if (noRedisCluster !== false) process.stderr.write(`\n!!! ${noRedisCluster}\n\n`)
  return {
    kinds: ['redis', 'cluster'],
    skip: () => noRedisCluster,
    use: async (t, kind) => {
      if (kind === 'redis') return await startRedis(t)
      shared ??= RedisClusterServer.start()
      const server = await shared
      await server.waitOk()
      await server.flush()
      return new ClusterBackend(server)
    }
  }
}
