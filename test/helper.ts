import Fastify, { type FastifyInstance } from 'fastify'
import type { TestContext } from 'node:test'
import gatePlugin, { type GatePluginOptions } from '../plugins/gate.js'
import { TcpClient, Wire, WsClient } from './clients.js'

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
 */
export async function startGate (
  t: TestContext,
  opts: GatePluginOptions = {},
  setup?: (app: FastifyInstance) => void | Promise<void>
): Promise<Started> {
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? 'silent' } })
  await app.register(gatePlugin, { tcp: { port: 0 }, ...opts })
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

/** Resolves when `check` holds, polling; rejects after `ms`. For state that settles asynchronously. */
export async function until (check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}
