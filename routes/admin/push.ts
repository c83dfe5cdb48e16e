import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Uids, adminSchema, deliveryResponses, messageFields } from './schemas.js'

/** `POST /push`: one message to every connection of these uids, on every node. */
const push: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/push', {
    schema: adminSchema('Send a message to every connection of these uids', {
      body: Type.Object({ uids: Uids, ...messageFields }),
      response: deliveryResponses
    })
  }, async (request) => {
    const { uids, name, body } = request.body
    return await app.gate.pushToUids(uids, name, body)
  })
}

export default push
