/**
 * Compile-time test of the client SDK's typed messages: the same schemas object
 * types the server (`MessageBodies`) and `client.send` / `client.on`. Every
 * `@ts-expect-error` line must fail to compile.
 */
import { Type } from '@sinclair/typebox'
import { createClient, LoginRefused, webSocket, type MessageBodies } from '../../client/index.js'

export const schemas = {
  Say: Type.Object({ room: Type.String(), text: Type.String() }),
  Said: Type.Object({ from: Type.String(), text: Type.String(), at: Type.Optional(Type.Number()) }),
  Login: Type.Object({ token: Type.String() }),
  Welcome: Type.Object({ uid: Type.String() }),
  notASchema: 42
}
type Chat = MessageBodies<typeof schemas>

const client = createClient<Chat>({
  transport: webSocket('ws://127.0.0.1:3000/ws'),
  heartbeat: { name: 'Say', body: () => ({ room: 'x', text: '' }) },
  login: async (s) => {
    s.send('Login', { token: 't' })
    const w = await s.next('Welcome')
    const uid: string = w.uid
    if (uid === '') throw new LoginRefused()
    // @ts-expect-error a login body of the wrong type
    s.send('Login', { token: 1 })
  }
})

client.send('Say', { room: 'lobby', text: 'hi' })
// @ts-expect-error a body without its required field
client.send('Say', { room: 'lobby' })
// @ts-expect-error a body of the wrong type
client.send('Say', { room: 'lobby', text: 5 })
// @ts-expect-error a name that is not in the map
client.send('Shout', { room: 'lobby', text: 'hi' })
// @ts-expect-error not a schema, so not a message
client.send('notASchema', 42)

client.on('Said', msg => {
  const from: string = msg.from
  const at: number | undefined = msg.at
  // @ts-expect-error a field the message does not have
  void msg.room
  void from
  void at
})
// @ts-expect-error listening to a name that is not in the map
client.on('Sad', () => {})

createClient<Chat>({
  transport: webSocket('ws://x'),
  // @ts-expect-error a heartbeat whose body does not fit its message
  heartbeat: { name: 'Say', body: () => ({ room: 1 }) }
})

// Without a map, any name and body compile.
const loose = createClient({ transport: webSocket('ws://x') })
loose.send('Anything', { at: 'all' })
loose.on('Whatever', (body: unknown) => { void body })

// Resume: the login hook gets the position and may return the login answer.
export const ResumeSchemas = {
  Login: Type.Object({ token: Type.String(), resume_pos: Type.Optional(Type.String()) }),
  Welcome: Type.Object({ uid: Type.String(), recovered: Type.Optional(Type.Boolean()), gate_pos: Type.Optional(Type.String()) })
}
const resuming = createClient<MessageBodies<typeof ResumeSchemas>>({
  transport: webSocket('ws://x'),
  resume: { field: 'gate_pos', store: { get: () => null, set: () => {} } },
  login: async (s) => {
    const pos: string | undefined = s.position
    s.send('Login', { token: 't', resume_pos: pos })
    return await s.next('Welcome')
  }
})
const position: string = resuming.position
resuming.onResume(r => { const b: boolean = r.recovered; const p: string = r.position; void b; void p; void position })
createClient<MessageBodies<typeof ResumeSchemas>>({
  transport: webSocket('ws://x'),
  // @ts-expect-error a login result whose recovered is not a boolean
  login: async () => ({ recovered: 'yes' })
})
// @ts-expect-error a position store without set
createClient({ transport: webSocket('ws://x'), resume: { store: { get: () => '' } } })
