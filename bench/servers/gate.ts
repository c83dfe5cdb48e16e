/**
 * fastify-gate as benchmarked: the example chat app (`examples/chat`), on port 0
 * for WebSocket and TCP, with its admin API (`/gate/push`, ...) and metrics,
 * behind a token, and the per-IP and message-rate limits off. With
 * `REDIS_URL`, a cluster node on that Redis.
 */
import { buildChatApp } from '../../examples/chat/app.js'
import { loadConfig } from '../../examples/chat/config.js'
import { SECRET, serveGate } from './control.js'
import { benchGateEnv } from './gate-env.js'

const ADMIN_TOKEN = 'bench-admin-token'

const config = loadConfig(benchGateEnv(process.env, SECRET, ADMIN_TOKEN))
const app = await buildChatApp(config)
await app.listen({ port: 0, host: '127.0.0.1' })
serveGate(app, ADMIN_TOKEN)
