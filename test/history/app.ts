/**
 * What the history tests share: an app whose `Note` is kept in history, a login
 * (`Hello`) that resumes when asked, and `Send` (a uid-to-uid message).
 */
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { spawnSync, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import type { TestContext } from 'node:test'
import type { GatePluginOptions } from '../../plugins/gate.js'
import { Wire, WsClient, type Received } from '../clients.js'
import { redisEnv, spawnGateProcess, type RedisEnv } from '../fixtures/cluster-app.js'
import type { RedisOption } from '../../src/cluster/options.js'
import { startCore, startGate, type Started } from '../helper.js'

export const historyProto = fileURLToPath(new URL('../fixtures/history-test.proto', import.meta.url))
const names = ['Note', 'Hello', 'Welcome', 'Send']

export type Encoding = 'json' | 'protobuf'

export function historyWire (encoding: Encoding): Wire {
  if (encoding === 'json') return new Wire()
  return new Wire({ encoding, root: new protobuf.Root().loadSync(historyProto, { keepCase: true }), ids: Object.fromEntries(names.map((n, i) => [n, i])) })
}

export function historyEncoding (encoding: Encoding): GatePluginOptions {
  return encoding === 'json' ? {} : { encoding: 'protobuf', protobuf: { root: historyProto } }
}

/**
 * `Note { text, n }` with history; `Hello { uid, track?, resume? }` binds, with
 * `{ resume }` when `track`, and answers `Welcome { recovered, replayed, pos }`
 * (all three only when tracking); `Send { to, n }` pushes `Note` to `to`.
 */
export function registerHistoryMessages (app: FastifyInstance): void {
  app.gate
    .message('Note', { schema: Type.Object({ text: Type.String(), n: Type.Integer() }), history: true })
    .message('Hello', { schema: Type.Object({ uid: Type.String(), track: Type.Optional(Type.Boolean()), resume: Type.Optional(Type.String()) }), login: true }, async (msg, agent) => {
      if (msg.track !== true) {
        await agent.bind(msg.uid)
        agent.send('Welcome', {})
        return
      }
      const r = await agent.bind(msg.uid, { resume: msg.resume ?? '' })
      agent.send('Welcome', { recovered: r?.recovered ?? false, replayed: r?.replayed ?? 0, pos: r?.pos ?? '' })
    })
    .message('Welcome', { schema: Type.Object({ recovered: Type.Optional(Type.Boolean()), replayed: Type.Optional(Type.Integer()), pos: Type.Optional(Type.String()) }) })
    .message('Send', { schema: Type.Object({ to: Type.String(), n: Type.Integer() }) }, async (msg, agent) => {
      await app.gate.pushToUids([msg.to], 'Note', { text: `from ${agent.uid ?? ''}`, n: msg.n })
    })
}

export async function startHistoryGate (t: TestContext, encoding: Encoding = 'json', opts: GatePluginOptions = {}): Promise<Started> {
  return await startCore(t, { ...historyEncoding(encoding), ...opts }, registerHistoryMessages)
}

export async function startHistoryNode (t: TestContext, redis: RedisOption, nodeId: string, opts: GatePluginOptions = {}): Promise<Started> {
  return await startGate(t, { redis, nodeId, cluster: { nodeTtl: 1500, heartbeat: 100, requestTimeout: 500 }, admin: false, ...opts }, registerHistoryMessages)
}

/**
 * A client written from docs/protocol.md section 8: it keeps the last position
 * it saw, and gives it back when it logs in again.
 */
export class ResumingClient {
  pos = ''
  readonly notes: Received[] = []
  client!: WsClient
  welcome: Received['body'] | undefined
  private readonly encoding: Encoding
  constructor (encoding: Encoding = 'json') {
    this.encoding = encoding
  }

  /** Connects to `wsUrl`, logs in as `uid` resuming from `pos`; the replayed notes and the welcome are read. */
  async login (wsUrl: string, uid: string): Promise<Received['body']> {
    this.client = await WsClient.connect(wsUrl, historyWire(this.encoding))
    this.client.send('Hello', { uid, track: true, resume: this.pos })
    for (;;) {
      const m = await this.client.next()
      if (m.name === 'Welcome') {
        this.welcome = m.body
        if (m.body.pos !== '') this.pos = m.body.pos
        return m.body
      }
      this.take(m)
    }
  }

  take (m: Received): void {
    if (m.name !== 'Note') throw new Error(`unexpected ${m.name}`)
    this.notes.push(m)
    // A message without a position (the store was unreachable) leaves the position as it was.
    if (typeof m.body.gate_pos === 'string' && m.body.gate_pos !== '') this.pos = m.body.gate_pos
  }

  /** Reads notes until `n` of them arrived in all (or `ms` passed without one). */
  async until (n: number, ms = 5000): Promise<void> {
    while (this.notes.length < n) this.take(await this.client.next(ms))
  }

  /** The `n` of every note received, in order. */
  get ns (): number[] {
    return this.notes.map(m => m.body.n)
  }

  /** The offsets (after the last `:`) of every note received, in order. */
  get offsets (): number[] {
    return this.notes.map(m => Number(String(m.body.gate_pos).split(':').pop()))
  }
}

export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

/** Why the Redis tests are skipped, or false when redis-server is installed. */
export const noRedis: string | false = spawnSync('redis-server', ['--version']).status === 0
  ? false
  : 'redis-server is missing (apt-get install redis-server): the cluster history tests are SKIPPED'

/** A history node in a child process (test/fixtures/history-node.ts), killed after the test. */
export async function spawnHistoryNode (t: TestContext, redis: RedisEnv, nodeId: string): Promise<{ proc: ChildProcess, wsUrl: string, exited: Promise<unknown> }> {
  return await spawnGateProcess(t, fileURLToPath(new URL('../fixtures/history-node.ts', import.meta.url)), { ...redisEnv(redis), GATE_NODE_ID: nodeId })
}
