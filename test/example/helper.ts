import type { FastifyInstance } from 'fastify'
import type { TestContext } from 'node:test'
import protobuf from 'protobufjs'
import { buildChatApp, PROTO_PATH } from '../../examples/chat/app.js'
import { loadConfig } from '../../examples/chat/config.js'
import type { CloseReason } from '../../src/close-codes.js'
import { TcpClient, Wire, WsClient } from '../clients.js'

export const SECRET = 'test-secret'

/** The example's messages in the order of docs/protocol.md section 6 and chat.proto: their protobuf ids. */
export const CHAT_MESSAGES = ['C2S_UserHeartBeat', 'C2S_UserLogin', 'S2C_UserLogin', 'C2S_Message', 'S2C_Message', 'C2S_UpdateWatchRoom', 'S2C_UpdateWatchRoom', 'S2C_Error', 'S2C_Close', 'C2S_Online', 'S2C_Online', 'Gate_Subscribe', 'Gate_Unsubscribe', 'Gate_Request', 'Gate_Reply']

export type ChatClient = WsClient | TcpClient

/** A client `Wire` for the example app, written from the contract (ids in declaration order). */
export function chatWire (encoding: 'json' | 'protobuf'): Wire {
  return encoding === 'json'
    ? new Wire()
    : new Wire({ encoding: 'protobuf', root: new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true }), ids: Object.fromEntries(CHAT_MESSAGES.map((n, i) => [n, i])) })
}

export interface Chat {
  app: FastifyInstance
  /** Every disconnect the gate saw, in order. */
  closes: CloseReason[]
  ws: () => Promise<WsClient>
  tcp: () => Promise<TcpClient>
  connect: (transport: 'ws' | 'tcp') => Promise<ChatClient>
}

/** The example app (`buildChatApp`) on 127.0.0.1, ports 0, closed after the test. */
export async function startChat (t: TestContext, encoding: 'json' | 'protobuf', env: Record<string, string> = {}, logger: object = { level: process.env.LOG_LEVEL ?? 'silent' }): Promise<Chat> {
  const config = loadConfig({ GATE_TOKEN_SECRET: SECRET, PORT: '0', GATE_TCP_PORT: '0', GATE_MQTT_PORT: '0', GATE_ENCODING: encoding, GATE_ADMIN_TOKEN: 'admin', GATE_DRAIN_TIME: '0', ...env })
  const app = await buildChatApp(config, { logger })
  const closes: CloseReason[] = []
  app.gate.onDisconnect((_agent, reason) => { closes.push(reason) })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  const { port } = app.server.address() as { port: number }
  const wire = chatWire(encoding)
  const ws = async (): Promise<WsClient> => await WsClient.connect(`ws://127.0.0.1:${port}/ws`, wire)
  const tcp = async (): Promise<TcpClient> => await TcpClient.connect(app.gateTcpAddress()!.port, wire)
  return { app, closes, ws, tcp, connect: async (transport) => transport === 'ws' ? await ws() : await tcp() }
}
