/** The session tests' messages: the test messages, plus settings and logout. */
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { registerTestMessages } from '../helper.js'

/**
 * `Set { key, value }` sets a setting (answered `Echo { text: <settings JSON> }`, or
 * `Echo { text: "error <code>" }`); `Get {}` answers the settings the same way;
 * `Logout {}` unbinds (an explicit logout) and answers `Echo { text: "bye" }`.
 */
export function registerSessionMessages (app: FastifyInstance): void {
  registerTestMessages(app)
  app.gate
    .message('Set', { schema: Type.Object({ key: Type.String(), value: Type.String() }) }, (msg, agent) => {
      try {
        agent.settings.set(msg.key, msg.value)
        agent.send('Echo', { text: JSON.stringify(agent.settings.toJSON()) })
      } catch (err) {
        agent.send('Echo', { text: `error ${(err as { code: string }).code}` })
      }
    })
    .message('Get', { schema: Type.Object({}) }, (_msg, agent) => {
      agent.send('Echo', { text: JSON.stringify(agent.settings.toJSON()) })
    })
    .message('Logout', { schema: Type.Object({}) }, (_msg, agent) => {
      agent.unbind()
      agent.send('Echo', { text: 'bye' })
    })
}
