/**
 * fastify-gate as benchmarked: the example chat app (`examples/chat`), on port 0
 * for WebSocket and TCP, with its admin API (`/gate/push`, ...) behind a token.
 * With `REDIS_URL`, a cluster node on that Redis.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import { buildChatApp } from '../../examples/chat/app.js'
import { loadConfig, type ChatConfig } from '../../examples/chat/config.js'
import { registerChat } from '../../examples/chat/handlers.js'
import { tokenVerifier } from '../../examples/chat/tokens.js'
import gatePlugin from '../../plugins/gate.js'
import { SECRET, serveServer } from './control.js'

const ADMIN_TOKEN = 'bench-admin-token'

const config = loadConfig({
  ...process.env,
  HOST: '127.0.0.1',
  PORT: '0',
  GATE_TCP_PORT: '0',
  GATE_TOKEN_SECRET: SECRET,
  GATE_ADMIN_TOKEN: ADMIN_TOKEN,
  GATE_MAX_CONN: process.env.GATE_MAX_CONN ?? '1000000',
  GATE_IDLE_TIMEOUT: process.env.GATE_IDLE_TIMEOUT ?? '600000'
})

/** The example app with the plugin's `redis` option (the example does not pass REDIS_URL to it). */
async function buildClusterNode (config: ChatConfig): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } })
  await app.register(gatePlugin, {
    tcp: false,
    maxConnNum: config.maxConn,
    idleTimeout: config.idleTimeout,
    nodeId: config.nodeId,
    admin: { tokens: [config.adminToken] },
    redis: config.redisUrl
  })
  registerChat(app.gate, tokenVerifier(config.tokenSecret))
  return app
}

const app = config.redisUrl === undefined ? await buildChatApp(config) : await buildClusterNode(config)
await app.listen({ port: 0, host: '127.0.0.1' })
serveServer({
  port: (app.server.address() as AddressInfo).port,
  tcpPort: app.gateTcpAddress()?.port,
  path: app.gate.options.path,
  adminHeaders: { authorization: `Bearer ${ADMIN_TOKEN}` },
  adminApi: 'the admin API (routes/admin)'
}, () => app.gate.connectionCount)
