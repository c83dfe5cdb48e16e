/**
 * The SDK against the example app: its message map (from the example's own
 * schemas), a login hook that logs in and rejoins rooms, and SDK clients over
 * either transport and codec.
 */
import type { TestContext } from 'node:test'
import * as schemas from '../../examples/chat/messages.js'
import { tokenSigner } from '../../examples/chat/tokens.js'
import { createClient, LoginRefused, loadCodec, webSocket, type ClientOptions, type ClientState, type GateClient, type MessageBodies, type SessionHook } from '../../client/node.js'
import { tcp } from '../../client/tcp.js'
import { SECRET, type Chat } from '../example/helper.js'

export type ChatMessages = MessageBodies<typeof schemas>
export const sign = tokenSigner(SECRET)

/** Logs in as `uid` and rejoins `rooms()` on every (re)connect, as an application would. */
export function chatLogin (uid: string, rooms: () => string[] = () => []): SessionHook<ChatMessages> {
  return async (s) => {
    s.send('C2S_UserLogin', { token: uid === '' ? 'not-a-token' : sign(uid), login_plat: 1 })
    const answer = await s.next('S2C_UserLogin')
    if (answer.ret !== 1) throw new LoginRefused(answer.msg)
    if (rooms().length > 0) {
      s.send('C2S_UpdateWatchRoom', { rooms: rooms() })
      await s.next('S2C_UpdateWatchRoom')
    }
  }
}

export interface Addresses { http: string, ws: string, tcp: number }

export function addressesOf (chat: Chat): Addresses {
  const { port } = chat.app.server.address() as { port: number }
  return { http: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws`, tcp: chat.app.gateTcpAddress()!.port }
}

export type SdkClient = GateClient<ChatMessages> & { states: ClientState[] }

/** An SDK client of the example app (codec from `GET /gate/protocol`), closed after the test; `states` records every state. */
export async function sdkClient (t: TestContext, at: Addresses, transport: 'ws' | 'tcp', uid: string, opts: Partial<ClientOptions<ChatMessages>> & { rooms?: () => string[] } = {}): Promise<SdkClient> {
  const codec = await loadCodec(`${at.http}/gate/protocol`)
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
