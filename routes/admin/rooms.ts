import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { AgentId, Room, Uid, adminSchema, deliveryResponses } from './schemas.js'
import { SENDS_MESSAGE, sendBody, untyped } from './send.js'

/** Who a room push skips (except-the-sender): a connection id, every connection of a uid, or both. */
const Except = Type.Object({
  agent: Type.Optional(AgentId),
  uid: Type.Optional(Uid)
}, { additionalProperties: false, description: 'skip this connection and/or every connection of this uid, on every node' })

/** `POST /rooms/:room/push`: one message to every member of the room, on every node. */
const rooms: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/rooms/:room/push', {
    config: { [SENDS_MESSAGE]: true },
    schema: adminSchema('pushToRoom', 'Send a message to every member of a room', {
      params: Type.Object({ room: Room }),
      body: sendBody({ except: Type.Optional(Except) }),
      response: deliveryResponses
    })
  }, async (request) => {
    const { name, body, except } = request.body
    return await untyped(app.gate).pushToRoom(request.params.room, name, body, except === undefined ? {} : { except })
  })
}

export default rooms
