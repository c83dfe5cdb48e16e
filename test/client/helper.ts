/**
 * The SDK against the example app: its message map (from the example's own
 * schemas), a login hook that logs in and rejoins rooms, and SDK clients over
 * either transport and codec.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { TestContext } from 'node:test'
import { buildChatApp } from '../../examples/chat/app.js'
import { loadConfig } from '../../examples/chat/config.js'
import * as schemas from '../../examples/chat/messages.js'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { createClient, LoginRefused, loadCodec, webSocket, type ClientOptions, type ClientState, type GateClient, type LoginHook, type MessageBodies } from '../../client/node.js'
import { tcp } from '../../client/tcp.js'
import { SECRET, type Chat } from '../example/helper.js'
import { nodeArgs } from '../node-script.js'
import { freePort } from '../ports.js'
export { freePort }

export type ChatMessages = MessageBodies<typeof schemas>
export const sign = tokenSigner(SECRET)

/**
 * Logs in as `uid` and rejoins `rooms()` on every (re)connect, as an application
 * would; with resume on, it sends the position and returns the login answer.
 */
export function chatLogin (uid: string, rooms: () => string[] = () => []): LoginHook<ChatMessages> {
  return async (s) => {
    s.send('C2S_UserLogin', { token: uid === '' ? 'not-a-token' : sign(uid), login_plat: 1, resume_pos: s.position })
    const answer = await s.next('S2C_UserLogin')
    if (answer.ret !== 1) throw new LoginRefused(answer.msg)
    if (rooms().length > 0) {
      s.send('C2S_UpdateWatchRoom', { rooms: rooms() })
      await s.next('S2C_UpdateWatchRoom')
    }
    return answer
  }
}

export interface Addresses { http: string, ws: string, tcp: number }

/** Free ports for a node of the example app (HTTP and WebSocket, raw TCP): to start, kill and start again on the same addresses. */
export async function freeAddresses (): Promise<Addresses> {
  const port = await freePort()
  return { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws`, tcp: await freePort() }
}

export function addressesOf (chat: Chat): Addresses {
  const { port } = chat.app.server.address() as { port: number }
  return { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws`, tcp: chat.app.gateTcpAddress()!.port }
}

export type SdkClient = GateClient<ChatMessages> & { states: ClientState[] }

/** An SDK client of the example app (codec from `GET /gate/protocol`), closed after the test; `states` records every state. */
export async function sdkClient (t: TestContext, at: Addresses, transport: 'ws' | 'tcp', uid: string, opts: Partial<ClientOptions<ChatMessages>> & { rooms?: () => string[] } = {}): Promise<SdkClient> {
  const codec = opts.codec ?? await loadCodec(`${at.http}/gate/protocol`)
  const client = createClient<ChatMessages>({
    transport: transport === 'ws' ? webSocket(at.ws) : tcp({ port: at.tcp }),
    codec,
    login: chatLogin(uid, opts.rooms),
    ...opts
  }) as SdkClient
  client.states = []
  client.onState(s => client.states.push(s))
  t.after(() => client.close())
  return client
}

/** The example app on given ports (0: any), closed after the test: for restarts on the same address. */
export async function chatOn (t: TestContext, encoding: 'json' | 'protobuf', port: number, tcpPort: number, env: Record<string, string> = {}): Promise<Chat> {
  const config = loadConfig({ GATE_TOKEN_SECRET: SECRET, PORT: String(port), GATE_TCP_PORT: String(tcpPort), GATE_MQTT_PORT: 'off', GATE_ENCODING: encoding, GATE_ADMIN_TOKEN: 'admin', GATE_DRAIN_TIME: '0', ...env })
  const app = await buildChatApp(config, { logger: { level: process.env.LOG_LEVEL ?? 'silent' } })
  const closes: Chat['closes'] = []
  app.gate.onDisconnect((_agent, reason) => { closes.push(reason) })
  await app.listen({ port, host: '127.0.0.1' })
  t.after(() => app.close())
  return { app, closes, ws: notUsed, tcp: notUsed, connect: notUsed }
}

const notUsed = async (): Promise<never> => { throw new Error('use the SDK') }

/** Resolves when the client reaches `status` (now or later); rejects after `ms`. */
export async function reach (client: SdkClient, status: ClientState['status'], ms = 10000): Promise<ClientState> {
  if (client.state.status === status) return client.state
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`client never reached ${status}; states: ${JSON.stringify(client.states)}`)) }, ms)
    const off = client.onState(s => {
      if (s.status !== status) return
      clearTimeout(timer)
      off()
      resolve(s)
    })
  })
}

const server = fileURLToPath(new URL('../../examples/chat/server.ts', import.meta.url))

/** `npm start`'s server as a process on fixed ports, killed after the test; resolves once it logs "chat gateway ready". */
export async function startServer (t: TestContext, at: Addresses, encoding: string, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, nodeArgs(server), {
    env: { ...process.env, PORT: new URL(at.http).port, GATE_TCP_PORT: String(at.tcp), GATE_MQTT_PORT: 'off', GATE_ENCODING: encoding, GATE_TOKEN_SECRET: SECRET, GATE_ADMIN_TOKEN: 'admin', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit']
  })
  t.after(() => { child.kill('SIGKILL') })
  let out = ''
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('chat gateway ready')) resolve()
    })
    child.once('exit', code => reject(new Error(`the server exited (${String(code)}): ${out}`)))
  })
  return child
}

/** Pushes `m1`, `m2`, … through `push`, one every `period` ms (a push awaited before the next), until stopped. */
export function pusher (push: (content: string) => Promise<unknown>, period = 25): { sent: () => number, stop: () => Promise<void> } {
  let sent = 0
  const state = { stopped: false }
  const loop = (async () => {
    while (!state.stopped) {
      await push(`m${++sent}`)
      await new Promise(resolve => setTimeout(resolve, period))
    }
  })()
  return { sent: () => sent, stop: async () => { state.stopped = true; await loop } }
}

/** The offset of a history position (`"<epoch>:<offset>"`). */
export const offsetOf = (pos: string): number => Number(pos.slice(pos.lastIndexOf(':') + 1))
