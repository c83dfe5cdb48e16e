/**
 * The example chat gateway (what `npm start` runs), built in-process for the
 * attack tests, with clients that can come from any 127.0.0.x address.
 */
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import type { FastifyInstance } from 'fastify'
import { buildChatApp } from '../../examples/chat/app.js'
import { loadConfig } from '../../examples/chat/config.js'
import { tokenSigner } from '../../examples/chat/tokens.js'
import type { Agent } from '../../src/agent.js'
import { TcpClient, Wire, WsClient } from '../clients.js'
import { until } from '../helper.js'

export const SECRET = 'abuse-secret'
export const sign = tokenSigner(SECRET)
export type Client = WsClient | TcpClient

export interface Chat {
  app: FastifyInstance
  port: number
  tcpPort: number
  ws: (from?: string) => Promise<WsClient>
  tcp: (from?: string) => Promise<TcpClient>
  /** Connects and logs in as `uid`; returns the client and its server-side agent. */
  user: (uid: string, transport?: 'ws' | 'tcp', from?: string) => Promise<{ client: Client, agent: Agent }>
}

/** Starts the example app with these environment variables (docs/protocol.md section 6). */
export async function startChat (t: TestContext, env: Record<string, string> = {}): Promise<Chat> {
  const config = loadConfig({ GATE_TOKEN_SECRET: SECRET, PORT: '0', GATE_TCP_PORT: '0', GATE_MQTT_PORT: '0', GATE_ADMIN_TOKEN: 'admin', GATE_DRAIN_TIME: '0', ...env })
  const app = await buildChatApp(config, { logger: { level: process.env.LOG_LEVEL ?? 'silent' } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const { port } = app.server.address() as { port: number }
  const tcpPort = app.gateTcpAddress()!.port
  const wire = new Wire()
  const ws = async (from?: string): Promise<WsClient> => await WsClient.connect(`ws://127.0.0.1:${port}/ws`, wire, { localAddress: from })
  const tcp = async (from?: string): Promise<TcpClient> => await TcpClient.connect(tcpPort, wire, from)
  const user = async (uid: string, transport: 'ws' | 'tcp' = 'tcp', from?: string): Promise<{ client: Client, agent: Agent }> => {
    const client = transport === 'ws' ? await ws(from) : await tcp(from)
    client.send('C2S_UserLogin', { token: sign(uid), login_plat: 1 })
    assert.equal((await client.nextOf('S2C_UserLogin')).body.ret, 1)
    let agent: Agent | undefined
    await until(() => (agent = [...app.gate.agentsOf(uid)].find(a => !known.has(a))) !== undefined)
    known.add(agent!)
    return { client, agent: agent! }
  }
  const known = new Set<Agent>()
  return { app, port, tcpPort, ws, tcp, user }
}

/** `n` C2S_Message frames, length-prefixed for TCP, in one buffer: a pipelined burst in one write. */
export function burst (n: number, body: (i: number) => Record<string, unknown>): Buffer {
  const wire = new Wire()
  return Buffer.concat(Array.from({ length: n }, (_, i) => wire.frame(wire.encode('C2S_Message', body(i)))))
}
