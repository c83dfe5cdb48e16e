import { Type } from '@sinclair/typebox'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import gatePlugin, { type GatePluginOptions } from '../plugins/gate.js'
import type { Agent } from '../src/agent.js'
import type { CloseReason } from '../src/close-codes.js'
import { TcpClient, Wire, WsClient, type WireOptions } from './clients.js'

export interface Started {
  app: FastifyInstance
  wsUrl: string
  tcpPort: number
  httpUrl: string
  ws: (wire?: Wire) => Promise<WsClient>
  tcp: (wire?: Wire) => Promise<TcpClient>
}

/**
 * Builds a Fastify app with the gate on 127.0.0.1, port 0 (TCP on port 0 too),
 * lets `setup` register messages, listens, and closes it after the test.
 * `appOptions` go to `Fastify()` (e.g. a logger writing to a stream the test reads).
 */
export async function startGate (
  t: TestContext,
  opts: GatePluginOptions = {},
  setup?: (app: FastifyInstance) => void | Promise<void>,
  appOptions: FastifyServerOptions = {}
): Promise<Started> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'silent' }, ...appOptions })
  // No drain unless a test asks for one: app.close() closes every connection at once.
  await app.register(gatePlugin, { tcp: { port: 0 }, drainTime: 0, ...opts })
  await setup?.(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const { port } = app.server.address() as { port: number }
  const tcpPort = app.gateTcpAddress()?.port ?? 0
  return {
    app,
    wsUrl: `ws://127.0.0.1:${port}${app.gate.options.path}`,
    tcpPort,
    httpUrl: `http://127.0.0.1:${port}`,
    ws: async (wire) => await WsClient.connect(`ws://127.0.0.1:${port}${app.gate.options.path}`, wire),
    tcp: async (wire) => await TcpClient.connect(tcpPort, wire)
  }
}

/** `startGate` without the admin API, for tests of the core: much faster to build. */
export async function startCore (
  t: TestContext,
  opts: GatePluginOptions = {},
  setup?: (app: FastifyInstance) => void | Promise<void>,
  appOptions: FastifyServerOptions = {}
): Promise<Started> {
  return await startGate(t, { admin: false, ...opts }, setup, appOptions)
}

/**
 * Resolves when `check` holds, polling; rejects after `ms` (of real time, even
 * under `mockGateClock`). For state that settles asynchronously.
 */
export async function until (check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + ms
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/**
 * Mocks the shared timer and the clock of the gates started after it
 * (`setInterval` and `Date`; sockets and `setTimeout` stay real), so that a test
 * of a timeout does not wait for it. Returns `advance(ms)`: the gates' sweeps run
 * at once, as if `ms` had gone by, 50 ms (the shortest sweep period) at a time
 * (a mocked timer sees the clock at the end of its `tick`). Undone when the test ends.
 */
export function mockGateClock (t: TestContext): (ms: number) => void {
  t.mock.timers.enable({ apis: ['setInterval', 'Date'], now: Date.now() })
  return ms => {
    for (let left = ms; left > 0; left -= 50) t.mock.timers.tick(Math.min(50, left))
  }
}

// ---- shared by the core tests ------------------------------------------------

export type TransportName = 'ws' | 'tcp'
export type Encoding = 'json' | 'protobuf'
export type Client = WsClient | TcpClient
export const transports: readonly TransportName[] = ['ws', 'tcp']
export const encodings: readonly Encoding[] = ['json', 'protobuf']

/** The core tests' protobuf schema; its messages are those of `registerTestMessages`, in the same order. */
export const testProto = fileURLToPath(new URL('./fixtures/gate-test.proto', import.meta.url))
/** The messages of `registerTestMessages`, in registration order (the default protobuf ids). */
export const testMessageNames = ['Echo', 'Login', 'Secret'] as const
let testRoot: protobuf.Root | undefined

/** Plugin options selecting `encoding`, with the test schema for protobuf. */
export function encodingOptions (encoding: Encoding): GatePluginOptions {
  return encoding === 'json' ? {} : { encoding: 'protobuf', protobuf: { root: testProto } }
}

/**
 * A client `Wire` for `encoding`. The protobuf ids are registration order, as
 * docs/protocol.md says, worked out here rather than read from the server.
 */
export function testWire (encoding: Encoding, opts: WireOptions = {}): Wire {
  if (encoding === 'json') return new Wire(opts)
  const ids = Object.fromEntries(testMessageNames.map((name, i) => [name, i]))
  return new Wire({ encoding, root: (testRoot ??= protobuf.loadSync(testProto)), ids, ...opts })
}

/**
 * Registers the test messages: `Echo` (public, answered with itself), `Login`
 * (the login message: binds `uid`, answers `Echo { text: "welcome <uid>" }`) and
 * `Secret` (needs login, answered with `Echo { text: "secret <text>" }`).
 */
export function registerTestMessages (app: FastifyInstance): void {
  app.gate
    .message('Echo', { schema: Type.Object({ text: Type.String(), n: Type.Optional(Type.Integer()) }), needsLogin: false },
      (msg, agent) => { agent.send('Echo', msg) })
    .message('Login', { schema: Type.Object({ uid: Type.String() }), login: true }, async (msg, agent) => {
      await agent.bind(msg.uid)
      agent.send('Echo', { text: `welcome ${msg.uid}` })
    })
    .message('Secret', { schema: Type.Object({ text: Type.String() }) },
      (msg, agent) => { agent.send('Echo', { text: `secret ${msg.text}` }) })
}

/** A connection the gate closed, as its disconnect hook saw it. */
export interface ClosedAgent extends CloseReason {
  id: string
  transport: TransportName
}

/** Records every disconnect (agent id, transport, close code and reason) in the returned array. */
export function recordCloses (app: FastifyInstance): ClosedAgent[] {
  const closes: ClosedAgent[] = []
  app.gate.onDisconnect((agent, reason) => { closes.push({ id: agent.id, transport: agent.transport, ...reason }) })
  return closes
}

/** Waits for `agent`'s disconnect in `closes` and returns it. */
export async function closeOf (closes: ClosedAgent[], agent: Agent, ms = 5000): Promise<ClosedAgent> {
  await until(() => closes.some(c => c.id === agent.id), ms, `the disconnect of ${agent.id}`)
  return closes.find(c => c.id === agent.id)!
}

/** Connects a client (one at a time: the new agent is the one the server did not have before). */
export async function connectAgent (s: Started, transport: TransportName, wire?: Wire): Promise<{ client: Client, agent: Agent }> {
  const known = new Set([...s.app.gate.local.all()].map(a => a.id))
  const client = transport === 'ws' ? await s.ws(wire) : await s.tcp(wire)
  let agent: Agent | undefined
  await until(() => (agent = [...s.app.gate.local.all()].find(a => !known.has(a.id))) !== undefined, 5000, 'the server-side agent')
  return { client, agent: agent! }
}

/** Sends one raw payload: as one WebSocket message, or length-prefixed on TCP. */
export function sendPayload (client: Client, payload: Buffer): void {
  client.sendRaw(client instanceof TcpClient ? client.wire.frame(payload) : payload)
}

/** Sends `Echo` and asserts the answer comes back (the connection is served). */
export async function assertEchoes (client: Client, text = 'still here'): Promise<void> {
  client.send('Echo', { text })
  const answer = await client.next()
  assert.equal(answer.name, 'Echo')
  assert.equal(answer.body.text, text)
}

export interface BadInputCase {
  transport: TransportName
  encoding?: Encoding
  opts?: GatePluginOptions
  /** Sends the bad input on the offending connection. */
  send: (client: Client) => void | Promise<void>
  /** The close code it must cause. */
  code: number
}

/**
 * Starts a gate with the test messages and a bystander on each transport, sends
 * the bad input from a third connection, and asserts that exactly that connection
 * is closed with `code` (seen by the disconnect hook, and in the close frame on
 * WebSocket) while both bystanders are still answered.
 */
export async function expectOnlyOffenderClosed (t: TestContext, c: BadInputCase): Promise<void> {
  const encoding = c.encoding ?? 'json'
  const wireOpts: WireOptions = { lenMsgLen: c.opts?.lenMsgLen, littleEndian: c.opts?.littleEndian }
  const wire = (): Wire => testWire(encoding, stripUndefined(wireOpts))
  const s = await startCore(t, { ...encodingOptions(encoding), ...c.opts }, registerTestMessages)
  const closes = recordCloses(s.app)
  const bystanders = [await s.ws(wire()), await s.tcp(wire())]
  const offender = await connectAgent(s, c.transport, wire())
  await c.send(offender.client)
  assert.equal((await closeOf(closes, offender.agent)).code, c.code, 'close code seen by the disconnect hook')
  const seen = await offender.client.closed
  if (offender.client instanceof WsClient) assert.equal(seen.code, c.code, 'close code in the WebSocket close frame')
  for (const bystander of bystanders) await assertEchoes(bystander)
  assert.deepEqual(closes.map(closed => closed.id), [offender.agent.id], 'only the offender was closed')
}

function stripUndefined<T extends object> (obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T
}

/** A promise with its resolve function, for handlers that must wait on the test. */
export function deferred<T = void> (): { promise: Promise<T>, resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>(_resolve => { resolve = _resolve })
  return { promise, resolve }
}

/** A Fastify logger option whose lines (parsed JSON) land in `lines`. */
export function captureLogs (level = 'warn'): { logger: FastifyServerOptions['logger'], lines: Array<Record<string, any>> } {
  const lines: Array<Record<string, any>> = []
  const stream = { write: (line: string) => { lines.push(JSON.parse(line)) } }
  return { logger: { level, stream }, lines }
}
