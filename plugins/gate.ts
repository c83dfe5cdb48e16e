import websocket from '@fastify/websocket'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { IncomingMessage } from 'node:http'
import fp from 'fastify-plugin'
import type { ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { WebSocket } from 'ws'
import { normalizeClusterOptions, type ClusterOptions, type RedisOption } from '../src/cluster/options.js'
import { GateError } from '../src/errors.js'
import { Gate, type DirectoryFactory } from '../src/gate.js'
import { Slot, type Refusal } from '../src/limits/admission.js'
import type { CoreOptions } from '../src/options.js'
import { TcpListener } from '../src/transport/tcp.js'
import { attachWebSocket } from '../src/transport/ws.js'
import { adminPlugin, type AdminOptions } from './admin.js'

/** Options of `app.register(gatePlugin, opts)`. */
export interface GatePluginOptions extends CoreOptions {
  /** @internal Replaces the directory (where agents live); the cluster plugin sets it. */
  directory?: DirectoryFactory
  /** The admin HTTP API (docs/protocol.md section 5); `false` switches it off. See `AdminOptions`. */
  admin?: AdminOptions | false
  /**
   * Cluster mode: a Redis URL, ioredis options, or an ioredis client (yours to
   * close). Unset: single node, in memory.
   */
  redis?: RedisOption
  /** Cluster tunables; only with `redis`. */
  cluster?: ClusterOptions
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The gate: messages, handlers, hooks, lookups, pushes, kicks and stats. */
    gate: Gate
    /** The companion TCP listener's address, once ready (undefined when TCP is off). */
    gateTcpAddress: () => AddressInfo | undefined
  }
}

/**
 * Adds the gate to a Fastify app: `app.gate`, the WebSocket route (through
 * @fastify/websocket, so the app's hooks run before the upgrade) and, with
 * `tcp`, a companion TCP server that starts on `onReady` and closes with the app.
 */
async function gate (app: FastifyInstance, opts: GatePluginOptions): Promise<void> {
  if (app.hasDecorator('gate')) throw new GateError.ALREADY_REGISTERED()
  const { directory, redis, cluster, ...core } = opts
  if (cluster !== undefined && redis === undefined) throw new GateError.INVALID_OPTION('cluster', 'needs the redis option')
  const clustered = redis !== undefined ? normalizeClusterOptions(redis, cluster) : undefined
  // ioredis is loaded only in cluster mode: a single node never pays for it.
  const RedisDirectory = clustered !== undefined && directory === undefined ? (await import('../src/cluster/directory.js')).RedisDirectory : undefined
  const factory: DirectoryFactory | undefined = directory ??
    (RedisDirectory !== undefined ? (local, gate) => new RedisDirectory(local, gate, clustered!) : undefined)
  const instance = new Gate(core, app.log.child({ component: 'gate' }), factory)
  const options = instance.options
  app.decorate('gate', instance)

  const ownWebsocket = !app.hasDecorator('websocketServer')
  if (ownWebsocket) {
    // The gate closes its own sockets with 1001 in preClose (below), so the
    // plugin's default preClose (close with no code) is replaced.
    await app.register(websocket, {
      options: { maxPayload: options.maxMsgLen },
      preClose: (done) => { done() }
    })
  }

  let tcp: TcpListener | undefined
  if (options.tcp !== false) tcp = new TcpListener(instance, options.tcp)
  app.decorate('gateTcpAddress', () => tcp?.address() ?? undefined)

  app.addHook('onReady', async () => {
    await instance.ready()
    if (tcp !== undefined) {
      const address = await tcp.listen()
      app.log.info({ address: address.address, port: address.port }, 'gate tcp listening')
    }
  })

  app.addHook('preClose', async () => {
    const tcpClosed = tcp?.close()
    await instance.close()
    await tcpClosed
  })

  instance.guardHttp(app.server)

  // An upgrade takes its place before it happens: refused (503, or 429 past the
  // connect rate) while the client can still read an HTTP answer. The place is
  // handed to the connection, or given back when no upgrade follows.
  const slots = new WeakMap<IncomingMessage, Slot>()
  const admitUpgrade = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const got = instance.reserve(request.ip)
    if (got instanceof Slot) {
      slots.set(request.raw, got)
      return
    }
    const { status, code, message } = REFUSALS[got]
    if (status === 429) void reply.header('retry-after', '1')
    await reply.code(status).send({ statusCode: status, code, error: status === 429 ? 'Too Many Requests' : 'Service Unavailable', message })
  }
  const releaseUnused = async (request: FastifyRequest): Promise<void> => {
    const slot = slots.get(request.raw)
    if (slot !== undefined) instance.release(slot)
  }

  app.get(options.path, { websocket: true, onRequest: admitUpgrade, onResponse: releaseUnused, onRequestAbort: releaseUnused }, (socket, request) => {
    if (ownWebsocket) releaseUpgrade(socket, request.raw.socket)
    const slot = slots.get(request.raw)
    slots.delete(request.raw)
    attachWebSocket(instance, socket, request.ip, slot)
  })

  if (opts.admin !== false) await app.register(adminPlugin, opts.admin ?? {})
}

/** The HTTP answer to an upgrade refused before it happened, by reason. */
const REFUSALS: Record<Refusal, { status: number, code: string, message: string }> = {
  full: { status: 503, code: 'FST_GATE_FULL', message: 'The gateway is full' },
  'not-serving': { status: 503, code: 'FST_GATE_FULL', message: 'The gateway is full or shutting down' },
  'ip-limit': { status: 503, code: 'FST_GATE_IP_LIMIT', message: 'Too many connections from this address' },
  'ip-rate': { status: 429, code: 'FST_GATE_IP_RATE', message: 'Too many new connections from this address; retry later' }
}

/**
 * Lets the upgrade's HTTP objects go once the WebSocket is open. @fastify/websocket
 * leaves the ServerResponse assigned to the socket, and its 'error' listener holds
 * the request and the reply: without this, every connection keeps its upgrade
 * request (headers, a child logger, the response) for its whole life, about 4 KiB.
 * That listener (the default error handler of the @fastify/websocket the gate
 * registered) only logged the error and terminated the socket; the gate's own
 * listener logs it, and the replacement terminates.
 */
function releaseUpgrade (ws: WebSocket, socket: Socket): void {
  (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage?.detachSocket(socket)
  ws.removeAllListeners('error')
  ws.on('error', terminate)
}

function terminate (this: WebSocket): void {
  this.terminate()
}

export const gatePlugin = fp(gate, {
  fastify: '5.x',
  name: 'fastify-gate'
})

export default gatePlugin
export type { AdminOptions } from './admin.js'

// The public API beside the plugin: what handlers, hooks and answers are made of.
export { Agent, type Transport } from '../src/agent.js'
export { CloseCode, type CloseCodeValue, type CloseReason } from '../src/close-codes.js'
export type { ClusterOptions, RedisOption } from '../src/cluster/options.js'
export type { Decoded, Processor } from '../src/codec/processor.js'
export type { ProtobufOptions } from '../src/codec/protobuf.js'
export type { ClusterAnswer, ConnectionInfo, Delivery, GateStats, KickResult, ProtocolInfo, SettingsResult, UserConnections, UsersPage } from '../src/answers.js'
export { GateError } from '../src/errors.js'
export { Gate, type ConnectHook, type DisconnectHook } from '../src/gate.js'
export type { KickTarget } from '../src/local-agents.js'
export type { AnyMessages, DefaultMessages, GateMessages, Handler, MessageBodies, MessageName, MessageOptions } from '../src/messages.js'
export type { CoreOptions, MultiLoginPolicy, TcpOptions } from '../src/options.js'
export { gateMetrics, metricsPlugin, type MetricsPluginOptions } from './metrics.js'
// [history] [session] docs/sessions.md
export type { BindOptions, Recovery } from '../src/history/history.js'
export type { HistoryOptions } from '../src/history/options.js'
export type { HistoryPage } from '../src/history/page.js'
export type { SessionOptions } from '../src/session/options.js'
export { SessionSettings } from '../src/session/settings.js'
export { MemorySessionStore, type SessionStore } from '../src/session/store.js'
