/**
 * Compile-time test of typed messages (`npm run test:types`, plain `tsc`): every
 * `@ts-expect-error` line must fail to compile, or tsc reports the directive as
 * unused. It is a program of its own, because the `GateMessages` augmentation below
 * is global to a program.
 */
import { Type } from '@sinclair/typebox'
import Fastify from 'fastify'
import gatePlugin, { type Agent, type MessageBodies } from '../../plugins/gate.js'

const schemas = {
  Ping: Type.Object({ n: Type.Integer() }),
  Pong: Type.Object({ n: Type.Integer(), at: Type.Optional(Type.Number()) })
}

declare module '../../plugins/gate.js' {
  interface GateMessages extends MessageBodies<typeof schemas> {}
}

const app = Fastify()
await app.register(gatePlugin, { admin: false })
const gate = app.gate

gate.message('Ping', { schema: schemas.Ping }, (msg, agent) => {
  const n: number = msg.n
  agent.send('Pong', { n })
  agent.send('Pong', { n, at: Date.now() })
  // @ts-expect-error a body of the wrong type
  agent.send('Pong', { n: 'x' })
  // @ts-expect-error a body without its required field
  agent.send('Pong', {})
  // @ts-expect-error a name that is not registered
  agent.send('Pang', { n })
})
gate.message('Pong', { schema: schemas.Pong })
// @ts-expect-error registering a name outside the message map
gate.message('Nope', {})

await gate.pushToUids(['alice'], 'Pong', { n: 1 })
// @ts-expect-error pushToUids: wrong body
await gate.pushToUids(['alice'], 'Pong', { n: '1' })
await gate.pushToRoom('lobby', 'Pong', { n: 1 })
// @ts-expect-error pushToRoom: wrong name
await gate.pushToRoom('lobby', 'Pung', { n: 1 })
await gate.broadcast('Ping', { n: 1 }, { loggedInOnly: true })
// @ts-expect-error broadcast: wrong body
await gate.broadcast('Ping', { m: 1 })

gate.onDisconnect((agent: Agent, reason) => {
  const uid: string | undefined = agent.uid
  const code: number = reason.code
  void uid
  void code
  // @ts-expect-error hooks get typed agents too
  agent.send('Ping', { n: 'x' })
})

// Room presence and the presence hooks are typed.
const roomPage = await gate.rooms(0, 10)
const firstRoom: { room: string, connections: number, uids: number } | undefined = roomPage.items[0]
const members = await gate.room('lobby')
const memberUid: string | undefined = members?.items[0]?.uid
gate.onPresence(event => {
  if (event.type === 'join' || event.type === 'leave') {
    const room: string = event.room
    const died: boolean = event.died
    void room
    void died
  } else {
    const uid: string = event.uid
    void uid
  }
  // @ts-expect-error no such event
  if (event.type === 'moved') throw new Error('no such event')
})
void firstRoom
void memberUid
