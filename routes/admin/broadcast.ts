import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { adminSchema, deliveryResponses, messageFields } from './schemas.js'

/** `POST /broadcast`: one message to every open connection (or every logged-in one), on every node. */
const broadcast: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/broadcast', {
    schema: adminSchema('Send a message to every open connection', {
      body: Type.Object({
        ...messageFields,
        loggedInOnly: Type.Optional(Type.Boolean({ description: 'only connections with a bound uid; default false' }))
      }),
      response: deliveryResponses
    })
  }, async (request) => {
    const { name, body, loggedInOnly } = request.body
    return await app.gate.broadcast(name, body, { loggedInOnly })
  })
}

export default broadcast
