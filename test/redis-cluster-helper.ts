/**
 * A private Redis Cluster for the tests: three masters and three replicas,
 * six `redis-server --cluster-enabled yes` on free ports of 127.0.0.1 (each
 * with its own `--cluster-port`, as port + 10000 may be taken), no
 * persistence, in a temp dir; `redis-cli --cluster create` joins them. It can
 * SIGKILL a master and wait for its replica to take over. Never 6379.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster, Redis } from 'ioredis'
import { freePort } from './ports.js'

/** Why the Redis Cluster tests cannot run here, or false. */
export const noRedisCluster: string | false =
  spawnSync('redis-server', ['--version']).status === 0 && spawnSync('redis-cli', ['--version']).status === 0
    ? false
    : 'redis-server or redis-cli is missing (apt-get install redis-server): the Redis Cluster tests are SKIPPED'

const NODE_TIMEOUT = 2000

interface Member {
  port: number
  busPort: number
  proc: ChildProcess | undefined
}

async function waitFor (check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > end) throw new Error(`Redis Cluster: timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** Runs one command on one member with a short-lived connection. */
async function ask (port: number, ...args: string[]): Promise<unknown> {
  const conn = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: true, retryStrategy: () => null })
  conn.on('error', () => {})
  try {
    await conn.connect()
    return await conn.call(args[0], ...args.slice(1))
  } finally {
    conn.disconnect()
  }
}

export class RedisClusterServer {
  private readonly dir: string
  private readonly members: Member[]

  private constructor (dir: string, members: Member[]) {
    this.dir = dir
    this.members = members
  }

  /** `host:port` of every member (the seeds a client is given). */
  get seeds (): string[] {
    return this.members.map(m => `127.0.0.1:${m.port}`)
  }

  /** Starts six servers and makes them one cluster; resolves once every member reports `cluster_state:ok`. */
  static async start (): Promise<RedisClusterServer> {
    const dir = mkdtempSync(join(tmpdir(), 'gate-rcluster-'))
    const members: Member[] = []
    const server = new RedisClusterServer(dir, members)
    try {
      const taken = new Set<number>()
      const pick = async (): Promise<number> => {
        for (;;) {
          const port = await freePort()
          if (!taken.has(port)) { taken.add(port); return port }
        }
      }
      for (let i = 0; i < 6; i++) members.push({ port: await pick(), busPort: await pick(), proc: undefined })
      // A free port can be taken by another process (an outgoing connection of a test file running
      // meanwhile) before redis-server binds it: such a member starts again on other ports.
      await Promise.all(members.map(async m => {
        for (let attempt = 1; ; attempt++) {
          try {
            await server.spawn(m)
            return
          } catch (err) {
            if (attempt >= 5 || !/Address already in use/.test((err as Error).message)) throw err
            m.port = await pick()
            m.busPort = await pick()
          }
        }
      }))
      const create = spawnSync('redis-cli', ['--cluster', 'create', ...server.seeds, '--cluster-replicas', '1', '--cluster-yes'], { encoding: 'utf8', timeout: 30000 })
      if (create.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`)
      await server.waitOk(30000)
      return server
    } catch (err) {
      await server.close()
      throw err
    }
  }

  /** Ports of the live members that are masters now (each asked its own ROLE). */
  async masters (): Promise<number[]> {
    const ports: number[] = []
    for (const m of this.members) {
      if (m.proc !== undefined && (await ask(m.port, 'ROLE') as [string])[0] === 'master') ports.push(m.port)
    }
    return ports.sort((a, b) => a - b)
  }

  /** The port of the master that serves `key`'s slot now. */
  async masterOf (key: string): Promise<number> {
    const live = this.members.filter(m => m.proc !== undefined)
    const slot = Number(await ask(live[0].port, 'CLUSTER', 'KEYSLOT', key))
    const slots = await ask(live[0].port, 'CLUSTER', 'SLOTS') as Array<[number, number, [string, number]]>
    const range = slots.find(([from, to]) => from <= slot && slot <= to)
    if (range === undefined) throw new Error(`no master serves slot ${slot}`)
    return Number(range[2][1])
  }

  /** A raw client on the cluster, for assertions; the caller disconnects it. */
  client (): Cluster {
    const c = new Cluster(this.members.map(m => ({ host: '127.0.0.1', port: m.port })), { redisOptions: { maxRetriesPerRequest: 3 } })
    c.on('error', () => {})
    return c
  }

  /** Runs `args` on every live master; their answers, by port. */
  async onMasters (...args: string[]): Promise<Map<number, unknown>> {
    const out = new Map<number, unknown>()
    for (const port of await this.masters()) out.set(port, await ask(port, ...args))
    return out
  }

  /** Empties every master (between tests that share the cluster). */
  async flush (): Promise<void> {
    await this.onMasters('FLUSHALL')
  }

  /**
   * SIGKILLs a master (the first one, unless `port` names one); resolves with
   * its port once the process exited. The cluster then fails over to its replica.
   */
  async killMaster (port?: number): Promise<number> {
    const target = port ?? (await this.masters())[0]
    const member = this.members.find(m => m.port === target)
    const proc = member?.proc
    if (member === undefined || proc === undefined) throw new Error(`no running member on port ${target}`)
    member.proc = undefined
    const exited = once(proc, 'exit')
    proc.kill('SIGKILL')
    await exited
    return target
  }

  /**
   * Resolves once every live member reports `cluster_state:ok`, no slot is
   * served by a dead member (after a kill: the replica took over), and every
   * live replica is in sync with its master.
   */
  async waitOk (ms = 30000): Promise<void> {
    const live = this.members.filter(m => m.proc !== undefined)
    const dead = new Set(this.members.filter(m => m.proc === undefined).map(m => m.port))
    await waitFor(async () => {
      // Every master serves slots, and every member agrees on which members those are.
      const masters = await this.masters()
      for (const m of live) {
        if (!String(await ask(m.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false
        const slots = await ask(m.port, 'CLUSTER', 'SLOTS') as Array<[number, number, [string, number]]>
        if (slots.some(range => dead.has(Number(range[2][1])))) return false
        const owners = [...new Set(slots.map(range => Number(range[2][1])))].sort((a, b) => a - b)
        if (owners.join() !== masters.join()) return false
        // A replica that never synced would not take over from its master.
        const replication = String(await ask(m.port, 'INFO', 'replication'))
        if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return false
      }
      return true
    }, ms, 'cluster_state:ok on every member')
  }

  /** Stops every member and removes the temp dir. */
  async close (): Promise<void> {
    await Promise.all(this.members.map(async m => {
      const proc = m.proc
      if (proc === undefined) return
      m.proc = undefined
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = once(proc, 'exit')
        proc.kill('SIGKILL')
        await exited
      }
    }))
    rmSync(this.dir, { recursive: true, force: true })
  }

  private async spawn (m: Member): Promise<void> {
    const dir = mkdtempSync(join(this.dir, `${m.port}-`))
    const proc = spawn('redis-server', [
      '--port', String(m.port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-port', String(m.busPort),
      '--cluster-node-timeout', String(NODE_TIMEOUT), '--cluster-config-file', join(dir, 'nodes.conf'),
      '--save', '', '--appendonly', 'no', '--repl-diskless-sync-delay', '0', '--dir', dir
    ], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
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
      proc.once('exit', code => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited with ${code}:\n${output}`))
      })
    })
    proc.stdout.resume()
    proc.stderr.resume()
    m.proc = proc
  }
}
