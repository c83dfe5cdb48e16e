import websocket from '@fastify/websocket'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { STATUS_CODES, type IncomingMessage } from 'node:http'
import fp from 'fastify-plugin'
import type { AddressInfo, Socket } from 'node:net'
import type { WebSocket } from 'ws'
import { normalizeClusterOptions, type ClusterOptions, type RedisOption } from '../src/cluster/options.js'
import { GateError } from '../src/errors.js'
import { Gate, type DirectoryFactory } from '../src/gate.js'
import { Slot, type Refusal } from '../src/limits/admission.js'
import type { CoreOptions } from '../src/options.js'
import type { GateRuntime } from '../src/runtime.js'
import { offeredSubprotocols, selectSubprotocol } from '../src/transport/subprotocol.js'
import { TcpListener } from '../src/transport/tcp.js'
import { attachWebSocket } from '../src/transport/ws.js'
import { detachUpgradeResponse } from '../src/transport/ws-internals.js'
import { adminPlugin, type AdminOptions } from './admin.js'
import { HttpGuard } from './http-guard.js'
import { servedProtocols, type MqttOptions, type ProtocolListener } from './listeners.js'

/** Options of `app.register(gatePlugin, opts)`. */
export interface GatePluginOptions extends CoreOptions {
  /** MQTT beside leaf: `{}` serves WebSocket `/mqtt`, `{ tcp: { port } }` a TCP port too. Off unless given. */
  mqtt?: MqttOptions | false
  /** The application's own protocols, each on its own listener. */
  protocols?: ProtocolListener[]
  /** @internal Replaces the directory (where agents live); the cluster plugin sets it. */
  directory?: DirectoryFactory
  /** The admin HTTP API (docs/protocol.md section 5); `false` switches it off. See `AdminOptions`. */
  admin?: AdminOptions | false
  /**
   * Cluster mode: a Redis URL, ioredis options, an ioredis client (`Redis`, or
   * `Cluster` for a Redis Cluster; yours to close), or a Redis Cluster's seeds
   * `{ clusterNodes }`. Redis 7 or newer. Unset: single node, in memory.
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
    /** The TCP address of a protocol's listener (`mqtt`, or an application's protocol), once ready. */
    gateAddress: (protocol: string) => AddressInfo | undefined
  }
}

/**
 * Adds the gate to a Fastify app: `app.gate`, the WebSocket route (through
 * @fastify/websocket, so the app's hooks run before the upgrade) and, with
 * `tcp`, a companion TCP server that starts on `onReady` and closes with the app.
 */
async function gate (app: FastifyInstance, opts: GatePluginOptions): Promise<void> {
  if (app.hasDecorator('gate')) throw new GateError.ALREADY_REGISTERED()
  const { directory, redis, cluster, mqtt, protocols, ...core } = opts
  if (cluster !== undefined && redis === undefined) throw new GateError.INVALID_OPTION('cluster', 'needs the redis option')
  const clustered = redis !== undefined ? normalizeClusterOptions(redis, cluster) : undefined
  // ioredis is loaded only in cluster mode: a single node never pays for it.
  const RedisDirectory = clustered !== undefined && directory === undefined ? (await import('../src/cluster/directory.js')).RedisDirectory : undefined
  const factory: DirectoryFactory | undefined = directory ??
    (RedisDirectory !== undefined ? (node, host) => new RedisDirectory(node, host, clustered!) : undefined)
  const instance = new Gate(core, app.log.child({ component: 'gate' }), factory)
  const options = instance.options
  // What the plugin itself does with the gate: admission and the shared timer (the app gets the Gate, its application face).
  const runtime: GateRuntime = instance.runtime
  // Every protocol and where it listens (leaf, MQTT, the application's), checked now.
  const served = servedProtocols(instance, mqtt, protocols)
  app.decorate('gate', instance)

  // The subprotocols an upgrade on a gate path selects from, by request: set by
  // the route's hook once the client offered one, read by ws's handleProtocols.
  const speaks = new WeakMap<IncomingMessage, readonly string[]>()
  const ownWebsocket = !app.hasDecorator('websocketServer')
  if (ownWebsocket) {
    // The gate closes its own sockets with 1012 in preClose (below), so the
    // plugin's default preClose (close with no code) is replaced.
    await app.register(websocket, {
      options: {
        maxPayload: options.maxMsgLen,
        // What one message may be held in while it arrives (see `maxMessageParts`).
        maxFragments: options.maxMessageParts,
        maxBufferedChunks: options.maxMessageParts + Math.ceil(options.maxMsgLen / 512),
        handleProtocols: (offers, request) => chooseSubprotocol(offers, speaks.get(request))
      },
      preClose: (done) => { done() }
    })
  }

  const listeners = new Map<string, TcpListener>()
  for (const s of served) {
    if (s.tcp !== undefined) listeners.set(s.protocol.name, new TcpListener(runtime, s.tcp, s.protocol))
  }
  app.decorate('gateTcpAddress', () => listeners.get('leaf')?.address() ?? undefined)
  app.decorate('gateAddress', (name: string) => listeners.get(name)?.address() ?? undefined)

  app.addHook('onReady', async () => {
    await instance.ready()
    for (const [name, listener] of listeners) {
      const address = await listener.listen()
      app.log.info({ protocol: name, address: address.address, port: address.port }, name === 'leaf' ? 'gate tcp listening' : `gate ${name} listening`)
    }
  })

  // Every HTTP connection holds a place in the gate's admission, within deadlines.
  const httpGuard = new HttpGuard(runtime, app.server)

  app.addHook('preClose', async () => {
    // Stop accepting before the drain: no new HTTP connection (so no upgrade), no
    // new TCP one. Under node:cluster the primary then hands new connections to
    // the other workers. (Fastify's own close of the server later finds it closed.)
    if (app.server.listening) app.server.close()
    const closed = [...listeners.values()].map(l => l.close())
    // HTTP connections still sending headers or idle go now, the rest once the drain and shutdownTimeout are over.
    httpGuard.shutdown(options.drainTime + options.shutdownTimeout)
    await instance.close()
    await Promise.all(closed)
  })

  // An upgrade takes its place before it happens: refused (503, or 429 past the
  // connect rate) while the client can still read an HTTP answer. The place is
  // handed to the connection, or given back when no upgrade follows.
  // ws can still refuse the handshake after the hooks (a malformed header: it
  // writes 400 and closes, and neither the handler nor a response hook runs), so
  // an upgrade's socket closing before the handler gives its place back;
  // `unwatch` stops that watch once the handler has the place.
  const upgrades = new WeakMap<IncomingMessage, { slot: Slot, unwatch?: () => void }>()
  const admitUpgrade = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const got = runtime.reserve(request.ip)
    if (got instanceof Slot) {
      const socket = request.raw.socket as Socket | undefined
      if (request.ws && socket !== undefined) {
        const closed = (): void => { runtime.release(got) }
        // Gone while the app's earlier hooks ran: no upgrade will follow.
        if (socket.destroyed) closed()
        socket.once('close', closed)
        upgrades.set(request.raw, { slot: got, unwatch: () => { socket.off('close', closed) } })
      } else {
        upgrades.set(request.raw, { slot: got })
      }
      return
    }
    const refusal = new REFUSALS[got]()
    if (refusal.statusCode === 429) void reply.header('retry-after', '1')
    await refuseUpgrade(reply, refusal)
  }
  // A protocol that declares subprotocols (MQTT: `mqtt`) gets only upgrades that
  // offer one: the others are refused with 400 before admission takes a place.
  const requireSubprotocol = (wanted: readonly string[]) => async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!request.ws) return
    if (selectSubprotocol(offeredSubprotocols(request.headers['sec-websocket-protocol']), wanted) !== undefined) {
      speaks.set(request.raw, wanted)
      return
    }
    await refuseUpgrade(reply, new GateError.SUBPROTOCOL(wanted.join(', ')))
  }
  const releaseUnused = async (request: FastifyRequest): Promise<void> => {
    const held = upgrades.get(request.raw)
    if (held !== undefined) runtime.release(held.slot)
  }

  for (const { protocol, path } of served) {
    if (path === undefined) continue
    const wanted = protocol.subprotocols ?? []
    const onRequest = wanted.length === 0 ? admitUpgrade : [requireSubprotocol(wanted), admitUpgrade]
    // Upgrades are governed by the gate's own admission (caps and connect rate), not by an HTTP request rate.
    app.get(path, { websocket: true, config: { rateLimit: false }, onRequest, onResponse: releaseUnused, onRequestAbort: releaseUnused }, (socket, request) => {
      if (ownWebsocket) releaseUpgrade(socket, request.raw.socket)
      const held = upgrades.get(request.raw)
      upgrades.delete(request.raw)
      held?.unwatch?.()
      attachWebSocket(runtime, socket, request.ip, held?.slot, protocol)
    })
  }

  if (opts.admin !== false) await app.register(adminPlugin, opts.admin ?? {})
}

/** The error an upgrade refused before it happened answers with, by reason. */
const REFUSALS: Record<Refusal, new () => FastifyError> = {
  full: GateError.FULL,
  'not-serving': GateError.FULL,
  'ip-limit': GateError.IP_LIMIT,
  'ip-rate': GateError.IP_RATE
}

/** Answers an upgrade with `err`'s status and code, before it happens (the client can still read HTTP). */
async function refuseUpgrade (reply: FastifyReply, err: FastifyError): Promise<void> {
  const { statusCode, code, message } = err
  await reply.code(statusCode!).send({ statusCode, code, error: STATUS_CODES[statusCode!], message })
}

/**
 * ws's `handleProtocols` (called when the client offered any): on a path whose
 * protocol declares subprotocols, the first of the client's offers it speaks
 * (the route's hook refused the upgrade if none); on every other path the first
 * offer, which is what ws selects without the option.
 */
function chooseSubprotocol (offers: Set<string>, speaks: readonly string[] | undefined): string | false {
  if (speaks === undefined) return offers.values().next().value ?? false
  return selectSubprotocol(offers, speaks) ?? false
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
  detachUpgradeResponse(socket)
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
export type { MqttOptions, ProtocolListener } from './listeners.js'

// The public API beside the plugin: what handlers, hooks and answers are made of.
export { Agent, type Transport } from '../src/agent.js'
export { CloseCode, type CloseCodeValue, type CloseReason } from '../src/close-codes.js'
export type { ClusterOptions, RedisClusterSeeds, RedisOption } from '../src/cluster/options.js'
export type { Decoded, Processor } from '../src/codec/processor.js'
export type { ProtobufOptions } from '../src/codec/protobuf.js'
export type { ClusterAnswer, ConnectionInfo, Delivery, GateStats, KickResult, ProtocolInfo, RoomMember, RoomMembers, RoomsPage, SettingsResult, UserConnections, UsersPage } from '../src/answers.js'
export { GateError } from '../src/errors.js'
export { Gate, type Authenticator, type ConnectHook, type DisconnectHook, type PresenceEvent, type PresenceHook, type RoomPushOptions } from '../src/gate.js'
export { OutboundMessage, type Framing } from '../src/codec/outbound.js'
export type { Credentials, Protocol, ProtocolPeer, ProtocolSession } from '../src/protocol/protocol.js'
export { ProtocolError } from '../src/protocol-error.js'
export type { KickTarget, RoomExcept } from '../src/operations/operation.js'
export type { AnyMessages, DefaultMessages, GateMessages, Handler, MessageBodies, MessageName, MessageOptions } from '../src/messages.js'
export type { CanJoin, CoreOptions, MultiLoginPolicy, TcpOptions } from '../src/options.js'
export { ReplyCode } from '../src/control/messages.js'
export { gateMetrics, metricsPlugin, type MetricsPluginOptions } from './metrics.js'
// [history] [session] docs/sessions.md
export type { BindOptions, Recovery } from '../src/history/history.js'
export type { HistoryOptions } from '../src/history/options.js'
export type { HistoryPage } from '../src/history/page.js'
export type { SessionOptions } from '../src/session/options.js'
export { SessionSettings } from '../src/session/settings.js'
export { MemorySessionStore, type SessionStore } from '../src/session/store.js'
