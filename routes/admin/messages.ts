import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { MessageList } from '../../src/answers.js'
import { adminSchema, errors } from './schemas.js'

/**
 * `GET /messages`: the registered messages with the JSON Schema of their body,
 * so an admin client can check a body before it pushes it. Behind the token,
 * unlike `GET /protocol`: schemas say more about an application than clients need.
 */
const messages: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/messages', {
    schema: adminSchema('listMessages', 'Registered messages with the JSON Schema of their body', {
      response: { 200: MessageList, ...errors(401) }
    })
  }, async () => ({
    messages: app.gate.messages.list()
      .map(d => ({ id: d.id, name: d.name, needsLogin: d.needsLogin, handled: d.handler !== undefined, ...(d.schema === undefined ? {} : { schema: d.schema }) }))
      .sort((a, b) => a.id - b.id)
  }))
}

export default messages
