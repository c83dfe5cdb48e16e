import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Uids, adminSchema, deliveryResponses } from './schemas.js'
import { SENDS_MESSAGE, sendBody, untyped } from './send.js'

/** `POST /push`: one message to every connection of these uids, on every node. */
const push: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/push', {
    config: { [SENDS_MESSAGE]: true },
    schema: adminSchema('pushToUids', 'Send a message to every connection of these uids', {
      body: sendBody({ uids: Uids }),
      response: deliveryResponses
    })
  }, async (request) => {
    const { uids, name, body } = request.body
    return await untyped(app.gate).pushToUids(uids, name, body)
  })
}

export default push
