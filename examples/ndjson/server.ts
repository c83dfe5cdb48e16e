/**
 * A gate that speaks newline-delimited JSON on TCP port 3003 (NDJSON_PORT) beside
 * leaf on WebSocket: `Echo` answers with itself. Try it with `nc 127.0.0.1 3003`
 * and type `{"Echo":{"text":"hi"}}`.
 */
import { Type } from '@sinclair/typebox'
import Fastify, { type FastifyInstance } from 'fastify'
import gatePlugin from '../../plugins/gate.js'
import { ndjsonProtocol } from './protocol.js'

export async function buildNdjsonApp (port = Number(process.env.NDJSON_PORT ?? 3003)): Promise<FastifyInstance> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'info' } })
  await app.register(gatePlugin, {
    admin: false,
    protocols: [{ protocol: ndjsonProtocol(), tcp: { port, host: '127.0.0.1' } }]
  })
  app.gate.message('Echo', { schema: Type.Object({ text: Type.String() }) }, (msg, agent) => {
    agent.send('Echo', msg)
  })
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = await buildNdjsonApp()
  await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void app.close() })
}
