/**
 * fastify-gate as benchmarked: the example chat app (`examples/chat`), on port 0
 * for WebSocket and TCP, with its admin API (`/gate/push`, ...) and metrics,
 * behind a token, and the per-IP and message-rate limits off. With
 * `REDIS_URL`, a cluster node on that Redis.
 */
import { buildChatApp } from '../../examples/chat/app.js'
import { loadConfig } from '../../examples/chat/config.js'
import { SECRET, serveGate } from './control.js'

const ADMIN_TOKEN = 'bench-admin-token'

const config = loadConfig({
  ...process.env,
  HOST: '127.0.0.1',
  PORT: '0',
  GATE_TCP_PORT: '0',
  GATE_MQTT_PORT: '0',
  GATE_TOKEN_SECRET: SECRET,
  GATE_ADMIN_TOKEN: ADMIN_TOKEN,
  GATE_MAX_CONN: process.env.GATE_MAX_CONN ?? '1000000',
  GATE_IDLE_TIMEOUT: process.env.GATE_IDLE_TIMEOUT ?? '600000',
  // The load comes from one address at thousands of messages a second per
  // connection: the per-IP and per-connection limits must not bind, or the
  // benchmark measures the limiters (their own cost is bench/tools/hotpath.ts).
  GATE_MAX_CONN_PER_IP: process.env.GATE_MAX_CONN_PER_IP ?? '0',
  GATE_CONN_RATE_PER_IP: process.env.GATE_CONN_RATE_PER_IP ?? '0',
  GATE_MSG_RATE: process.env.GATE_MSG_RATE ?? '0',
  GATE_MSG_RATE_PER_IP: process.env.GATE_MSG_RATE_PER_IP ?? '0',
  GATE_HTTP_RATE_PER_IP: process.env.GATE_HTTP_RATE_PER_IP ?? '0'
})
const app = await buildChatApp(config)
await app.listen({ port: 0, host: '127.0.0.1' })
serveGate(app, ADMIN_TOKEN)
