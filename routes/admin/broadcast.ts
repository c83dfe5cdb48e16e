import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { adminSchema, deliveryResponses } from './schemas.js'
import { SENDS_MESSAGE, sendBody, untyped } from './send.js'

/** `POST /broadcast`: one message to every open connection (or every logged-in one), on every node. */
const broadcast: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/broadcast', {
    config: { [SENDS_MESSAGE]: true },
    schema: adminSchema('broadcast', 'Send a message to every open connection', {
      body: sendBody({
        loggedInOnly: Type.Optional(Type.Boolean({ description: 'only connections with a bound uid; default false' }))
      }),
      response: deliveryResponses
    })
  }, async (request) => {
    const { name, body, loggedInOnly } = request.body
    return await untyped(app.gate).broadcast(name, body, { loggedInOnly })
  })
}

export default broadcast
