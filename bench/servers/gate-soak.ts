/**
 * fastify-gate for the soak: the example chat app's messages and handlers
 * (`registerChat`) on a gate built as the example app builds it (JSON,
 * WebSocket and TCP on port 0, the admin API behind a token), with the limits
 * that a load from a handful of loopback addresses would otherwise hit switched
 * off (`SOAK_GATE_OPTIONS`, the one place to change them).
 */
import Fastify from 'fastify'
import { registerChat } from '../../examples/chat/handlers.js'
import { tokenVerifier } from '../../examples/chat/tokens.js'
import gatePlugin, { type GatePluginOptions } from '../../plugins/gate.js'
import { SECRET, serveGate } from './control.js'

const ADMIN_TOKEN = 'bench-admin-token'

/**
 * Every soak cycle is a new connection and a login, thousands per second from
 * a few addresses: the per-address caps and rates (defaults: 1,000
 * connections and 100 connects/s per IP, 100 messages/s per connection, a
 * failed-login rate per IP) must not bind, or the soak measures the limiters
 * instead of the gate. 0 disables each.
 */
export const SOAK_LIMITS_OFF = { maxConnPerIp: 0, connRatePerIp: 0, msgRate: 0, msgRatePerIp: 0, loginRatePerIp: 0 } satisfies GatePluginOptions

export const SOAK_GATE_OPTIONS: GatePluginOptions = {
  ...SOAK_LIMITS_OFF,
  tcp: { port: 0, host: '127.0.0.1' },
  encoding: 'json',
  maxConnNum: 1_000_000,
  idleTimeout: 600_000,
  admin: { tokens: [ADMIN_TOKEN] }
}

const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'warn' } })
await app.register(gatePlugin, SOAK_GATE_OPTIONS)
registerChat(app.gate, tokenVerifier(SECRET))
await app.listen({ port: 0, host: '127.0.0.1' })
serveGate(app, ADMIN_TOKEN)
